//! Debug mode: serves without TLS on a unix socket and prints the
//! `TF_REATTACH_PROVIDERS` value that lets Terraform attach to the running
//! provider, so it can be started under a debugger.

use tonic::service::Routes;

use super::{PluginError, ServeOptions, Shutdown};

#[cfg(unix)]
pub async fn serve<F>(options: ServeOptions, make_routes: F) -> Result<(), PluginError>
where
    F: FnOnce(u32, Shutdown) -> Routes,
{
    use super::handshake::{PROVIDER_VERSIONS_VAR, negotiate_version};

    let narrowed = std::env::var(PROVIDER_VERSIONS_VAR).ok();
    let version = negotiate_version(&options.supported_versions, None, narrowed.as_deref())?;
    let directory = SocketDirectory::create()?;
    let socket_path = directory.path.join("plugin.sock");
    let listener = tokio::net::UnixListener::bind(&socket_path)
        .map_err(PluginError::io("bind the debug unix socket"))?;

    let shutdown = Shutdown::new();
    stop_on_interrupt(shutdown.clone())?;
    let routes = make_routes(version, shutdown.clone());
    let routes = super::services::add_plugin_services(routes, &shutdown).await;

    let reattach = reattach_json(
        &options.provider_address,
        version,
        &socket_path.to_string_lossy(),
    )?;
    print_instructions(&reattach)?;
    tracing::info!(protocol_version = version, socket = %socket_path.display(), "debug server started");

    let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
    super::run_server(routes, incoming, shutdown).await
}

#[cfg(not(unix))]
pub async fn serve<F>(_options: ServeOptions, _make_routes: F) -> Result<(), PluginError>
where
    F: FnOnce(u32, Shutdown) -> Routes,
{
    Err(PluginError::Io {
        action: "start debug mode, which needs unix sockets",
        source: std::io::ErrorKind::Unsupported.into(),
    })
}

/// Builds the `TF_REATTACH_PROVIDERS` value for one provider on a unix socket.
pub fn reattach_json(
    provider_address: &str,
    protocol_version: u32,
    socket_path: &str,
) -> Result<String, PluginError> {
    let entry = serde_json::json!({
        "Protocol": "grpc",
        "ProtocolVersion": protocol_version,
        "Pid": std::process::id(),
        "Test": true,
        "Addr": { "Network": "unix", "String": socket_path },
    });
    let map = serde_json::json!({ provider_address: entry });
    serde_json::to_string(&map).map_err(PluginError::ReattachJson)
}

fn print_instructions(reattach: &str) -> Result<(), PluginError> {
    use std::io::Write;

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "Provider started in debug mode. To attach Terraform or OpenTofu, run this in the shell \
         that runs them:\n\n\texport TF_REATTACH_PROVIDERS='{reattach}'\n\nStop the provider \
         with Ctrl-C."
    )
    .and_then(|()| stdout.flush())
    .map_err(PluginError::io("write the reattach instructions to stdout"))
}

/// In debug mode a person runs the provider in a terminal, so Ctrl-C stops it
/// (after in-flight requests finish).
#[cfg(unix)]
fn stop_on_interrupt(shutdown: Shutdown) -> Result<(), PluginError> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut interrupts =
        signal(SignalKind::interrupt()).map_err(PluginError::io("install the SIGINT handler"))?;
    tokio::spawn(async move {
        if interrupts.recv().await.is_some() {
            tracing::info!("stopping on SIGINT");
            shutdown.trigger();
        }
    });
    Ok(())
}

/// A private directory (mode 0700) for the debug socket, removed on drop.
#[cfg(unix)]
struct SocketDirectory {
    path: std::path::PathBuf,
}

#[cfg(unix)]
impl SocketDirectory {
    fn create() -> Result<Self, PluginError> {
        use std::os::unix::fs::DirBuilderExt;

        let name = format!(
            "terraform-provider-sips-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(PluginError::io("create the debug socket directory"))?;
        Ok(Self { path })
    }
}

#[cfg(unix)]
impl Drop for SocketDirectory {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.path) {
            tracing::debug!(%error, path = %self.path.display(), "failed to remove the debug socket directory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_json_shape() {
        let json =
            reattach_json("registry.terraform.io/srs/sips", 6, "/tmp/d/plugin.sock").unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let entry = &value["registry.terraform.io/srs/sips"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], std::process::id());
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/d/plugin.sock");
    }
}
