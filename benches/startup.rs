//! Start-up benchmark: starts provider binaries the way Terraform does and measures the time to
//! the go-plugin handshake line, the time to the first `GetProviderSchema` response over mutual
//! TLS, the peak resident memory after that call, and the binary size.
//!
//! Run with `cargo bench --bench startup` (add `-- --starts 100` for more starts). The Go
//! providers it compares against come from `scripts/bench-peers.sh`; a missing one is skipped.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use prost::Message;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sips::protocol::generated::{tfplugin5, tfplugin6};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tonic::transport::{Channel, Endpoint, Uri};

const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Starts per provider that are run first and left out of the figures, so that every binary is
/// in the page cache before timing starts.
const WARMUP_STARTS: usize = 2;
const DEFAULT_STARTS: usize = 50;
const DEFAULT_MEMORY_STARTS: usize = 5;
/// Time a provider waits after the schema response before its memory is read, so that the figure
/// is the idle process Terraform keeps between calls.
const IDLE_WAIT: Duration = Duration::from_millis(300);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Limit for a schema response. tonic's default of 4 MiB is too small for the largest providers,
/// although the ones measured here send less than 128 KiB.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// A provider binary under test.
struct Provider {
    label: &'static str,
    path: PathBuf,
}

/// One start, measured from just before `spawn`.
struct StartSample {
    handshake: Duration,
    schema: Duration,
    schema_bytes: usize,
}

/// Memory of one idle provider after its schema response, in KiB.
struct MemorySample {
    peak_kib: u64,
    resident_kib: u64,
    /// Heap, stacks and other private memory.
    anonymous_kib: u64,
    /// Pages of the binary and shared libraries, which the page cache shares between processes.
    file_kib: u64,
}

/// Everything measured for one provider.
struct Report {
    label: &'static str,
    protocol: u32,
    binary_bytes: u64,
    starts: Vec<StartSample>,
    memory: Vec<MemorySample>,
}

struct Options {
    starts: usize,
    memory_starts: usize,
}

fn main() {
    let options = parse_options();
    let providers = providers();
    let identity = ClientIdentity::generate();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let scratch = tempfile::tempdir().expect("temp dir for HOME");

    print_setup(&providers, &options);
    let mut reports: Vec<Report> = providers
        .iter()
        .map(|provider| Report {
            label: provider.label,
            protocol: 0,
            binary_bytes: fs::metadata(&provider.path).map(|m| m.len()).unwrap_or(0),
            starts: Vec::new(),
            memory: Vec::new(),
        })
        .collect();

    // Round-robin over the providers, so that load from other processes on a shared machine
    // spreads over all of them instead of skewing one.
    for round in 0..WARMUP_STARTS + options.starts {
        for (provider, report) in providers.iter().zip(reports.iter_mut()) {
            let mut started = start(provider, &identity, scratch.path());
            let sample = runtime.block_on(started.measure_schema());
            report.protocol = started.protocol;
            if round >= WARMUP_STARTS {
                report.starts.push(sample);
            }
        }
    }
    for _ in 0..options.memory_starts {
        for (provider, report) in providers.iter().zip(reports.iter_mut()) {
            let mut started = start(provider, &identity, scratch.path());
            runtime.block_on(started.measure_schema());
            std::thread::sleep(IDLE_WAIT);
            report.memory.push(started.memory());
        }
    }

    print_reports(&reports);
    print_ratios(&reports);
}

fn parse_options() -> Options {
    let mut options = Options {
        starts: DEFAULT_STARTS,
        memory_starts: DEFAULT_MEMORY_STARTS,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut count = |name: &str| -> usize {
            args.next()
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{name} expects a positive count"))
        };
        match arg.as_str() {
            "--starts" => options.starts = count("--starts").max(1),
            "--memory-starts" => options.memory_starts = count("--memory-starts").max(1),
            // Cargo passes `--bench` to every bench target; other flags belong to other benches.
            _ => {}
        }
    }
    options
}

