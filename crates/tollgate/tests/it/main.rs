//! Integration tests of the library: data-driven check cases, the one-scan proof, sources and
//! bad input. One test binary (see STYLE.md).

mod cases;
mod gx_conformance;
mod scans;
mod sources;
