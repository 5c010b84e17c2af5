//! One module per resource and data source.

pub mod compliance_report;
pub mod credential;
pub mod rotation_policy;
