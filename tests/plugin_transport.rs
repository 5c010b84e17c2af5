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
    wait_for_child,
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
    let status = plugin.wait_for_exit(TERRAFORM_KILL_GRACE).await;
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
        plugin
            .wait_for_exit(Duration::from_millis(300))
            .await
            .is_none(),
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

/// Reads the reattach JSON from the debug-mode banner on stdout.
fn read_reattach_config(stdout: std::process::ChildStdout) -> serde_json::Value {
    use std::io::BufRead;

    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let Some(start) = line.find("TF_REATTACH_PROVIDERS='") else {
                continue;
            };
            let value = &line[start + "TF_REATTACH_PROVIDERS='".len()..];
            let _ = sender.send(value.trim_end_matches('\'').to_owned());
        }
    });
    let json = receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("reattach line on stdout");
    serde_json::from_str(&json).expect("reattach value is JSON")
}

#[cfg(unix)]
#[tokio::test]
async fn debug_mode_serves_on_unix_socket() {
    use std::process::Stdio;

    let mut child = Command::new(provider_binary())
        .arg("--debug")
        .env_remove(MAGIC_COOKIE_KEY)
        .env_remove("SIPS_PLUGIN_PROTOCOL_VERSIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reattach = read_reattach_config(child.stdout.take().unwrap());
    let entry = &reattach["registry.terraform.io/srs/sips"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = std::path::PathBuf::from(entry["Addr"]["String"].as_str().unwrap());

    let connect_path = socket.clone();
    let connector = tower::service_fn(move |_: tonic::transport::Uri| {
        let path = connect_path.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(path).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    let channel = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
        .unwrap();
    assert_eq!(
        health_status(channel).await.unwrap(),
        ServingStatus::Serving as i32
    );

    // In debug mode Ctrl-C stops the provider and removes the socket.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_for_child(&mut child, TERRAFORM_KILL_GRACE).await;
    if exit.is_none() {
        // A killed provider cannot remove its socket directory itself.
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(socket.parent().unwrap());
    }
    assert_eq!(exit.and_then(|exit| exit.code()), Some(0));
    assert!(!socket.exists(), "{} left behind", socket.display());
    assert!(
        !socket.parent().unwrap().exists(),
        "socket directory left behind"
    );
}
