//! terraform-provider-sips: a Terraform and OpenTofu provider that keeps SIPS
//! partner credentials in secrets managers and plans their rotation.
//!
//! Requests flow from `plugin` (go-plugin transport) through `protocol`
//! (tfplugin5/6 adaptors) and `framework` (schema, plan rules, dispatch) to
//! `resources`, which use `stores`. No module imports one above it.

pub mod plugin;
