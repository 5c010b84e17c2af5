//! A test client that starts the provider binary the way Terraform does and
//! connects to it over mutual TLS.
//!
//! Like Terraform it passes the magic cookie, the offered protocol versions
//! and a fresh ECDSA P-521 client certificate, reads the handshake line, and
//! trusts exactly the server certificate announced there.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Variables the provider reads at start-up. They are removed from the
/// inherited environment so that the caller's shell cannot change a test.
const PLUGIN_VARIABLES: &[&str] = &[
    MAGIC_COOKIE_KEY,
    "PLUGIN_PROTOCOL_VERSIONS",
    "PLUGIN_CLIENT_CERT",
    "PLUGIN_MIN_PORT",
    "PLUGIN_MAX_PORT",
    "SIPS_PLUGIN_PROTOCOL_VERSIONS",
    "TF_REATTACH_PROVIDERS",
];

/// Time the provider gets to print its handshake line.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// Path of the provider binary built for the integration tests.
pub fn provider_binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-sips")
}

/// A client certificate shaped like Terraform's AutoMTLS certificate:
/// ECDSA P-521, self-signed, marked as a CA, clientAuth and serverAuth.
pub struct ClientIdentity {
    pub cert_der: CertificateDer<'static>,
    pub key_der: PrivatePkcs8KeyDer<'static>,
    pub pem: String,
}

impl ClientIdentity {
    pub fn generate() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };

        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("certificate params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params
            .self_signed(&key)
            .expect("self-signed client certificate");
        Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
            pem: cert.pem(),
        }
    }
}

/// The fields of the go-plugin handshake line.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub line: String,
    pub core_version: String,
    pub protocol_version: u32,
    pub network: String,
    pub address: String,
    pub protocol: String,
    /// The field as printed, base64 without padding.
    pub server_cert_base64: String,
    pub server_cert_der: Vec<u8>,
}

impl Handshake {
    /// Parses a handshake line the way Terraform 1.0.3 does: exactly six
    /// `|`-separated fields, the certificate in unpadded standard base64.
    pub fn parse(line: &str) -> Result<Self, String> {
        let fields: Vec<&str> = line.split('|').collect();
        let [core, version, network, address, protocol, cert] = fields[..] else {
            return Err(format!("expected 6 fields, got {}: {line:?}", fields.len()));
        };
        let protocol_version = version
            .parse()
            .map_err(|_| format!("invalid protocol version {version:?}"))?;
        let server_cert_der = STANDARD_NO_PAD
            .decode(cert)
            .map_err(|error| format!("invalid certificate field: {error}"))?;
        Ok(Self {
            line: line.to_owned(),
            core_version: core.to_owned(),
            protocol_version,
            network: network.to_owned(),
            address: address.to_owned(),
            protocol: protocol.to_owned(),
            server_cert_base64: cert.to_owned(),
            server_cert_der,
        })
    }
}

/// Settings for starting the provider; see [`PluginProcess::builder`].
pub struct PluginBuilder {
    protocol_versions: Option<String>,
    client_cert_pem: Option<String>,
    envs: Vec<(String, String)>,
    identity: ClientIdentity,
}

impl PluginBuilder {
    /// Sets `PLUGIN_PROTOCOL_VERSIONS` (default `5,6`, as Terraform 1.0.3 sends).
    pub fn protocol_versions(mut self, versions: &str) -> Self {
        self.protocol_versions = Some(versions.to_owned());
        self
    }

    /// Replaces the PEM passed in `PLUGIN_CLIENT_CERT` while the client keeps
    /// presenting its own certificate.
    pub fn client_cert_pem(mut self, pem: &str) -> Self {
        self.client_cert_pem = Some(pem.to_owned());
        self
    }

