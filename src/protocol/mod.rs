//! The only module that uses generated protobuf types: thin adaptors from
//! tfplugin5 and tfplugin6 to the protocol-free framework.

pub mod convert;
pub mod generated;
mod service;
pub mod v5;
pub mod v6;

use std::sync::atomic::{AtomicU64, Ordering};

/// Largest gRPC message accepted or sent. Terraform itself allows 256 MiB;
/// 64 MiB covers any state this provider writes.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Opens the span that every RPC runs in. The field names are fixed so that
/// logs of all RPCs can be filtered the same way.
pub fn rpc_span(rpc: &str, resource_type: &str) -> tracing::Span {
    static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);
    let request_id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    tracing::info_span!(
        "rpc",
        tf_rpc = rpc,
        tf_resource_type = resource_type,
        tf_req_id = request_id
    )
}
