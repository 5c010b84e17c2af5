//! An Azure Key Vault test server on loopback: the secrets REST API over HTTPS with a test CA,
//! the bearer challenge, soft delete, and a request log, stopped on drop.
//!
//! It follows the published Key Vault secrets REST API at api-version 2025-07-01, the version
//! that azure_security_keyvault_secrets 1.0 sends. It serves what the store and the official
//! clients use: set, get (latest and by version), list versions, update, delete, get and list
//! deleted, recover, purge, and list secrets. Differences from the service:
//!
//! - Any bearer token is accepted; a request without one gets the 401 challenge that Key
//!   Vault sends (`WWW-Authenticate: Bearer authorization=..., resource=...`).
//! - Recovery and deletion finish at once, and purge dates are only reported.
//! - `created` and `updated` are whole seconds, as on the service, so versions written within
//!   one second tie.
//! - Error messages are written here; the codes and statuses follow the service.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Host name of the test vault; clients resolve it to the server's loopback address.
pub const VAULT_HOST: &str = "sipstest.vault.azure.net";
/// api-version that azure_security_keyvault_secrets 1.0.1 sends by default.
pub const API_VERSION: &str = "2025-07-01";
/// Tenant named in the bearer challenge.
pub const TENANT_ID: &str = "00000000-0000-0000-0000-000000000001";
/// Token the test credentials present; the server accepts any token.
pub const TEST_TOKEN: &str = "sips-test-token";

const RETENTION_DAYS: i64 = 90;
const MAX_TAGS: usize = 15;
const DEFAULT_PAGE_SIZE: usize = 25;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub api_version: Option<String>,
    pub authorized: bool,
    pub has_body: bool,
    /// The request body, so tests can check where a secret was sent.
    pub body: String,
    pub status: u16,
}

#[derive(Debug, Clone)]
struct Version {
    id: String,
    value: String,
    content_type: Option<String>,
    enabled: bool,
    not_before: Option<i64>,
    expires: Option<i64>,
    created: i64,
    updated: i64,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default)]
struct Secret {
    /// Oldest first; the last one is the latest.
    versions: Vec<Version>,
}

#[derive(Debug, Clone)]
struct DeletedSecret {
    secret: Secret,
    deleted_date: i64,
    scheduled_purge_date: i64,
}

/// A failure the server returns in place of the next responses.
#[derive(Debug, Clone)]
struct Injected {
    status: u16,
    code: String,
    remaining: usize,
}

#[derive(Debug, Default)]
struct Vault {
    secrets: BTreeMap<String, Secret>,
    deleted: BTreeMap<String, DeletedSecret>,
    log: Vec<LoggedRequest>,
    purge_protection: bool,
    page_size: Option<usize>,
    injected: Option<Injected>,
}

/// A running test vault. Dropping it stops the server thread and waits for it.
pub struct KeyVaultServer {
    address: SocketAddr,
    ca_pem: String,
    state: Arc<Mutex<Vault>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl KeyVaultServer {
    /// Starts a server on 127.0.0.1 and a free port, with a new test CA and a leaf certificate
    /// for [`VAULT_HOST`] and `127.0.0.1`.
    pub fn start() -> Self {
        let (ca_pem, config) = tls_config();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(Vault::default()));
        let (stop, stopped) = oneshot::channel();
        let server_state = state.clone();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(serve(listener, config, server_state, stopped));
        });
        Self {
            address,
            ca_pem,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Vault URL for clients; they must resolve [`VAULT_HOST`] to [`Self::address`].
    pub fn vault_url(&self) -> String {
        format!("https://{VAULT_HOST}")
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// PEM of the test CA that issued the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Returns every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.vault().log.clone()
    }

    /// Makes purges fail as on a vault with purge protection.
    pub fn set_purge_protection(&self, on: bool) {
        self.vault().purge_protection = on;
    }

    /// Sets the page size of list responses, to exercise paging.
    pub fn set_page_size(&self, size: usize) {
        self.vault().page_size = Some(size.max(1));
    }

    /// Fails the next `count` authorized requests with `status` and error `code`.
    pub fn fail_next(&self, status: u16, code: &str, count: usize) {
        self.vault().injected = Some(Injected {
            status,
            code: code.to_owned(),
            remaining: count,
        });
    }

    fn vault(&self) -> MutexGuard<'_, Vault> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Drop for KeyVaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Builds a CA and a leaf certificate signed by it. rustls rejects a CA certificate used as
/// a server certificate, so the leaf is a separate end-entity certificate.
fn tls_config() -> (String, Arc<ServerConfig>) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sips Key Vault test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params = CertificateParams::new(vec![VAULT_HOST.to_owned()]).expect("params");
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress(Ipv4Addr::LOCALHOST.into()));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, VAULT_HOST);
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca)
        .expect("leaf certificate");

    let chain = vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca.pem(), Arc::new(config))
}

