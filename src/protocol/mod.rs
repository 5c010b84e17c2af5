//! Terraform plugin protocol layer: the only module that uses the generated protobuf types.
//!
//! Everything outside `protocol` works with framework types, so the same resource code serves
//! protocol versions 5 and 6.

pub mod generated;