/// This crate's binary plus the Go providers that `scripts/bench-peers.sh` installed.
fn providers() -> Vec<Provider> {
    let mut providers = vec![Provider {
        label: "sips (Rust)",
        path: PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sips")),
    }];
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bench-bin");
    for (label, file) in [
        ("vsphere 2.0.2 (Go)", "terraform-provider-vsphere_v2.0.2_x5"),
        ("workato 0.16.0 (Go)", "terraform-provider-workato_v0.16.0"),
    ] {
        let path = peers.join(file);
        if path.exists() {
            providers.push(Provider { label, path });
        } else {
            eprintln!(
                "skipping {label}: {} is missing; run scripts/bench-peers.sh",
                path.display()
            );
        }
    }
    providers
}

/// A provider process, killed by its PID when dropped.
struct Started {
    child: Child,
    spawned_at: Instant,
    handshake_after: Duration,
    protocol: u32,
    /// `tcp` (this provider, on loopback) or `unix` (go-plugin's default on Linux).
    network: String,
    address: String,
    server_cert: CertificateDer<'static>,
    identity: Arc<ClientConfig>,
}

impl Drop for Started {
    fn drop(&mut self) {
        // `Child::kill` signals exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `provider` with the variables Terraform 1.0.3 sets and waits for its handshake line.
fn start(provider: &Provider, identity: &ClientIdentity, home: &Path) -> Started {
    let mut command = Command::new(&provider.path);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", &identity.pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());

    let spawned_at = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", provider.path.display()));
    // Owned by `Started` from here on, so that a panic below still kills the process.
    let mut started = Started {
        child,
        spawned_at,
        handshake_after: Duration::ZERO,
        protocol: 0,
        network: String::new(),
        address: String::new(),
        server_cert: CertificateDer::from(Vec::new()),
        identity: identity.client_config.clone(),
    };
    let first_line = read_first_line(&mut started.child);
    let line = first_line
        .recv_timeout(HANDSHAKE_TIMEOUT)
        .unwrap_or_else(|_| panic!("{} printed no handshake line", provider.label));
    started.handshake_after = spawned_at.elapsed();

    let fields: Vec<&str> = line.trim_end().split('|').collect();
    let [_, protocol, network, address, _, cert] = fields[..] else {
        panic!("{}: unexpected handshake line {line:?}", provider.label);
    };
    assert!(
        network == "tcp" || network == "unix",
        "{}: unexpected network {network:?}",
        provider.label
    );
    started.protocol = protocol.parse().expect("protocol version");
    started.network = network.to_owned();
    started.address = address.to_owned();
    started.server_cert = CertificateDer::from(decode_cert(cert));
    started
}

/// Reads the first stdout line into a channel and drains the rest, so the provider never blocks
/// on a full pipe.
fn read_first_line(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = sender.send(first);
        }
        for _ in lines.map_while(Result::ok) {}
    });
    receiver
}

fn decode_cert(field: &str) -> Vec<u8> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD;

    // go-plugin prints the certificate in unpadded standard base64; accept padding as well.
    STANDARD_NO_PAD
        .decode(field.trim_end_matches('='))
        .expect("certificate field is base64")
}

impl Started {
    /// Connects over mutual TLS, requests the provider schema in the negotiated protocol, and
    /// returns the times since spawn.
    async fn measure_schema(&mut self) -> StartSample {
        let channel = self.channel().await;
        let schema_bytes = match self.protocol {
            5 => tfplugin5::provider_client::ProviderClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .get_schema(tfplugin5::get_provider_schema::Request::default())
                .await
                .expect("GetSchema over protocol 5")
                .into_inner()
                .encoded_len(),
            6 => tfplugin6::provider_client::ProviderClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .get_provider_schema(tfplugin6::get_provider_schema::Request::default())
                .await
                .expect("GetProviderSchema over protocol 6")
                .into_inner()
                .encoded_len(),
            other => panic!("unexpected protocol version {other}"),
        };
        StartSample {
            handshake: self.handshake_after,
            schema: self.spawned_at.elapsed(),
            schema_bytes,
        }
    }