async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    state: Arc<Mutex<Vault>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let acceptor = TlsAcceptor::from(config);
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// A parsed request: method, path segments, query pairs and body.
struct Call {
    method: Method,
    segments: Vec<String>,
    query: HashMap<String, String>,
    body: Bytes,
}

async fn handle(state: &Mutex<Vault>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let authorized = parts
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer ") && value.len() > 7);
    let call = Call {
        method: parts.method.clone(),
        segments: parts
            .uri
            .path()
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect(),
        query: parse_query(parts.uri.query().unwrap_or_default()),
        body,
    };
    let mut vault = state.lock().unwrap_or_else(|poison| poison.into_inner());
    let response = if !authorized {
        challenge()
    } else if !call.query.contains_key("api-version") {
        error(
            400,
            "BadParameter",
            "The request must include an api-version.",
        )
    } else if let Some(failure) = vault.take_injected() {
        error(
            failure.status,
            &failure.code,
            "Injected failure for a test.",
        )
    } else {
        vault.route(&call)
    };
    vault.log.push(LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        api_version: call.query.get("api-version").cloned(),
        authorized,
        has_body: !call.body.is_empty(),
        body: String::from_utf8_lossy(&call.body).into_owned(),
        status: response.status().as_u16(),
    });
    response
}

fn challenge() -> Response<Full<Bytes>> {
    let header = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{TENANT_ID}\", \
         resource=\"https://vault.azure.net\""
    );
    let mut response = error(
        401,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
    );
    response
        .headers_mut()
        .insert("www-authenticate", header.parse().expect("header value"));
    response
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes[index] == b'%' && index + 2 < bytes.len();
        let decoded = escaped
            .then(|| std::str::from_utf8(&bytes[index + 1..index + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(if bytes[index] == b'+' {
                    b' '
                } else {
                    bytes[index]
                });
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(status, json!({"error": {"code": code, "message": message}}))
}

fn now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    elapsed.as_secs() as i64
}

fn new_version_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

fn valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn not_found(name: &str) -> Response<Full<Bytes>> {
    let message = format!("A secret with (name/id) {name} was not found in this key vault.");
    error(404, "SecretNotFound", &message)
}

fn secret_id(name: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("https://{VAULT_HOST}/secrets/{name}/{version}"),
        None => format!("https://{VAULT_HOST}/secrets/{name}"),
    }
}

fn attributes(version: &Version) -> Value {
    let mut attributes = json!({
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": RETENTION_DAYS,
    });
    if let Some(nbf) = version.not_before {
        attributes["nbf"] = json!(nbf);
    }
    if let Some(exp) = version.expires {
        attributes["exp"] = json!(exp);
    }
    attributes
}

/// Builds the secret bundle of one version; `with_value` adds the value.
fn bundle(name: &str, version: &Version, with_value: bool) -> Value {
    let mut body = json!({
        "id": secret_id(name, Some(&version.id)),
        "attributes": attributes(version),
    });
    if with_value {
        body["value"] = json!(version.value);
    }
    if let Some(content_type) = &version.content_type {
        body["contentType"] = json!(content_type);
    }
    if let Some(tags) = &version.tags {
        body["tags"] = json!(tags);
    }
    body
}

fn deleted_bundle(name: &str, deleted: &DeletedSecret, properties_only: bool) -> Value {
    let latest = deleted
        .secret
        .versions
        .last()
        .expect("a secret has versions");
    let mut body = if properties_only {
        list_item(name, latest, None)
    } else {
        bundle(name, latest, false)
    };
    body["recoveryId"] = json!(format!("https://{VAULT_HOST}/deletedsecrets/{name}"));
    body["deletedDate"] = json!(deleted.deleted_date);
    body["scheduledPurgeDate"] = json!(deleted.scheduled_purge_date);
    body
}

/// A list entry: `version` is `None` for the secret listing, whose ids have no version.
fn list_item(name: &str, version: &Version, id_version: Option<&str>) -> Value {
    let mut body = json!({
        "id": secret_id(name, id_version),
        "attributes": attributes(version),
    });
    if let Some(content_type) = &version.content_type {
        body["contentType"] = json!(content_type);
    }
    if let Some(tags) = &version.tags {
        body["tags"] = json!(tags);
    }
    body
}

fn parse_time(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64)
}

