//! AutoMTLS: the server certificate, the exact client-certificate check and
//! the TLS accept loop that feeds tonic.
//!
//! The plugin host passes its client certificate in `PLUGIN_CLIENT_CERT`
//! (Terraform: ECDSA P-521, self-signed, marked as a CA) and trusts only the
//! server certificate announced in the handshake line. webpki's client
//! verifier rejects a CA certificate used as an end-entity certificate.
//! Optional client authentication would let a client without a certificate
//! in unnoticed. So the verifier here requires a certificate and accepts the
//! one whose DER equals `PLUGIN_CLIENT_CERT` byte for byte. It must offer
//! ECDSA P-521/SHA-512 among its signature schemes, or the Go client silently
//! sends no certificate. That is why the aws-lc-rs provider is used: ring
//! cannot verify P-521.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::{PluginError, Shutdown};

/// Time a client gets to complete the TLS handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections whose TLS handshake finished but that tonic has not picked up.
const ACCEPT_QUEUE: usize = 16;

/// Parses the host's client certificate from the PEM in `PLUGIN_CLIENT_CERT`.
pub fn client_cert_from_pem(pem: Option<&str>) -> Result<CertificateDer<'static>, PluginError> {
    let pem = pem
        .filter(|pem| !pem.trim().is_empty())
        .ok_or(PluginError::MissingClientCert)?;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(PluginError::InvalidClientCert)
}

/// The server's certificate and private key, generated fresh on every start.
pub struct ServerIdentity {
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// Generates a self-signed ECDSA P-256 certificate for `localhost`.
    ///
    /// The Go client verifies the server name `localhost` and the serverAuth
    /// usage. P-256 keeps key generation fast.
    pub fn generate() -> Result<Self, PluginError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(PluginError::ServerCert)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])
            .map_err(PluginError::ServerCert)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // The hour before now tolerates a host clock slightly behind ours. A
        // provider process lives far less than the year after.
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(365);

        let cert = params.self_signed(&key).map_err(PluginError::ServerCert)?;
        Ok(Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// Builds the rustls server configuration: TLS 1.2 or 1.3, ALPN `h2`, and a
/// mandatory client certificate equal to `client_cert`.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<ServerConfig, PluginError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = ExactClientCertVerifier::new(client_cert, &provider);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(PluginError::TlsConfig)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
        )
        .map_err(PluginError::TlsConfig)?;
    // grpc-go clients from v1.67 on reject TLS servers that negotiate no ALPN
    // protocol.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, compared byte for byte.
#[derive(Debug)]
pub struct ExactClientCertVerifier {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ExactClientCertVerifier {
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            expected,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// Sends no CA names: the Go client then offers its only certificate.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    /// Compares the end-entity certificate with the expected one. Chain
    /// building would add nothing because the expected certificate is pinned,
    /// so intermediates are ignored.
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A server-side TLS connection that tonic can serve.
pub struct TlsConnection(tokio_rustls::server::TlsStream<TcpStream>);

impl Connected for TlsConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.connect_info()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// Accepts TCP connections until shutdown and yields those whose TLS
/// handshake succeeds.
///
/// Each handshake runs in its own task, so a slow or hostile client cannot
/// hold up the others, and a failed handshake is logged without stopping the
/// server.
pub fn accept_tls(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: Shutdown,
) -> ReceiverStream<Result<TlsConnection, io::Error>> {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (sender, receiver) = mpsc::channel(ACCEPT_QUEUE);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((tcp, peer)) => {
                    let acceptor = acceptor.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        if let Some(connection) = handshake(acceptor, tcp, peer).await {
                            // A closed receiver means the server stopped; the
                            // connection is dropped with it.
                            let _ = sender.send(Ok(connection)).await;
                        }
                    });
                }
                Err(error) => {
                    // Running out of file descriptors makes accept fail at
                    // once; pausing avoids a busy loop while it lasts.
                    tracing::warn!(%error, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tracing::debug!("stopped accepting connections");
    });
    ReceiverStream::new(receiver)
}

