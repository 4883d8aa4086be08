//! tollgate-data: checks computed with Apache DataFusion.
//!
//! Sources (files, globs, partitioned directories) are registered behind a scan-counting
//! provider; each suite's checks declare metrics ([`metric::Metric`]), which are deduplicated
//! and computed in one aggregate query per suite; checks judge the values; failing row-level
//! checks get a bounded second query for their sample rows. This crate never prints.
#![deny(missing_docs)]

pub mod ballista;
pub mod check;
pub mod diff;
pub mod drift;
pub mod error;
pub mod jsonschema;
pub mod kl;
mod memory;
pub mod metric;
pub mod perturb;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod profile;
pub mod progress;
pub mod run;
pub mod sketch;
pub mod source;
pub mod sql;
pub mod udf;
pub mod value;
pub mod write;

pub use error::{DataError, Result};
pub use run::{Engine, EngineOptions, Prepared};