fn parse_tags(value: Option<&Value>) -> Result<Option<BTreeMap<String, String>>, String> {
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return Ok(None);
    };
    let object = value.as_object().ok_or("tags must be an object")?;
    if object.len() > MAX_TAGS {
        return Err(format!("A secret can have at most {MAX_TAGS} tags."));
    }
    let mut tags = BTreeMap::new();
    for (key, value) in object {
        let text = value.as_str().ok_or("tag values must be strings")?;
        if text.chars().count() > 256 {
            return Err(format!(
                "The value of tag {key} is longer than 256 characters."
            ));
        }
        tags.insert(key.clone(), text.to_owned());
    }
    Ok(Some(tags))
}

impl Vault {
    fn take_injected(&mut self) -> Option<Injected> {
        let injected = self.injected.as_mut()?;
        injected.remaining -= 1;
        let failure = injected.clone();
        if injected.remaining == 0 {
            self.injected = None;
        }
        Some(failure)
    }

    fn route(&mut self, call: &Call) -> Response<Full<Bytes>> {
        let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
        match (&call.method, segments.as_slice()) {
            (&Method::GET, ["secrets"]) => self.list_secrets(call),
            (&Method::PUT, ["secrets", name]) => self.set_secret(name, &call.body),
            (&Method::GET, ["secrets", name]) => self.get_secret(name, None),
            (&Method::DELETE, ["secrets", name]) => self.delete_secret(name),
            (&Method::GET, ["secrets", name, "versions"]) => self.list_versions(name, call),
            (&Method::GET, ["secrets", name, version]) => self.get_secret(name, Some(version)),
            (&Method::PATCH, ["secrets", name]) => self.update_secret(name, None, &call.body),
            (&Method::PATCH, ["secrets", name, version]) => {
                self.update_secret(name, Some(version), &call.body)
            }
            (&Method::GET, ["deletedsecrets"]) => self.list_deleted(call),
            (&Method::GET, ["deletedsecrets", name]) => self.get_deleted(name),
            (&Method::DELETE, ["deletedsecrets", name]) => self.purge(name),
            (&Method::POST, ["deletedsecrets", name, "recover"]) => self.recover(name),
            _ => error(400, "BadParameter", "The request URI is not supported."),
        }
    }

    fn set_secret(&mut self, name: &str, body: &[u8]) -> Response<Full<Bytes>> {
        if !valid_name(name) {
            let message =
                "Secret names may contain only 0-9, a-z, A-Z, and -, up to 127 characters.";
            return error(400, "BadParameter", message);
        }
        if self.deleted.contains_key(name) {
            let message = format!(
                "Secret {name} is currently in a deleted but recoverable state, and its name \
                 cannot be reused; in this state, the secret can only be recovered or purged."
            );
            return error(409, "Conflict", &message);
        }
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return error(400, "BadParameter", "The request body is not valid JSON.");
        };
        let Some(value) = request.get("value").and_then(Value::as_str) else {
            return error(400, "BadParameter", "The property value is required.");
        };
        let tags = match parse_tags(request.get("tags")) {
            Ok(tags) => tags,
            Err(message) => return error(400, "BadParameter", &message),
        };
        let attributes = request.get("attributes");
        let at = now();
        let version = Version {
            id: new_version_id(),
            value: value.to_owned(),
            content_type: request
                .get("contentType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            enabled: attributes
                .and_then(|a| a.get("enabled"))
                .and_then(Value::as_bool)
                .unwrap_or(true),
            not_before: parse_time(attributes.and_then(|a| a.get("nbf"))),
            expires: parse_time(attributes.and_then(|a| a.get("exp"))),
            created: at,
            updated: at,
            tags,
        };
        let response = bundle(name, &version, true);
        self.secrets
            .entry(name.to_owned())
            .or_default()
            .versions
            .push(version);
        json_response(200, response)
    }

    fn find(&self, name: &str, version: Option<&str>) -> Option<&Version> {
        let secret = self.secrets.get(name)?;
        match version {
            Some(id) => secret.versions.iter().find(|v| v.id == id),
            None => secret.versions.last(),
        }
    }

    fn get_secret(&self, name: &str, version: Option<&str>) -> Response<Full<Bytes>> {
        let Some(found) = self.find(name, version) else {
            return not_found(name);
        };
        if !found.enabled {
            let body = json!({"error": {
                "code": "Forbidden",
                "message": "Operation get is not allowed on a disabled secret.",
                "innererror": {"code": "SecretDisabled"},
            }});
            return json_response(403, body);
        }
        json_response(200, bundle(name, found, true))
    }

