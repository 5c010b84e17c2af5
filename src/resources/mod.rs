//! One module per resource and data source.

pub mod credential;
pub mod rotation_policy;
