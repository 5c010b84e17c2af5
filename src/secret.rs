//! The `client_secret`: where it is loaded from, a type that cannot print it, and the
//! salted fingerprints that are the only trace of it the provider stores.
//!
//! A secret comes from a write-only attribute, a file, or an environment variable.
//! Errors name the source (path or variable) and never carry the content.
//!
//! Fingerprint format: `hmac-sha256:<salt>:<mac>`, where `<salt>` is 16 random bytes,
//! `<mac>` is HMAC-SHA256 keyed with the salt over the secret's UTF-8 bytes, and both
//! are base64url without padding (RFC 4648 §5), 22 and 43 characters long. Knowing the
//! salt, a fingerprint lets anyone test a guess, so it protects only high-entropy
//! secrets such as SRS-issued client secrets, not short passwords.

use std::ffi::OsString;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Maximum size in bytes of a secret file. A client secret is far shorter, so a larger
/// file is almost certainly the wrong path.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Length in bytes of a fingerprint salt.
pub const SALT_LEN: usize = 16;

const FINGERPRINT_PREFIX: &str = "hmac-sha256";
const MAC_LEN: usize = 32;
const TOKEN_DOMAIN: &[u8] = b"sips idempotency token v1\0";

/// Errors from loading a secret or parsing a fingerprint. None carries secret content.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A write-only value is the empty string.
    #[error("secret value is empty or only whitespace")]
    EmptyValue,

    /// A secret file contains nothing but a newline, or nothing at all.
    #[error("secret file {} is empty", path.display())]
    EmptyFile {
        /// The file that was read.
        path: PathBuf,
    },

    /// A secret file is larger than [`MAX_FILE_BYTES`].
    #[error("secret file {} is larger than {MAX_FILE_BYTES} bytes", path.display())]
    FileTooLarge {
        /// The file that was read.
        path: PathBuf,
    },

    /// A secret file could not be opened or read.
    #[error("failed to read secret file {}", path.display())]
    ReadFile {
        /// The file that was read.
        path: PathBuf,
        /// The I/O error, which describes the failure and not the content.
        #[source]
        source: std::io::Error,
    },

    /// A secret file is not UTF-8.
    #[error("secret file {} is not valid UTF-8", path.display())]
    FileNotUtf8 {
        /// The file that was read.
        path: PathBuf,
    },

    /// An environment variable name cannot name a variable.
    #[error(
        "invalid environment variable name {name:?}: expected a non-empty name without '=' or NUL"
    )]
    InvalidEnvName {
        /// The rejected name.
        name: String,
    },

    /// An environment variable is not set.
    #[error("environment variable {name} is not set")]
    EnvUnset {
        /// The variable's name.
        name: String,
    },

    /// An environment variable is set to the empty string.
    #[error("environment variable {name} is empty")]
    EnvEmpty {
        /// The variable's name.
        name: String,
    },

    /// An environment variable's value is not valid Unicode.
    #[error("environment variable {name} is not valid Unicode")]
    EnvNotUnicode {
        /// The variable's name.
        name: String,
    },

    /// A stored fingerprint does not follow `hmac-sha256:<salt>:<mac>`.
    #[error("invalid fingerprint: {reason}")]
    InvalidFingerprint {
        /// The part that is wrong.
        reason: &'static str,
    },
}

/// A secret value whose `Debug` output is `[redacted]` and which has no `Display`.
///
/// The value is zeroized on drop and reachable only through [`Secret::expose_secret`].
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a non-empty value, such as a write-only attribute's.
    ///
    /// # Errors
    ///
    /// [`SecretError::EmptyValue`] when `value` is empty.
    pub fn new(value: String) -> Result<Self, SecretError> {
        // Only whitespace is as unusable as nothing: a blank line left in a
        // secret file, never a secret SRS issued.
        if value.trim().is_empty() {
            return Err(SecretError::EmptyValue);
        }
        Ok(Self(SecretString::from(value)))
    }

    /// Returns the secret text. Call it only where the value leaves for a store or a
    /// hash, never to build a message.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The configured origin of a secret.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// A write-only attribute's value, already in memory.
    WriteOnly(Secret),
    /// A file read when the secret is needed.
    File(PathBuf),
    /// An environment variable of the provider process, by name.
    EnvVar(String),
}