    async fn channel(&self) -> Channel {
        let config = pinned_client_config(self.server_cert.clone(), &self.identity);
        let connector = TlsConnector::from(config);
        let address = self.address.clone();
        let unix = self.network == "unix";
        let connect = tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let address = address.clone();
            async move {
                let name = ServerName::try_from("localhost").expect("valid server name");
                let stream = if unix {
                    let socket = UnixStream::connect(&address).await?;
                    Transport::Unix(Box::new(connector.connect(name, socket).await?))
                } else {
                    let tcp = TcpStream::connect(&address).await?;
                    tcp.set_nodelay(true)?;
                    Transport::Tcp(Box::new(connector.connect(name, tcp).await?))
                };
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        Endpoint::from_static("http://localhost")
            .connect_timeout(Duration::from_secs(10))
            .connect_with_connector(connect)
            .await
            .expect("mutual TLS connection to the provider")
    }

    /// Reads `VmHWM` (peak resident set), `VmRSS` and its split from `/proc/<pid>/status`.
    fn memory(&self) -> MemorySample {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing from /proc/<pid>/status"))
        };
        MemorySample {
            peak_kib: field("VmHWM:"),
            resident_kib: field("VmRSS:"),
            anonymous_kib: field("RssAnon:"),
            file_kib: field("RssFile:"),
        }
    }
}