    /// Adds an environment variable, such as `SIPS_PLUGIN_PROTOCOL_VERSIONS`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts the provider and waits for its handshake line. Panics with the
    /// provider's stderr when it exits or stays silent instead.
    pub fn start(self) -> PluginProcess {
        let mut command = Command::new(provider_binary());
        for variable in PLUGIN_VARIABLES {
            command.env_remove(variable);
        }
        let client_pem = self
            .client_cert_pem
            .as_deref()
            .unwrap_or(&self.identity.pem);
        command
            .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
            .env(
                "PLUGIN_PROTOCOL_VERSIONS",
                self.protocol_versions.as_deref().unwrap_or("5,6"),
            )
            .env("PLUGIN_CLIENT_CERT", client_pem)
            .envs(self.envs.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start the provider binary");

        let stderr = collect_stderr(&mut child);
        let (first_line, later_stdout) = read_stdout(&mut child);
        let mut process = PluginProcess {
            child,
            handshake: None,
            identity: self.identity,
            stderr,
            later_stdout,
        };
        let line = match first_line.recv_timeout(HANDSHAKE_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                // Gives the stderr reader a moment to collect the last lines.
                std::thread::sleep(Duration::from_millis(200));
                let status = process.child.try_wait().ok().flatten();
                panic!(
                    "provider printed no handshake line (exit: {status:?}); stderr:\n{}",
                    process.stderr()
                )
            }
        };
        let handshake = Handshake::parse(line.trim_end_matches(['\r', '\n']))
            .unwrap_or_else(|error| panic!("bad handshake line: {error}"));
        process.handshake = Some(handshake);
        process
    }
}

/// A running provider process, killed by its PID when dropped.
pub struct PluginProcess {
    child: Child,
    handshake: Option<Handshake>,
    identity: ClientIdentity,
    stderr: Arc<Mutex<String>>,
    later_stdout: Arc<Mutex<Vec<String>>>,
}

impl PluginProcess {
    /// Starts the provider offering protocols 5 and 6.
    pub fn start() -> Self {
        Self::builder().start()
    }

    pub fn builder() -> PluginBuilder {
        PluginBuilder {
            protocol_versions: None,
            client_cert_pem: None,
            envs: Vec::new(),
            identity: ClientIdentity::generate(),
        }
    }

    pub fn handshake(&self) -> &Handshake {
        self.handshake.as_ref().expect("handshake read at start")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the identity whose certificate was passed in `PLUGIN_CLIENT_CERT`.
    pub fn identity(&self) -> &ClientIdentity {
        &self.identity
    }

    /// Everything the provider wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Lines the provider wrote to stdout after the handshake line.
    pub fn stdout_after_handshake(&self) -> Vec<String> {
        self.later_stdout.lock().unwrap().clone()
    }

    /// Opens a channel presenting the client certificate the provider expects.
    pub async fn channel(&self) -> Result<Channel, tonic::transport::Error> {
        self.channel_with(Some(&self.identity)).await
    }

    /// Opens a channel presenting `identity`, or no certificate at all.
    ///
    /// With TLS 1.3 the server checks the client certificate after the client
    /// considers the handshake done, so a rejected certificate may surface
    /// only at the first call.
    pub async fn channel_with(
        &self,
        identity: Option<&ClientIdentity>,
    ) -> Result<Channel, tonic::transport::Error> {
        let handshake = self.handshake();
        assert_eq!(handshake.network, "tcp", "the test client only dials TCP");
        let connector = TlsConnector::from(client_config(&handshake.server_cert_der, identity));
        let address = handshake.address.clone();
        let connect = tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let address = address.clone();
            async move {
                let tcp = TcpStream::connect(&address).await?;
                let name = ServerName::try_from("localhost").expect("valid server name");
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        });
        Endpoint::from_static("http://localhost")
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector(connect)
            .await
    }

    /// Waits up to `timeout` for the provider to exit on its own.
    ///
    /// Polls without blocking the async runtime, because the test's own HTTP/2
    /// connection must keep responding to the server's graceful close.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_for_child(&mut self.child, timeout).await
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does to the whole process group.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Child::kill sends SIGKILL to this child's PID only.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Waits up to `timeout` for `child` to exit, polling every 5 ms.
pub async fn wait_for_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child process") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn client_config(server_cert_der: &[u8], identity: Option<&ClientIdentity>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(server_cert_der.to_vec()))
        .expect("announced certificate is a valid trust anchor");
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(
                vec![identity.cert_der.clone()],
                PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
            )
            .expect("client certificate and key"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let buffer = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let sink = Arc::clone(&buffer);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(read) = stderr.read(&mut chunk) {
            if read == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..read]));
        }
    });
    buffer
}

/// Reads the first stdout line into a channel and keeps draining stdout, so
/// the provider never blocks on a full pipe.
fn read_stdout(child: &mut Child) -> (mpsc::Receiver<String>, Arc<Mutex<Vec<String>>>) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    let later = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&later);
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = sender.send(first);
        }
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (receiver, later)
}