impl SecretSource {
    /// Loads the secret from its source.
    ///
    /// # Errors
    ///
    /// Those of [`read_file`] or [`read_env`].
    pub fn load(&self) -> Result<LoadedSecret, SecretError> {
        match self {
            Self::WriteOnly(secret) => Ok(LoadedSecret::new(secret.clone())),
            Self::File(path) => read_file(path),
            Self::EnvVar(name) => read_env(name).map(LoadedSecret::new),
        }
    }
}

/// A loaded secret and the file-permission problem, if any, that the caller should
/// report as a warning.
#[derive(Debug, Clone)]
pub struct LoadedSecret {
    /// The secret.
    pub secret: Secret,
    /// The secret file's permission bits (for example `0o644`) when its group or
    /// other users may read it. Always `None` for other sources and off Unix.
    pub loose_permissions: Option<u32>,
}

impl LoadedSecret {
    fn new(secret: Secret) -> Self {
        Self {
            secret,
            loose_permissions: None,
        }
    }
}

/// Reads a secret from the file at `path`.
///
/// One trailing line break (`\n` or `\r\n`) is removed because editors and `echo` add
/// one. The file may be a pipe, so the size check counts the bytes actually read.
///
/// # Errors
///
/// [`SecretError::ReadFile`], [`SecretError::FileTooLarge`],
/// [`SecretError::FileNotUtf8`] or [`SecretError::EmptyFile`].
pub fn read_file(path: &Path) -> Result<LoadedSecret, SecretError> {
    let read_error = |source| SecretError::ReadFile {
        path: path.to_owned(),
        source,
    };
    let too_large = || SecretError::FileTooLarge {
        path: path.to_owned(),
    };

    let file = File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }

    // Reserving the whole limit up front keeps read_to_end from reallocating, which
    // would leave copies of the secret in freed memory that Zeroizing cannot reach.
    let mut buffer = Zeroizing::new(Vec::with_capacity(MAX_FILE_BYTES as usize + 1));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buffer)
        .map_err(read_error)?;
    if buffer.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }

    let text =
        std::str::from_utf8(strip_line_break(&buffer)).map_err(|_| SecretError::FileNotUtf8 {
            path: path.to_owned(),
        })?;
    if text.is_empty() {
        return Err(SecretError::EmptyFile {
            path: path.to_owned(),
        });
    }
    Ok(LoadedSecret {
        secret: Secret(SecretString::from(text)),
        loose_permissions: loose_permissions(&metadata),
    })
}

fn strip_line_break(bytes: &[u8]) -> &[u8] {
    match bytes.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => bytes,
    }
}

#[cfg(unix)]
fn loose_permissions(metadata: &Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;

    let mode = metadata.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_permissions(_metadata: &Metadata) -> Option<u32> {
    None
}

/// Reads a secret from the provider's environment variable `name`.
///
/// # Errors
///
/// Those of [`read_env_with`].
pub fn read_env(name: &str) -> Result<Secret, SecretError> {
    read_env_with(name, |name| std::env::var_os(name))
}

/// Reads a secret from the variable `name` as returned by `lookup`.
///
/// Tests pass a map lookup because changing the process environment is unsafe while
/// other test threads may read it.
///
/// # Errors
///
/// [`SecretError::InvalidEnvName`], [`SecretError::EnvUnset`],
/// [`SecretError::EnvNotUnicode`] or [`SecretError::EnvEmpty`].
pub fn read_env_with(
    name: &str,
    lookup: impl FnOnce(&str) -> Option<OsString>,
) -> Result<Secret, SecretError> {
    let owned_name = || name.to_owned();
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(SecretError::InvalidEnvName { name: owned_name() });
    }

    let value = lookup(name).ok_or_else(|| SecretError::EnvUnset { name: owned_name() })?;
    let value = value
        .into_string()
        .map_err(|_| SecretError::EnvNotUnicode { name: owned_name() })?;
    Secret::new(value).map_err(|_| SecretError::EnvEmpty { name: owned_name() })
}

/// A random key for one fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; SALT_LEN]);

impl Salt {
    /// Returns the salt's bytes.
    pub fn as_bytes(&self) -> &[u8; SALT_LEN] {
        &self.0
    }
}

