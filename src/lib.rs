//! terraform-provider-sips: a Terraform and OpenTofu provider that keeps SIPS
//! partner credentials in secrets managers and plans their rotation.
//!
//! Requests flow from `plugin` (go-plugin transport) through `protocol`
//! (tfplugin5/6 adaptors) and `framework` (schema, plan rules, dispatch) to
//! `resources`, which use `stores`. No module imports one above it.

pub mod audit;
pub mod docs;
pub mod framework;
pub mod logging;
pub mod plugin;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod rotation;
pub mod secret;
pub mod stores;
pub mod value;
pub mod vendor;