async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: std::net::SocketAddr,
) -> Option<TlsConnection> {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, %peer, "failed to set TCP_NODELAY");
    }
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => {
            tracing::debug!(%peer, "accepted a TLS connection");
            Some(TlsConnection(stream))
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, %peer, "rejected a connection: TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::warn!(%peer, "rejected a connection: TLS handshake timed out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, RootCertStore};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsConnector;

    /// A client identity shaped like Terraform's: P-521, self-signed CA,
    /// clientAuth and serverAuth.
    struct ClientIdentity {
        cert_der: CertificateDer<'static>,
        key_der: PrivatePkcs8KeyDer<'static>,
        pem: String,
    }

    fn terraform_like_client() -> ClientIdentity {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).unwrap();
        ClientIdentity {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
            pem: cert.pem(),
        }
    }

    fn verifier_for(client: &ClientIdentity) -> ExactClientCertVerifier {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        ExactClientCertVerifier::new(client.cert_der.clone(), &provider)
    }

    #[test]
    fn verifier_accepts_exact_p521_cert() {
        let client = terraform_like_client();
        let verifier = verifier_for(&client);
        let result = verifier.verify_client_cert(&client.cert_der, &[], UnixTime::now());
        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn verifier_rejects_other_cert() {
        let expected = terraform_like_client();
        let other = terraform_like_client();
        let verifier = verifier_for(&expected);
        let result = verifier.verify_client_cert(&other.cert_der, &[], UnixTime::now());
        assert!(result.is_err());
    }

    #[test]
    fn verifier_ignores_intermediates() {
        let expected = terraform_like_client();
        let other = terraform_like_client();
        let verifier = verifier_for(&expected);
        let intermediates = [expected.cert_der.clone()];
        let result = verifier.verify_client_cert(&other.cert_der, &intermediates, UnixTime::now());
        assert!(result.is_err());
    }

    #[test]
    fn verifier_requires_client_auth() {
        let verifier = verifier_for(&terraform_like_client());
        assert!(verifier.offer_client_auth());
        assert!(verifier.client_auth_mandatory());
        assert!(verifier.root_hint_subjects().is_empty());
    }

    #[test]
    fn verifier_offers_p521_scheme() {
        let schemes = verifier_for(&terraform_like_client()).supported_verify_schemes();
        assert!(
            schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512),
            "{schemes:?}"
        );
        assert!(
            schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256),
            "{schemes:?}"
        );
    }

    #[test]
    fn client_cert_parses_pem() {
        let client = terraform_like_client();
        let parsed = client_cert_from_pem(Some(&client.pem)).unwrap();
        assert_eq!(parsed, client.cert_der);
    }

    #[test]
    fn client_cert_missing_or_invalid() {
        assert!(matches!(
            client_cert_from_pem(None),
            Err(PluginError::MissingClientCert)
        ));
        assert!(matches!(
            client_cert_from_pem(Some(" \n")),
            Err(PluginError::MissingClientCert)
        ));
        assert!(matches!(
            client_cert_from_pem(Some("not a certificate")),
            Err(PluginError::InvalidClientCert(_))
        ));
    }

    #[test]
    fn server_cert_is_localhost_leaf() {
        let identity = ServerIdentity::generate().unwrap();
        let cert = rustls::server::ParsedCertificate::try_from(&identity.cert_der);
        assert!(cert.is_ok());
        // webpki accepts it as an end-entity certificate for `localhost`
        // used for server authentication, the checks the Go client makes.
        let mut roots = RootCertStore::empty();
        roots.add(identity.cert_der.clone()).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        )
        .build()
        .unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let result =
            verifier.verify_server_cert(&identity.cert_der, &[], &name, &[], UnixTime::now());
        assert!(result.is_ok(), "{result:?}");
    }

    fn client_config(
        server: &ServerIdentity,
        client: Option<&ClientIdentity>,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(server.cert_der.clone()).unwrap();
        let builder = ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots);
        let mut config = match client {
            Some(client) => builder
                .with_client_auth_cert(
                    vec![client.cert_der.clone()],
                    PrivateKeyDer::Pkcs8(client.key_der.clone_key()),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        Arc::new(config)
    }

    /// Runs a TLS 1.3 handshake over an in-memory pipe and exchanges one byte,
    /// because TLS 1.3 reports a rejected client certificate only after the
    /// client's side of the handshake has finished.
    async fn exchange(expected: &ClientIdentity, presented: Option<&ClientIdentity>) -> bool {
        exchange_over(expected, presented, &rustls::version::TLS13).await
    }

    async fn exchange_over(
        expected: &ClientIdentity,
        presented: Option<&ClientIdentity>,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> bool {
        let server = ServerIdentity::generate().unwrap();
        let config = server_config(&server, expected.cert_der.clone()).unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let connector = TlsConnector::from(client_config(&server, presented, version));
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);

        let server_task = tokio::spawn(async move {
            let mut stream = acceptor.accept(server_io).await.ok()?;
            let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            stream.write_all(b"x").await.ok()?;
            stream.flush().await.ok()?;
            Some(alpn)
        });
        let name = ServerName::try_from("localhost").unwrap();
        let client_ok = async {
            let mut stream = connector.connect(name, client_io).await.ok()?;
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.ok()?;
            Some(byte)
        }
        .await
        .is_some();
        let server_alpn = server_task.await.unwrap();
        if let Some(alpn) = &server_alpn {
            assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
        }
        client_ok && server_alpn.is_some()
    }

    #[tokio::test]
    async fn handshake_accepts_expected_client() {
        let client = terraform_like_client();
        assert!(exchange(&client, Some(&client)).await);
    }

    #[tokio::test]
    async fn handshake_accepts_expected_client_tls12() {
        let client = terraform_like_client();
        assert!(exchange_over(&client, Some(&client), &rustls::version::TLS12).await);
    }

    #[tokio::test]
    async fn handshake_rejects_other_client_tls12() {
        let expected = terraform_like_client();
        let other = terraform_like_client();
        assert!(!exchange_over(&expected, Some(&other), &rustls::version::TLS12).await);
    }

    #[tokio::test]
    async fn handshake_rejects_other_client() {
        let expected = terraform_like_client();
        let other = terraform_like_client();
        assert!(!exchange(&expected, Some(&other)).await);
    }

    #[tokio::test]
    async fn handshake_rejects_empty_chain() {
        let expected = terraform_like_client();
        assert!(!exchange(&expected, None).await);
    }
}