/// Returns a salt derived from `context`, such as an entry's name, environment
/// and client_id.
///
/// A derived salt is the same on every run, so a create planned twice, or
/// retried after an interruption, computes the same fingerprint and request
/// token. It still differs between entries, so fingerprints of two entries
/// cannot be compared without their salts.
pub fn derived_salt(context: &[u8]) -> Salt {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"sips fingerprint salt\0");
    hasher.update(context);
    let digest = hasher.finalize();
    let mut bytes = [0; SALT_LEN];
    bytes.copy_from_slice(&digest[..SALT_LEN]);
    Salt(bytes)
}

/// Returns a salt from the thread-local CSPRNG, which the OS generator seeds.
pub fn new_salt() -> Salt {
    let mut bytes = [0; SALT_LEN];
    rand::rng().fill_bytes(&mut bytes);
    Salt(bytes)
}

/// A salted, non-reversible digest of a secret; see the module docs for its format.
#[derive(Clone)]
pub struct Fingerprint {
    salt: Salt,
    mac: [u8; MAC_LEN],
}

/// Returns the fingerprint of `secret` under a new random salt.
pub fn fingerprint(secret: &Secret) -> Fingerprint {
    fingerprint_with_salt(secret, &new_salt())
}

/// Returns the fingerprint of `secret` under `salt`, usually the salt of a stored
/// fingerprint, so that the two can be compared.
pub fn fingerprint_with_salt(secret: &Secret, salt: &Salt) -> Fingerprint {
    let mac = keyed_mac(secret, salt).finalize().into_bytes();
    Fingerprint {
        salt: *salt,
        mac: mac.into(),
    }
}

fn keyed_mac(secret: &Secret, salt: &Salt) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(secret.expose_secret().as_bytes());
    mac
}

impl Fingerprint {
    /// Returns the salt, for recomputing with [`fingerprint_with_salt`].
    pub fn salt(&self) -> Salt {
        self.salt
    }

    /// Returns whether `secret` has this fingerprint. The MAC comparison takes the same
    /// time wherever the first differing byte is.
    pub fn matches(&self, secret: &Secret) -> bool {
        keyed_mac(secret, &self.salt)
            .verify_slice(&self.mac)
            .is_ok()
    }

    /// Returns a request token derived from this fingerprint, so a retried write of
    /// the same secret sends the same token and the store can drop the duplicate.
    ///
    /// The token is the first 16 bytes of SHA-256 over a fixed domain tag and the
    /// fingerprint text, shaped as a version 8 UUID in lowercase hex (36 characters).
    /// That fits AWS's `ClientRequestToken`, which takes 32 to 64 characters.
    pub fn idempotency_token(&self) -> String {
        let digest = Sha256::new()
            .chain_update(TOKEN_DOMAIN)
            .chain_update(self.to_string())
            .finalize();
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;

        let hex = hex::encode(bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let salt = URL_SAFE_NO_PAD.encode(self.salt.as_bytes());
        let mac = URL_SAFE_NO_PAD.encode(self.mac);
        write!(f, "{FINGERPRINT_PREFIX}:{salt}:{mac}")
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| SecretError::InvalidFingerprint { reason };
        let mut parts = text.split(':');
        if parts.next() != Some(FINGERPRINT_PREFIX) {
            return Err(invalid("expected the prefix hmac-sha256:"));
        }
        let (Some(salt), Some(mac), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("expected hmac-sha256:<salt>:<mac>"));
        };

        let salt = decode_exact::<SALT_LEN>(salt)
            .ok_or_else(|| invalid("salt is not 16 bytes of unpadded base64url"))?;
        let mac = decode_exact::<MAC_LEN>(mac)
            .ok_or_else(|| invalid("mac is not 32 bytes of unpadded base64url"))?;
        Ok(Self {
            salt: Salt(salt),
            mac,
        })
    }
}

