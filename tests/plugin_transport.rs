//! Tests of the go-plugin transport against the built provider binary:
//! handshake, mutual TLS, health, shutdown and start-up errors.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use sips::plugin::proto::grpc_broker_client::GrpcBrokerClient;
use sips::plugin::proto::grpc_controller_client::GrpcControllerClient;
use sips::plugin::proto::grpc_stdio_client::GrpcStdioClient;
use sips::plugin::proto::{ConnInfo, Empty};
use support::plugin_client::{
    ClientIdentity, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PluginProcess, provider_binary,
};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Terraform waits this long after Controller.Shutdown before killing the
/// provider, so a clean exit must come well within it.
const TERRAFORM_KILL_GRACE: Duration = Duration::from_secs(2);

async fn health_status(channel: Channel) -> Result<i32, tonic::Status> {
    let request = HealthCheckRequest {
        service: "plugin".to_owned(),
    };
    let response = HealthClient::new(channel).check(request).await?;
    Ok(response.into_inner().status)
}

/// Returns whether a health check with `identity` (or no certificate) gets
/// through, treating a failed connect and a failed call alike.
async fn health_check_passes(plugin: &PluginProcess, identity: Option<&ClientIdentity>) -> bool {
    match plugin.channel_with(identity).await {
        Ok(channel) => health_status(channel).await.is_ok(),
        Err(_) => false,
    }
}

#[test]
fn handshake_line_shape() {
    let plugin = PluginProcess::start();
    let handshake = plugin.handshake();

    assert_eq!(handshake.core_version, "1");
    assert_eq!(handshake.protocol_version, 6);
    assert_eq!(handshake.network, "tcp");
    assert_eq!(handshake.protocol, "grpc");
    let address: std::net::SocketAddr = handshake.address.parse().unwrap();
    assert!(address.ip().is_loopback(), "{address}");
    assert!((10000..=25000).contains(&address.port()), "{address}");
    assert!(
        !handshake.server_cert_base64.contains('='),
        "{}",
        handshake.line
    );
    let cert = rustls::pki_types::CertificateDer::from(handshake.server_cert_der.clone());
    assert!(rustls::server::ParsedCertificate::try_from(&cert).is_ok());
    assert!(plugin.stdout_after_handshake().is_empty());
}

#[test]
fn handshake_honours_port_range() {
    let plugin = PluginProcess::builder()
        .env("PLUGIN_MIN_PORT", "23000")
        .env("PLUGIN_MAX_PORT", "23999")
        .start();
    let address: std::net::SocketAddr = plugin.handshake().address.parse().unwrap();
    assert!((23000..=23999).contains(&address.port()), "{address}");
}

#[test]
fn version_offer_order_irrelevant() {
    let plugin = PluginProcess::builder().protocol_versions("6,5").start();
    assert!(
        plugin.handshake().line.starts_with("1|6|"),
        "{}",
        plugin.handshake().line
    );
}

#[test]
fn forced_version_five() {
    let plugin = PluginProcess::builder()
        .env("SIPS_PLUGIN_PROTOCOL_VERSIONS", "5")
        .start();
    assert!(
        plugin.handshake().line.starts_with("1|5|tcp|"),
        "{}",
        plugin.handshake().line
    );
}

#[test]
fn host_offering_five_only() {
    let plugin = PluginProcess::builder().protocol_versions("5").start();
    assert_eq!(plugin.handshake().protocol_version, 5);
}

#[tokio::test]
async fn health_reports_serving() {
    let plugin = PluginProcess::start();
    let channel = plugin.channel().await.unwrap();
    let status = health_status(channel).await.unwrap();
    assert_eq!(status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn mtls_without_client_cert_refused() {
    let plugin = PluginProcess::start();
    assert!(!health_check_passes(&plugin, None).await);
    // A failed handshake must not stop the server.
    assert!(
        health_check_passes(&plugin, Some(plugin.identity())).await,
        "{}",
        plugin.stderr()
    );
}

#[tokio::test]
async fn mtls_with_other_client_cert_refused() {
    let plugin = PluginProcess::start();
    let stranger = ClientIdentity::generate();
    assert!(!health_check_passes(&plugin, Some(&stranger)).await);
    assert!(
        health_check_passes(&plugin, Some(plugin.identity())).await,
        "{}",
        plugin.stderr()
    );
}

#[tokio::test]
async fn mtls_rejects_unannounced_cert() {
    // The host announces one certificate but the client presents another.
    let announced = ClientIdentity::generate();
    let plugin = PluginProcess::builder()
        .client_cert_pem(&announced.pem)
        .start();
    assert!(!health_check_passes(&plugin, Some(plugin.identity())).await);
    assert!(
        health_check_passes(&plugin, Some(&announced)).await,
        "{}",
        plugin.stderr()
    );
}

#[tokio::test]
async fn shutdown_exits_zero_promptly() {
    let mut plugin = PluginProcess::start();
    let channel = plugin.channel().await.unwrap();

    // go-plugin clients keep the stdio and broker streams open, and these must
    // not hold up the shutdown.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (_broker_sender, broker_outbound) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let outbound = tokio_stream::wrappers::ReceiverStream::new(broker_outbound);
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(outbound)
        .await
        .unwrap()
        .into_inner();

    let started = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = plugin.wait_for_exit(TERRAFORM_KILL_GRACE);
    let elapsed = started.elapsed();

    let status = status.unwrap_or_else(|| panic!("still running; stderr:\n{}", plugin.stderr()));
    assert_eq!(status.code(), Some(0), "stderr:\n{}", plugin.stderr());
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // Both streams end without an item or with the closed connection.
    assert!(!matches!(stdio.message().await, Ok(Some(_))));
    assert!(!matches!(broker.message().await, Ok(Some(_))));
}

#[tokio::test]
async fn stdio_stream_stays_open() {
    let plugin = PluginProcess::start();
    let channel = plugin.channel().await.unwrap();
    let mut stdio = GrpcStdioClient::new(channel)
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let next = tokio::time::timeout(Duration::from_millis(300), stdio.message()).await;
    assert!(next.is_err(), "stream ended or sent data: {next:?}");
}

#[tokio::test]
async fn sigint_is_ignored() {
    let mut plugin = PluginProcess::start();
    plugin.interrupt();
    assert!(
        plugin.wait_for_exit(Duration::from_millis(300)).is_none(),
        "exited on SIGINT"
    );
    assert!(
        health_check_passes(&plugin, Some(plugin.identity())).await,
        "{}",
        plugin.stderr()
    );
}

#[test]
fn missing_magic_cookie_exits_one() {
    let output = Command::new(provider_binary())
        .env_remove(MAGIC_COOKIE_KEY)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert!(stderr.contains("plugin"), "stderr: {stderr}");
    assert!(stderr.contains("terraform"), "stderr: {stderr}");
}

#[test]
fn unsupported_version_exits_one() {
    let output = Command::new(provider_binary())
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4")
        .env("PLUGIN_CLIENT_CERT", ClientIdentity::generate().pem)
        .env_remove("SIPS_PLUGIN_PROTOCOL_VERSIONS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert!(
        stderr.contains("no protocol version in common"),
        "stderr: {stderr}"
    );
}

#[test]
fn missing_client_cert_exits_one() {
    let output = Command::new(provider_binary())
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("SIPS_PLUGIN_PROTOCOL_VERSIONS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert!(stderr.contains("PLUGIN_CLIENT_CERT"), "stderr: {stderr}");
}
