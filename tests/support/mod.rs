//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod keyvault;
pub mod moto;
pub mod plugin_client;
pub mod terraform;