fn decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use super::*;

    const PLANTED: &str = "PLANTED-s3cr3t-7f41c0de";

    fn env(pairs: &[(&str, OsString)]) -> HashMap<String, OsString> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn read_env_from(name: &str, vars: &HashMap<String, OsString>) -> Result<Secret, SecretError> {
        read_env_with(name, |name| vars.get(name).cloned())
    }

    fn write_file(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Asserts that `text` shows neither the planted secret nor a piece of it.
    fn assert_hidden(context: &str, text: &str) {
        assert!(
            !text.contains(PLANTED),
            "{context} shows the secret: {text}"
        );
        assert!(
            !text.contains("s3cr3t"),
            "{context} shows part of the secret: {text}"
        );
    }

    /// Formats an error with its whole source chain, as a diagnostic would.
    fn error_chain(error: &SecretError) -> String {
        let mut text = format!("{error} / {error:?}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(" / {cause} / {cause:?}"));
            source = cause.source();
        }
        text
    }

    #[test]
    fn whitespace_secret_rejected() {
        assert!(matches!(
            Secret::new("   ".to_owned()),
            Err(SecretError::EmptyValue)
        ));
        assert!(Secret::new(" padded ".to_owned()).is_ok());
    }

    #[test]
    fn derived_salt_stable_per_context() {
        assert_eq!(derived_salt(b"staging/a"), derived_salt(b"staging/a"));
        assert_ne!(derived_salt(b"staging/a"), derived_salt(b"staging/b"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret:#?}"), "[redacted]");
        assert_eq!(secret.expose_secret(), PLANTED);
    }

    #[test]
    fn planted_secret_never_formatted() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(&dir, "secret", format!("{PLANTED}\n").as_bytes());
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let print = fingerprint(&secret);
        let sources = [
            SecretSource::WriteOnly(secret.clone()),
            SecretSource::File(file),
            SecretSource::EnvVar("SIPS_TEST_UNSET_7F41C0DE".to_owned()),
        ];

        for source in &sources {
            assert_hidden("source", &format!("{source:?} {source:#?}"));
            match source.load() {
                Ok(loaded) => assert_hidden("loaded secret", &format!("{loaded:?} {loaded:#?}")),
                Err(error) => assert_hidden("load error", &error_chain(&error)),
            }
        }
        assert_hidden("fingerprint", &format!("{print} {print:?}"));
        assert_hidden("token", &print.idempotency_token());
    }

    #[test]
    fn planted_secret_absent_from_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut not_utf8 = PLANTED.as_bytes().to_vec();
        not_utf8.push(0xff);
        let mut oversized = PLANTED.repeat(4000).into_bytes();
        oversized.truncate(MAX_FILE_BYTES as usize + 1);
        let files = [
            ("not-utf8", write_file(&dir, "not-utf8", &not_utf8)),
            ("oversized", write_file(&dir, "oversized", &oversized)),
        ];
        for (name, path) in files {
            let error = read_file(&path).expect_err(name);
            assert_hidden(name, &error_chain(&error));
        }

        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let mut bytes = PLANTED.as_bytes().to_vec();
            bytes.push(0xff);
            let vars = env(&[("SIPS_SECRET", OsString::from_vec(bytes))]);
            let error = read_env_from("SIPS_SECRET", &vars).unwrap_err();
            assert!(matches!(error, SecretError::EnvNotUnicode { .. }));
            assert_hidden("env not unicode", &error_chain(&error));
        }
    }

    #[test]
    fn new_rejects_empty_value() {
        assert!(matches!(
            Secret::new(String::new()),
            Err(SecretError::EmptyValue)
        ));
    }

    #[test]
    fn read_file_strips_one_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 6] = [
            ("no-line-break", b"abc", "abc"),
            ("lf", b"abc\n", "abc"),
            ("crlf", b"abc\r\n", "abc"),
            ("two-lf", b"abc\n\n", "abc\n"),
            ("lone-cr-kept", b"abc\r", "abc\r"),
            ("inner-spaces-kept", b" a b \n", " a b "),
        ];
        for (name, content, expected) in cases {
            let path = write_file(&dir, name, content);
            let loaded = read_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(loaded.secret.expose_secret(), expected, "{name}");
        }
    }

    #[test]
    fn read_file_rejects_empty() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [
            ("empty", &b""[..]),
            ("lf-only", b"\n"),
            ("crlf-only", b"\r\n"),
        ] {
            let path = write_file(&dir, name, content);
            let error = read_file(&path).expect_err(name);
            assert!(
                matches!(error, SecretError::EmptyFile { .. }),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn read_file_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limit = MAX_FILE_BYTES as usize;

        let at_limit = write_file(&dir, "at-limit", &vec![b'x'; limit]);
        assert_eq!(
            read_file(&at_limit).unwrap().secret.expose_secret().len(),
            limit
        );

        let over = write_file(&dir, "over", &vec![b'x'; limit + 1]);
        let error = read_file(&over).unwrap_err();
        assert!(matches!(error, SecretError::FileTooLarge { .. }), "{error}");
        assert!(error.to_string().contains("65536 bytes"), "{error}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn read_file_stops_at_limit_on_endless_file() {
        let error = read_file(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(error, SecretError::FileTooLarge { .. }), "{error}");
    }

    #[test]
    fn read_file_missing_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");

        let error = read_file(&missing).unwrap_err();
        assert!(matches!(error, SecretError::ReadFile { .. }), "{error}");
        assert!(
            error.to_string().contains(&missing.display().to_string()),
            "{error}"
        );

        let error = read_file(dir.path()).unwrap_err();
        assert!(matches!(error, SecretError::ReadFile { .. }), "{error}");
    }

    #[test]
    fn read_file_rejects_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(&dir, "latin1", b"caf\xe9\n");
        let error = read_file(&path).unwrap_err();
        assert!(matches!(error, SecretError::FileNotUtf8 { .. }), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn read_file_flags_loose_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("owner-only", 0o600, None),
            ("owner-read-only", 0o400, None),
            ("group-writable-only", 0o620, None),
            ("group-readable", 0o640, Some(0o640)),
            ("world-readable", 0o604, Some(0o604)),
            ("default-umask", 0o644, Some(0o644)),
        ];
        for (name, mode, expected) in cases {
            let path = write_file(&dir, name, b"abc");
            set_mode(&path, mode);
            let loaded = read_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(loaded.loose_permissions, expected, "{name}");
        }
    }

    #[test]
    fn source_load_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(&dir, "secret", b"from-file\n");
        let value = Secret::new("from-value".to_owned()).unwrap();

        let loaded = SecretSource::WriteOnly(value).load().unwrap();
        assert_eq!(loaded.secret.expose_secret(), "from-value");
        assert_eq!(loaded.loose_permissions, None);

        let loaded = SecretSource::File(path).load().unwrap();
        assert_eq!(loaded.secret.expose_secret(), "from-file");

        let error = SecretSource::EnvVar("SIPS_TEST_UNSET_7F41C0DE".to_owned())
            .load()
            .unwrap_err();
        assert!(matches!(error, SecretError::EnvUnset { .. }), "{error}");
    }

    #[test]
    fn read_env_cases() {
        let vars = env(&[
            ("SET", OsString::from("value\n")),
            ("EMPTY", OsString::new()),
        ]);
        assert_eq!(
            read_env_from("SET", &vars).unwrap().expose_secret(),
            "value\n"
        );

        let cases = [
            ("unset", "UNSET", "environment variable UNSET is not set"),
            ("empty", "EMPTY", "environment variable EMPTY is empty"),
            ("empty-name", "", "invalid environment variable name \"\""),
            (
                "name-with-equals",
                "A=B",
                "invalid environment variable name \"A=B\"",
            ),
            (
                "name-with-nul",
                "A\0B",
                "invalid environment variable name \"A\\0B\"",
            ),
        ];
        for (case, name, message) in cases {
            let error = read_env_from(name, &vars).expect_err(case);
            assert!(error.to_string().starts_with(message), "{case}: {error}");
        }
    }

    #[test]
    fn read_env_from_process() {
        let error = read_env("SIPS_TEST_UNSET_7F41C0DE").unwrap_err();
        assert!(matches!(error, SecretError::EnvUnset { .. }), "{error}");
    }

    #[test]
    fn fingerprint_format() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let text = fingerprint(&secret).to_string();
        let parts: Vec<&str> = text.split(':').collect();
        assert_eq!(parts.len(), 3, "{text}");
        assert_eq!(parts[0], "hmac-sha256");
        assert_eq!(parts[1].len(), 22, "{text}");
        assert_eq!(parts[2].len(), 43, "{text}");
        let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        assert!(parts[1].chars().all(url_safe), "{text}");
        assert!(parts[2].chars().all(url_safe), "{text}");
    }

    #[test]
    fn fingerprint_known_vector() {
        // Computed separately with Python 3:
        // hmac.new(bytes(range(16)), b"client-secret", hashlib.sha256), base64url.
        let secret = Secret::new("client-secret".to_owned()).unwrap();
        let salt = Salt(core::array::from_fn(|i| i as u8));
        let expected_mac = "0eibYRiL8gB0RygbAG4MgBGbi0EdWhuib2nW7k7a8AE";
        let text = fingerprint_with_salt(&secret, &salt).to_string();
        assert_eq!(
            text,
            format!("hmac-sha256:AAECAwQFBgcICQoLDA0ODw:{expected_mac}")
        );
    }

    #[test]
    fn fingerprint_stable_under_same_salt() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let first = fingerprint(&secret);
        let again = fingerprint_with_salt(&secret, &first.salt());
        assert_eq!(first.to_string(), again.to_string());
        assert!(first.matches(&secret));
    }

    #[test]
    fn fingerprint_differs_by_salt_and_secret() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let other_secret = Secret::new(format!("{PLANTED}x")).unwrap();
        let salt = new_salt();
        let other_salt = new_salt();
        assert_ne!(salt, other_salt);

        let base = fingerprint_with_salt(&secret, &salt).to_string();
        let salted = fingerprint_with_salt(&secret, &other_salt).to_string();
        let changed = fingerprint_with_salt(&other_secret, &salt);
        assert_ne!(base, salted);
        assert_ne!(base, changed.to_string());
        assert!(!changed.matches(&secret));
    }

    #[test]
    fn fingerprint_parse_round_trip() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let stored = fingerprint(&secret).to_string();
        let parsed: Fingerprint = stored.parse().unwrap();
        assert_eq!(parsed.to_string(), stored);
        assert!(parsed.matches(&secret));
        let recomputed = fingerprint_with_salt(&secret, &parsed.salt());
        assert_eq!(recomputed.to_string(), stored);
    }

    #[test]
    fn fingerprint_parse_rejects_malformed() {
        let salt = "AAECAwQFBgcICQoLDA0ODw";
        let mac = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let cases = [
            ("empty", String::new()),
            ("other-algorithm", format!("hmac-sha512:{salt}:{mac}")),
            ("missing-mac", format!("hmac-sha256:{salt}")),
            ("extra-part", format!("hmac-sha256:{salt}:{mac}:x")),
            ("short-salt", format!("hmac-sha256:AAEC:{mac}")),
            ("padded-salt", format!("hmac-sha256:{salt}==:{mac}")),
            (
                "standard-alphabet",
                format!("hmac-sha256:{salt}:{}+", &mac[..42]),
            ),
            ("short-mac", format!("hmac-sha256:{salt}:{}", &mac[..40])),
        ];
        for (name, text) in cases {
            let error = text.parse::<Fingerprint>().expect_err(name);
            assert!(
                matches!(error, SecretError::InvalidFingerprint { .. }),
                "{name}"
            );
        }
    }

    #[test]
    fn token_is_uuid_shaped_and_stable() {
        let secret = Secret::new(PLANTED.to_owned()).unwrap();
        let print = fingerprint(&secret);
        let token = print.idempotency_token();

        assert_eq!(token.len(), 36, "{token}");
        let groups: Vec<usize> = token.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{token}");
        assert!(
            token
                .chars()
                .all(|c| c == '-' || matches!(c, '0'..='9' | 'a'..='f'))
        );
        assert_eq!(&token[14..15], "8", "version nibble: {token}");
        assert!(
            matches!(&token[19..20], "8" | "9" | "a" | "b"),
            "variant: {token}"
        );

        let rerun = fingerprint_with_salt(&secret, &print.salt());
        assert_eq!(rerun.idempotency_token(), token);
        let other_salt = fingerprint(&secret);
        assert_ne!(other_salt.idempotency_token(), token);
    }

    #[test]
    fn file_written_through_handle_is_read() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"via-handle\n").unwrap();
        file.flush().unwrap();
        let loaded = read_file(file.path()).unwrap();
        assert_eq!(loaded.secret.expose_secret(), "via-handle");
    }
}
