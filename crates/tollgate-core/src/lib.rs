//! tollgate-core: the shared vocabulary of tollgate.
//!
//! Plan declarations decoded from YAML with positions ([`plan`]), the check catalogue
//! ([`catalog`]), findings and results ([`finding`]) and diagnostics ([`diag`]).
//! This crate does no I/O beyond parsing text it is given, and knows no query engine.
#![deny(missing_docs)]

pub mod catalog;
pub mod diag;
pub mod finding;
pub mod gx;
pub mod plan;
pub mod progress;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics};
pub use finding::{Finding, RunReport, SampleRow, Severity, Status, Summary, TestKind, TestResult};
pub use plan::{Bound, CheckDecl, CheckKind, PgSourceDecl, Plan, Scalar, SourceDecl, SuiteDecl};