/// A TLS stream over TCP or a unix socket, so that one channel type serves both kinds of
/// provider.
enum Transport {
    Tcp(Box<TlsStream<TcpStream>>),
    Unix(Box<TlsStream<UnixStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
            Transport::Unix(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
            Transport::Unix(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
            Transport::Unix(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
            Transport::Unix(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Terraform's AutoMTLS client certificate: ECDSA P-521, self-signed CA, clientAuth and
/// serverAuth, CN and SAN `localhost`.
struct ClientIdentity {
    pem: String,
    client_config: Arc<ClientConfig>,
}

impl ClientIdentity {
    fn generate() -> Self {
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
        let cert = params.self_signed(&key).expect("self-signed certificate");

        // The verifier is replaced per start; this config only carries the client identity.
        let client_config = pinned_client_config_with(
            CertificateDer::from(Vec::new()),
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()),
        );
        Self {
            pem: cert.pem(),
            client_config,
        }
    }
}

/// Copies `template`'s client identity into a config that trusts exactly `server_cert`.
fn pinned_client_config(
    server_cert: CertificateDer<'static>,
    template: &ClientConfig,
) -> Arc<ClientConfig> {
    let mut config = template.clone();
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(PinnedServerCert::new(server_cert)));
    Arc::new(config)
}

fn pinned_client_config_with(
    server_cert: CertificateDer<'static>,
    client_cert: CertificateDer<'static>,
    client_key: PrivatePkcs8KeyDer<'static>,
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerCert::new(server_cert)))
        .with_client_auth_cert(vec![client_cert], PrivateKeyDer::Pkcs8(client_key))
        .expect("client certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// Accepts exactly the certificate announced in the handshake line, as go-plugin's client does.
///
/// go-plugin servers announce a self-signed CA certificate and serve it as the leaf, which
/// WebPKI path validation rejects as "CA used as end entity"; Go's verifier accepts it. Pinning
/// the exact bytes keeps the check as strict while both kinds of server pass.
#[derive(Debug)]
struct PinnedServerCert {
    expected: CertificateDer<'static>,
    crypto: CryptoProvider,
}

impl PinnedServerCert {
    fn new(expected: CertificateDer<'static>) -> Self {
        Self {
            expected,
            crypto: rustls::crypto::aws_lc_rs::default_provider(),
        }
    }
}

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.crypto.signature_verification_algorithms;
        verify_tls12_signature(message, cert, signature, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.crypto.signature_verification_algorithms;
        verify_tls13_signature(message, cert, signature, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.crypto
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Figures of a sorted sample, by the nearest-rank method.
struct Spread {
    min: f64,
    p10: f64,
    median: f64,
    p90: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let rank = |percent: usize| -> f64 {
            let index = (percent * values.len()).div_ceil(100).max(1) - 1;
            values[index]
        };
        Self {
            min: values[0],
            p10: rank(10),
            median: rank(50),
            p90: rank(90),
            max: values[values.len() - 1],
        }
    }

    fn line(&self) -> String {
        format!(
            "median {:7.2}  p10 {:7.2}  p90 {:7.2}  min {:7.2}  max {:7.2}",
            self.median, self.p10, self.p90, self.min, self.max
        )
    }
}

fn milliseconds(samples: &[StartSample], pick: fn(&StartSample) -> Duration) -> Spread {
    Spread::of(
        samples
            .iter()
            .map(|sample| pick(sample).as_secs_f64() * 1000.0)
            .collect(),
    )
}

fn mebibytes(samples: &[MemorySample], pick: fn(&MemorySample) -> u64) -> Spread {
    Spread::of(
        samples
            .iter()
            .map(|sample| pick(sample) as f64 / 1024.0)
            .collect(),
    )
}

fn print_setup(providers: &[Provider], options: &Options) {
    println!("start-up benchmark");
    println!(
        "  {} timed starts per provider after {WARMUP_STARTS} warm-up starts, round-robin; \
         memory from {} further starts, read {} ms after the schema response",
        options.starts,
        options.memory_starts,
        IDLE_WAIT.as_millis()
    );
    println!(
        "  harness built with debug assertions: {}",
        cfg!(debug_assertions)
    );
    for provider in providers {
        println!("  {:<20} {}", provider.label, provider.path.display());
    }
    println!();
}

fn print_reports(reports: &[Report]) {
    for report in reports {
        let schema_bytes = report.starts.first().map_or(0, |s| s.schema_bytes);
        println!(
            "{} — protocol {}, binary {:.1} MiB, schema response {} bytes",
            report.label,
            report.protocol,
            report.binary_bytes as f64 / (1024.0 * 1024.0),
            schema_bytes
        );
        let handshake = milliseconds(&report.starts, |s| s.handshake);
        let schema = milliseconds(&report.starts, |s| s.schema);
        let peak = mebibytes(&report.memory, |m| m.peak_kib);
        let resident = mebibytes(&report.memory, |m| m.resident_kib);
        println!("  handshake line (ms)      {}", handshake.line());
        println!("  schema response (ms)     {}", schema.line());
        println!("  peak RSS, VmHWM (MiB)    {}", peak.line());
        let anonymous = mebibytes(&report.memory, |m| m.anonymous_kib);
        let file = mebibytes(&report.memory, |m| m.file_kib);
        println!("  idle RSS, VmRSS (MiB)    {}", resident.line());
        println!("    of it RssAnon (MiB)    {}", anonymous.line());
        println!("    of it RssFile (MiB)    {}", file.line());
    }
    println!();
}

/// Ratios of the fastest Go provider's medians to ours; above 1 means ours is faster or smaller.
fn print_ratios(reports: &[Report]) {
    let Some((ours, others)) = reports.split_first() else {
        return;
    };
    let handshake_median = |report: &Report| milliseconds(&report.starts, |s| s.handshake).median;
    let Some(fastest) = others
        .iter()
        .min_by(|a, b| handshake_median(a).total_cmp(&handshake_median(b)))
    else {
        println!("no Go provider measured; run scripts/bench-peers.sh for the ratios");
        return;
    };
    let ratio = |pick: &dyn Fn(&Report) -> f64| pick(fastest) / pick(ours);
    println!(
        "ratios, {} / {} (above 1: {} is faster or smaller)",
        fastest.label, ours.label, ours.label
    );
    println!("  handshake median       {:6.1}x", ratio(&handshake_median));
    println!(
        "  schema response median {:6.1}x",
        ratio(&|r| milliseconds(&r.starts, |s| s.schema).median)
    );
    println!(
        "  peak RSS median        {:6.1}x",
        ratio(&|r| mebibytes(&r.memory, |m| m.peak_kib).median)
    );
    println!(
        "  binary size            {:6.1}x",
        ratio(&|r| r.binary_bytes as f64)
    );
}
