//! The go-plugin start-up handshake: magic cookie, protocol version
//! negotiation, listener port and the line announced on stdout.
//!
//! The server listens on TCP on 127.0.0.1 rather than on a unix socket. TCP
//! works on every platform Terraform runs on (go-plugin itself uses TCP on
//! Windows), honours the `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` range the host
//! sends, and leaves no socket file behind when the host kills the process.
//! Any local process can reach the port, which is why mutual TLS is mandatory
//! (see `tls.rs`). Debug mode, which has no TLS, uses a unix socket in a
//! private directory instead.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::PluginError;

/// Name of the variable the plugin host sets to prove it launched the process.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Value of [`MAGIC_COOKIE_KEY`] shared by Terraform and OpenTofu.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Comma list of the plugin protocol versions the host can speak.
pub const PROTOCOL_VERSIONS_VAR: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// Comma list that narrows the versions this provider offers, so that a test
/// can force protocol 5 or 6 with a host that speaks both.
pub const PROVIDER_VERSIONS_VAR: &str = "SIPS_PLUGIN_PROTOCOL_VERSIONS";
pub const MIN_PORT_VAR: &str = "PLUGIN_MIN_PORT";
pub const MAX_PORT_VAR: &str = "PLUGIN_MAX_PORT";

const DEFAULT_MIN_PORT: u16 = 10000;
const DEFAULT_MAX_PORT: u16 = 25000;

/// Version of the go-plugin handshake itself (the first field of the line).
const CORE_PROTOCOL_VERSION: u32 = 1;

/// Checks that a plugin host started this process.
pub fn check_magic_cookie(cookie: Option<&str>) -> Result<(), PluginError> {
    match cookie {
        Some(MAGIC_COOKIE_VALUE) => Ok(()),
        _ => Err(PluginError::MissingMagicCookie),
    }
}

/// Picks the highest protocol version that both sides support.
///
/// `offered` is the host's `PLUGIN_PROTOCOL_VERSIONS`. Entries that are not
/// numbers are skipped, as go-plugin does. Without the variable the provider
/// uses its own highest version, which is what go-plugin servers fall back to.
/// `narrowed` is [`PROVIDER_VERSIONS_VAR`]; when set it must name at least one
/// version.
pub fn negotiate_version(
    supported: &[u32],
    offered: Option<&str>,
    narrowed: Option<&str>,
) -> Result<u32, PluginError> {
    let mut candidates = supported.to_vec();
    if let Some(narrowed) = narrowed {
        let allowed = parse_version_list(narrowed);
        if allowed.is_empty() {
            return Err(PluginError::InvalidVersionList {
                variable: PROVIDER_VERSIONS_VAR,
                value: narrowed.to_owned(),
            });
        }
        candidates.retain(|version| allowed.contains(version));
    }

    if let Some(offered) = offered {
        let host_versions = parse_version_list(offered);
        candidates.retain(|version| host_versions.contains(version));
    }

    candidates
        .into_iter()
        .max()
        .ok_or_else(|| PluginError::NoCommonVersion {
            offered: offered.unwrap_or("").to_owned(),
            supported: supported.to_vec(),
        })
}

fn parse_version_list(list: &str) -> Vec<u32> {
    list.split(',')
        .filter_map(|entry| {
            let entry = entry.trim();
            let version = entry.parse().ok();
            if version.is_none() && !entry.is_empty() {
                tracing::debug!(entry, "skipping a protocol version that is not a number");
            }
            version
        })
        .collect()
}

/// Reads the port range from `PLUGIN_MIN_PORT` and `PLUGIN_MAX_PORT`.
pub fn port_range(min: Option<&str>, max: Option<&str>) -> Result<(u16, u16), PluginError> {
    let min = parse_port(MIN_PORT_VAR, min, DEFAULT_MIN_PORT)?;
    let max = parse_port(MAX_PORT_VAR, max, DEFAULT_MAX_PORT)?;
    Ok((min, max))
}

fn parse_port(
    variable: &'static str,
    value: Option<&str>,
    default: u16,
) -> Result<u16, PluginError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(value) => value.parse().map_err(|_| PluginError::InvalidPort {
            variable,
            value: value.to_owned(),
        }),
    }
}

/// Binds the first free TCP port of the range on 127.0.0.1, scanning upwards
/// from `min` like go-plugin. Must run inside the tokio runtime.
pub fn bind_loopback(min: u16, max: u16) -> Result<tokio::net::TcpListener, PluginError> {
    for port in min..=max {
        let Ok(listener) = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) else {
            continue;
        };
        listener
            .set_nonblocking(true)
            .map_err(PluginError::io("make the listener non-blocking"))?;
        return tokio::net::TcpListener::from_std(listener)
            .map_err(PluginError::io("register the listener with tokio"));
    }
    Err(PluginError::NoFreePort { min, max })
}

/// The transport named in the handshake line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Tcp,
    Unix,
}

impl Network {
    fn as_str(self) -> &'static str {
        match self {
            Network::Tcp => "tcp",
            Network::Unix => "unix",
        }
    }
}

/// Formats the handshake line without its trailing newline.
///
/// Terraform 1.0.3 splits the line into exactly six fields and decodes the
/// certificate with Go's unpadded standard base64, so a padded certificate
/// fails whenever its DER length is not a multiple of three.
pub fn handshake_line(
    protocol_version: u32,
    network: Network,
    address: &str,
    server_cert_der: &[u8],
) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{protocol_version}|{}|{address}|grpc|{}",
        network.as_str(),
        STANDARD_NO_PAD.encode(server_cert_der)
    )
}

