//! The error type of the go-plugin transport.

use std::io;

/// A failure to start or run the plugin server.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The process was started by something other than a plugin host. The
    /// message is written for a person who ran the binary by hand.
    #[error(
        "this binary is a Terraform/OpenTofu provider plugin: run it through `terraform` or \
         `tofu` (or start it with --debug), not directly"
    )]
    MissingMagicCookie,

    #[error(
        "no protocol version in common: the plugin host offers {offered:?}, this provider supports {supported:?}"
    )]
    NoCommonVersion {
        offered: String,
        supported: Vec<u32>,
    },

    #[error("invalid {variable}: {value:?} contains no protocol version")]
    InvalidVersionList {
        variable: &'static str,
        value: String,
    },

    #[error("invalid {variable}: {value:?} is not a port number")]
    InvalidPort {
        variable: &'static str,
        value: String,
    },

    #[error("no free TCP port on 127.0.0.1 between {min} and {max}")]
    NoFreePort { min: u16, max: u16 },

    #[error(
        "PLUGIN_CLIENT_CERT is not set: the plugin host must enable automatic mutual TLS \
         (Terraform and OpenTofu do)"
    )]
    MissingClientCert,

    #[error("invalid PLUGIN_CLIENT_CERT: no PEM certificate found")]
    InvalidClientCert(#[source] rustls_pki_types::pem::Error),

    #[error("failed to generate the server certificate")]
    ServerCert(#[source] rcgen::Error),

    #[error("failed to build the TLS server configuration")]
    TlsConfig(#[source] rustls::Error),

    #[error("failed to {action}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("failed to encode the reattach configuration")]
    ReattachJson(#[source] serde_json::Error),

    #[error("the gRPC server failed")]
    Serve(#[source] tonic::transport::Error),
}

impl PluginError {
    pub(crate) fn io(action: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { action, source }
    }
}
