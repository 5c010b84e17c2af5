//! The go-plugin transport: handshake, AutoMTLS and serving of the gRPC routes
//! it is given, plus the go-plugin services every plugin must offer.
//!
//! It does not depend on Terraform's protocol. The caller builds the routes of
//! the provider service for the negotiated protocol version, and [`serve`]
//! adds the controller, stdio, broker and health services.
//!
//! Start-up time: Terraform starts the provider again for every plan and
//! apply, and the first use of aws-lc's random generator (generating the
//! server key) dominated start-up. Since v1.60, aws-lc seeds its generator
//! from CPU jitter entropy in addition to the operating system's generator,
//! and collecting jitter entropy costs tens of milliseconds once per process.
//! `.cargo/config.toml` therefore builds aws-lc with
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1`. It then seeds from the operating
//! system's generator (`getrandom` on Linux), which ring and the Rust
//! standard library rely on too. Time from process start to the
//! handshake line, measured with `scripts/measure-startup.sh` (20 starts per
//! row, 2-core x86_64 machine shared with parallel builds):
//!
//! | build | jitter entropy | median | range |
//! |---|---|---|---|
//! | debug, light load | on | 46–49 ms | 34–71 ms |
//! | debug, light load | off | 3.6–3.8 ms | 3.2–4.6 ms |
//! | debug, load average 4–6 | on | 48–99 ms | 34–169 ms |
//! | debug, load average 4–6 | off | 4.6–12 ms | 3.7–28 ms |
//! | release, load average 4–6 | off | 2.7–7.7 ms | 2.5–22 ms |
//!
//! Jitter collection times CPU work, so it slows down further under load. The
//! release build with jitter entropy was not measured.

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::service::Routes;
use tonic::transport::server::Connected;

mod debug;
mod error;
pub mod handshake;
mod services;
pub mod tls;

pub use error::PluginError;
pub use services::HEALTH_SERVICE_NAME;

/// Code generated from `proto/goplugin.proto`.
pub mod proto {
    tonic::include_proto!("plugin");
}

/// Time in-flight requests and open connections get after a shutdown starts.
///
/// An HTTP/2 connection closes gracefully only once the client acknowledges
/// the server's GOAWAY, so a client that stops reading would otherwise keep
/// the process alive forever. Terraform itself kills the provider 2 seconds
/// after `GRPCController/Shutdown`.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Variable holding the host's client certificate as PEM.
pub const CLIENT_CERT_VAR: &str = "PLUGIN_CLIENT_CERT";

/// Settings of [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Plugin protocol versions the provider can serve, such as `[5, 6]`.
    pub supported_versions: Vec<u32>,
    /// Serves without TLS on a unix socket and prints the
    /// `TF_REATTACH_PROVIDERS` value instead of the handshake line.
    pub debug: bool,
    /// Provider source address used in debug mode, such as
    /// `registry.terraform.io/srs/sips`.
    pub provider_address: String,
}

/// A shutdown signal shared by the server and the services.
///
/// Once triggered it stays triggered. The server then stops accepting
/// connections and waits for in-flight requests, for at most
/// [`SHUTDOWN_GRACE`], before [`serve`] returns.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
}

impl Shutdown {
    pub fn new() -> Self {
        let (sender, _) = watch::channel(false);
        Self {
            sender: std::sync::Arc::new(sender),
        }
    }

    /// Starts the shutdown. Later calls do nothing.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes once the shutdown has been triggered.
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in `self`, so waiting cannot fail with a closed
        // channel.
        let _ = receiver.wait_for(|triggered| *triggered).await;
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the plugin server until the host shuts it down.
///
/// Checks the magic cookie, negotiates the protocol version, builds the routes
/// with `make_routes` and the negotiated version, announces the server on
/// stdout and serves over mutual TLS. Returns once a shutdown has been
/// triggered (by `GRPCController/Shutdown` or by the caller's routes) and
/// in-flight requests have finished or [`SHUTDOWN_GRACE`] has passed.
///
/// SIGINT is ignored, because Ctrl-C in the terminal reaches the whole process
/// group and Terraform decides when the provider stops. In debug mode SIGINT
/// starts the shutdown instead.
pub async fn serve<F>(options: ServeOptions, make_routes: F) -> Result<(), PluginError>
where
    F: FnOnce(u32, Shutdown) -> Routes,
{
    if options.debug {
        return debug::serve(options, make_routes).await;
    }

    let var = |name: &str| std::env::var(name).ok();
    handshake::check_magic_cookie(var(handshake::MAGIC_COOKIE_KEY).as_deref())?;
    ignore_interrupts()?;
    let version = handshake::negotiate_version(
        &options.supported_versions,
        var(handshake::PROTOCOL_VERSIONS_VAR).as_deref(),
        var(handshake::PROVIDER_VERSIONS_VAR).as_deref(),
    )?;
    let client_cert = tls::client_cert_from_pem(var(CLIENT_CERT_VAR).as_deref())?;
    let identity = tls::ServerIdentity::generate()?;
    let config = tls::server_config(&identity, client_cert)?;
    let (min_port, max_port) = handshake::port_range(
        var(handshake::MIN_PORT_VAR).as_deref(),
        var(handshake::MAX_PORT_VAR).as_deref(),
    )?;
    let listener = handshake::bind_loopback(min_port, max_port)?;
    let address = listener
        .local_addr()
        .map_err(PluginError::io("read the listener address"))?;

    let shutdown = Shutdown::new();
    let routes = make_routes(version, shutdown.clone());
    let routes = services::add_plugin_services(routes, &shutdown).await;

    handshake::announce(version, address, &identity.cert_der)?;
    tracing::info!(protocol_version = version, %address, "plugin server started");
    let incoming = tls::accept_tls(listener, config, shutdown.clone());
    tokio::spawn(watch_parent(shutdown.clone()));
    run_server(routes, incoming, shutdown).await
}

/// How often the provider checks that the process that started it still runs.
const PARENT_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Shuts down once the process that started the provider has exited.
///
/// Terraform normally ends a provider through Controller.Shutdown. When
/// Terraform itself is killed, nothing does, and a provider left running could
/// still finish store writes that no state records. The parent's exit shows as
/// a change of the parent process id, because the orphan is re-parented.
async fn watch_parent(shutdown: Shutdown) {
    let parent = std::os::unix::process::parent_id();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PARENT_CHECK_INTERVAL) => {}
        }
        if std::os::unix::process::parent_id() != parent {
            tracing::warn!(
                parent,
                "the process that started the provider exited; shutting down"
            );
            shutdown.trigger();
            return;
        }
    }
}

/// Serves `routes` on `incoming` until `shutdown` is triggered and in-flight
/// requests have finished, or [`SHUTDOWN_GRACE`] has passed.
async fn run_server<I, IO>(
    routes: Routes,
    incoming: I,
    shutdown: Shutdown,
) -> Result<(), PluginError>
where
    I: Stream<Item = Result<IO, io::Error>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let server = tonic::transport::Server::builder()
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled());
    let grace_expired = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => {
            result.map_err(PluginError::Serve)?;
            tracing::info!("plugin server stopped");
        }
        () = grace_expired => {
            tracing::warn!(
                grace = ?SHUTDOWN_GRACE,
                "plugin server stopped with connections still open after the shutdown grace period"
            );
        }
    }
    Ok(())
}

/// Replaces the default SIGINT action, which would kill the provider in the
/// middle of a request, with a debug log line.
fn ignore_interrupts() -> Result<(), PluginError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};

        // Registered here, not in the task, so the handler is in place before
        // the host can see the handshake line.
        let mut interrupts = signal(SignalKind::interrupt())
            .map_err(PluginError::io("install the SIGINT handler"))?;
        tokio::spawn(async move {
            while interrupts.recv().await.is_some() {
                tracing::debug!("ignoring SIGINT: the plugin host decides when the provider stops");
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::debug!("ignoring Ctrl-C: the plugin host decides when the provider stops");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn shutdown_starts_untriggered() {
        let shutdown = Shutdown::new();
        assert!(!shutdown.is_triggered());
        let waited = tokio::time::timeout(Duration::from_millis(20), shutdown.cancelled()).await;
        assert!(waited.is_err());
    }

    #[tokio::test]
    async fn shutdown_wakes_clones() {
        let shutdown = Shutdown::new();
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.cancelled().await }
        });
        shutdown.clone().trigger();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn shutdown_completes_after_trigger() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(1), shutdown.cancelled())
            .await
            .unwrap();
    }
}