/// Writes the handshake line for a TCP listener to stdout and flushes it.
pub fn announce(
    protocol_version: u32,
    address: SocketAddr,
    server_cert_der: &[u8],
) -> Result<(), PluginError> {
    let line = handshake_line(
        protocol_version,
        Network::Tcp,
        &address.to_string(),
        server_cert_der,
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(PluginError::io("write the handshake line to stdout"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_cookie_accepts_exact_value() {
        assert!(check_magic_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
    }

    #[test]
    fn magic_cookie_rejects_missing_or_wrong() {
        assert!(matches!(
            check_magic_cookie(None),
            Err(PluginError::MissingMagicCookie)
        ));
        assert!(matches!(
            check_magic_cookie(Some("")),
            Err(PluginError::MissingMagicCookie)
        ));
        assert!(matches!(
            check_magic_cookie(Some(&MAGIC_COOKIE_VALUE[1..])),
            Err(PluginError::MissingMagicCookie)
        ));
    }

    /// Case name, offered versions, narrowing list, expected version.
    type NegotiationCase = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<u32>,
    );

    #[test]
    fn negotiation_table() {
        let cases: &[NegotiationCase] = &[
            ("five-six", Some("5,6"), None, Some(6)),
            ("six-five", Some("6,5"), None, Some(6)),
            ("six-only", Some("6"), None, Some(6)),
            ("five-only", Some("5"), None, Some(5)),
            ("spaces", Some(" 5 , 6 "), None, Some(6)),
            ("too-old", Some("4"), None, None),
            ("garbage", Some("x,,y"), None, None),
            ("garbage-mixed", Some("abc,5"), None, Some(5)),
            ("empty", Some(""), None, None),
            ("unset", None, None, Some(6)),
            ("narrowed-to-five", Some("5,6"), Some("5"), Some(5)),
            ("narrowed-to-six", Some("6,5"), Some("6"), Some(6)),
            ("narrowed-both", Some("5,6"), Some("6,5"), Some(6)),
            ("narrowed-unset-offer", None, Some("5"), Some(5)),
            ("narrowed-no-overlap", Some("6"), Some("5"), None),
            ("narrowed-unsupported", Some("5,6"), Some("7"), None),
        ];
        for (name, offered, narrowed, expected) in cases {
            let result = negotiate_version(&[5, 6], *offered, *narrowed);
            assert_eq!(result.ok(), *expected, "case {name}");
        }
    }

    #[test]
    fn negotiation_rejects_garbage_narrowing() {
        let result = negotiate_version(&[5, 6], Some("5,6"), Some("five"));
        assert!(matches!(
            result,
            Err(PluginError::InvalidVersionList { .. })
        ));
    }

    #[test]
    fn negotiation_error_names_both_sides() {
        let message = negotiate_version(&[5, 6], Some("4"), None)
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"4\""), "{message}");
        assert!(message.contains("[5, 6]"), "{message}");
    }

    #[test]
    fn handshake_line_has_six_fields() {
        let line = handshake_line(6, Network::Tcp, "127.0.0.1:10000", &[1, 2, 3, 4]);
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields,
            ["1", "6", "tcp", "127.0.0.1:10000", "grpc", "AQIDBA"]
        );
    }

    #[test]
    fn handshake_line_names_unix_network() {
        let line = handshake_line(5, Network::Unix, "/tmp/x/plugin.sock", &[0xff]);
        assert_eq!(line, "1|5|unix|/tmp/x/plugin.sock|grpc|/w");
    }

    #[test]
    fn handshake_certificate_has_no_padding() {
        for length in 300..303 {
            let der = vec![0x30; length];
            let line = handshake_line(6, Network::Tcp, "127.0.0.1:1", &der);
            let encoded = line.rsplit('|').next().unwrap();
            assert!(!encoded.contains('='), "length {length}: {encoded}");
            let decoded = STANDARD_NO_PAD.decode(encoded).unwrap();
            assert_eq!(decoded, der, "length {length}");
        }
    }

    #[test]
    fn port_range_defaults() {
        assert_eq!(port_range(None, None).unwrap(), (10000, 25000));
        assert_eq!(port_range(Some(""), Some(" ")).unwrap(), (10000, 25000));
    }

    #[test]
    fn port_range_reads_values() {
        assert_eq!(
            port_range(Some("12000"), Some("12010")).unwrap(),
            (12000, 12010)
        );
    }

    #[test]
    fn port_range_rejects_non_numbers() {
        assert!(matches!(
            port_range(Some("low"), None),
            Err(PluginError::InvalidPort { .. })
        ));
        assert!(matches!(
            port_range(None, Some("70000")),
            Err(PluginError::InvalidPort { .. })
        ));
    }

    #[tokio::test]
    async fn bind_skips_busy_port() {
        let busy = bind_loopback(20000, 25000).unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let next = bind_loopback(busy_port, busy_port.saturating_add(50)).unwrap();
        assert_ne!(next.local_addr().unwrap().port(), busy_port);
        assert!(next.local_addr().unwrap().ip().is_loopback());
    }

    #[tokio::test]
    async fn bind_reports_exhausted_range() {
        let busy = bind_loopback(20000, 25000).unwrap();
        let port = busy.local_addr().unwrap().port();
        let result = bind_loopback(port, port);
        assert!(matches!(result, Err(PluginError::NoFreePort { .. })));
    }

    #[test]
    fn bind_rejects_inverted_range() {
        // An empty range binds nothing; the error names the range.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let result = bind_loopback(20010, 20000);
        assert!(matches!(
            result,
            Err(PluginError::NoFreePort {
                min: 20010,
                max: 20000
            })
        ));
    }
}
