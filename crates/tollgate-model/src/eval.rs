//! Evaluation gates (filled in by the evaluation runner).
