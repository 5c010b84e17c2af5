//! One module per resource and data source.

pub mod compliance_report;
pub mod credential;
pub mod credential_secret;
pub mod rotation_policy;
