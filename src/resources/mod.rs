//! One module per resource and data source.

pub mod rotation_policy;
