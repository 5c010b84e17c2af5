//! cty values and types as Terraform exchanges them, with msgpack and JSON codecs.
//!
//! Values are untyped trees; the codecs take the schema's [`Type`] alongside,
//! because the wire formats depend on it (a set and a list encode alike, a
//! dynamic position carries its own type).

mod access;
mod compare;
mod encode;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod type_json;
mod types;

pub use encode::EncodeError;
pub use path::{Path, PathStep};
pub use type_json::TypeJsonError;
pub use types::{Number, Type, Value};
