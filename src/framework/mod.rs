//! A small provider framework, free of protocol versions: schemas,
//! diagnostics, the resource traits, and Terraform core's plan rules.

pub mod diag;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod server;
pub mod validate;

pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use resource::*;
pub use schema::{Attribute, Block, IntBetween, NestedBlock, Nesting, OneOf, Schema, Validator};
pub use server::{Dynamic, ProviderServer, RawState};