    fn update_secret(
        &mut self,
        name: &str,
        version: Option<&str>,
        body: &[u8],
    ) -> Response<Full<Bytes>> {
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return error(400, "BadParameter", "The request body is not valid JSON.");
        };
        let tags = match parse_tags(request.get("tags")) {
            Ok(tags) => tags,
            Err(message) => return error(400, "BadParameter", &message),
        };
        let Some(secret) = self.secrets.get_mut(name) else {
            return not_found(name);
        };
        let found = match version {
            Some(id) => secret.versions.iter_mut().find(|v| v.id == id),
            None => secret.versions.last_mut(),
        };
        let Some(found) = found else {
            return not_found(name);
        };
        if let Some(attributes) = request.get("attributes") {
            if let Some(enabled) = attributes.get("enabled").and_then(Value::as_bool) {
                found.enabled = enabled;
            }
            if let Some(nbf) = parse_time(attributes.get("nbf")) {
                found.not_before = Some(nbf);
            }
            if let Some(exp) = parse_time(attributes.get("exp")) {
                found.expires = Some(exp);
            }
        }
        if let Some(content_type) = request.get("contentType").and_then(Value::as_str) {
            found.content_type = Some(content_type.to_owned());
        }
        if tags.is_some() {
            found.tags = tags;
        }
        found.updated = now();
        json_response(200, bundle(name, found, false))
    }

    fn page_size(&self, call: &Call) -> usize {
        let requested = call
            .query
            .get("maxresults")
            .and_then(|text| text.parse::<usize>().ok());
        requested
            .or(self.page_size)
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, DEFAULT_PAGE_SIZE)
    }

    /// Returns one page of `items` and a `nextLink` to the rest.
    fn page(&self, call: &Call, path: &str, items: Vec<Value>) -> Response<Full<Bytes>> {
        let size = self.page_size(call);
        let start = call
            .query
            .get("$skiptoken")
            .and_then(|text| text.parse::<usize>().ok())
            .unwrap_or(0);
        let end = (start + size).min(items.len());
        let page: Vec<Value> = items.get(start..end).unwrap_or_default().to_vec();
        let next_link = (end < items.len()).then(|| {
            format!(
                "https://{VAULT_HOST}{path}?api-version={API_VERSION}&$skiptoken={end}&maxresults={size}"
            )
        });
        json_response(200, json!({"value": page, "nextLink": next_link}))
    }

    fn list_versions(&self, name: &str, call: &Call) -> Response<Full<Bytes>> {
        let Some(secret) = self.secrets.get(name) else {
            return not_found(name);
        };
        let items = secret
            .versions
            .iter()
            .map(|version| list_item(name, version, Some(&version.id)))
            .collect();
        self.page(call, &format!("/secrets/{name}/versions"), items)
    }

    fn list_secrets(&self, call: &Call) -> Response<Full<Bytes>> {
        let items = self
            .secrets
            .iter()
            .filter_map(|(name, secret)| Some(list_item(name, secret.versions.last()?, None)))
            .collect();
        self.page(call, "/secrets", items)
    }

    fn delete_secret(&mut self, name: &str) -> Response<Full<Bytes>> {
        let Some(secret) = self.secrets.remove(name) else {
            return not_found(name);
        };
        let at = now();
        let deleted = DeletedSecret {
            secret,
            deleted_date: at,
            scheduled_purge_date: at + RETENTION_DAYS * 86_400,
        };
        let body = deleted_bundle(name, &deleted, false);
        self.deleted.insert(name.to_owned(), deleted);
        json_response(200, body)
    }

    fn get_deleted(&self, name: &str) -> Response<Full<Bytes>> {
        match self.deleted.get(name) {
            Some(deleted) => json_response(200, deleted_bundle(name, deleted, false)),
            None => error(
                404,
                "SecretNotFound",
                &format!("Deleted Secret not found: {name}"),
            ),
        }
    }

    fn list_deleted(&self, call: &Call) -> Response<Full<Bytes>> {
        let items = self
            .deleted
            .iter()
            .map(|(name, deleted)| deleted_bundle(name, deleted, true))
            .collect();
        self.page(call, "/deletedsecrets", items)
    }

    fn recover(&mut self, name: &str) -> Response<Full<Bytes>> {
        let Some(deleted) = self.deleted.remove(name) else {
            return error(
                404,
                "SecretNotFound",
                &format!("Deleted Secret not found: {name}"),
            );
        };
        let latest = deleted.secret.versions.last().expect("versions").clone();
        self.secrets.insert(name.to_owned(), deleted.secret);
        json_response(200, bundle(name, &latest, false))
    }

    fn purge(&mut self, name: &str) -> Response<Full<Bytes>> {
        if !self.deleted.contains_key(name) {
            return error(
                404,
                "SecretNotFound",
                &format!("Deleted Secret not found: {name}"),
            );
        }
        if self.purge_protection {
            let message = "Operation \"purge\" is not allowed because purge protection is \
                           enabled for this vault. Key Vault service will automatically purge \
                           it after the retention period has passed.";
            return error(403, "Forbidden", message);
        }
        self.deleted.remove(name);
        Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Full::new(Bytes::new()))
            .expect("response")
    }
}
