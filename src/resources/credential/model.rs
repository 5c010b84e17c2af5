//! The credential's configuration, decoded from a configuration or planned value.

use std::collections::BTreeMap;

use crate::framework::{AttributePath, Diagnostic, Diagnostics};
use crate::provider::{Environment, ProviderConfig};
use crate::resources::rotation_policy::rules_from;
use crate::rotation::Rules;
use crate::secret::{Secret, SecretSource};
use crate::value::Value;

use super::schema::{AWS_BLOCK, AZURE_BLOCK, SECRET_ENV, SECRET_FILE, SECRET_WRITE_ONLY};

/// Source of the client secret, or `Unknown` while the configuration
/// still depends on values known only after apply or names no source.
pub enum SecretInput {
    Source(SecretSource),
    Unknown,
}

/// The secrets store that keeps a credential, chosen by its store block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Aws,
    Azure,
}

impl StoreKind {
    /// Returns the kind whose block is set in `value`, AWS when neither is.
    pub fn of(value: &Value) -> Self {
        match value.attr(AZURE_BLOCK) {
            Value::Object(_) => Self::Azure,
            _ => Self::Aws,
        }
    }

    /// Returns the name of the resource's block for this store.
    pub fn block(self) -> &'static str {
        match self {
            Self::Aws => AWS_BLOCK,
            Self::Azure => AZURE_BLOCK,
        }
    }

    /// Returns the block attribute that names the entry.
    pub fn name_attribute(self) -> &'static str {
        match self {
            Self::Aws => "name",
            Self::Azure => "secret_name",
        }
    }
}

/// Settings of the resource's store block.
#[derive(Clone, Debug)]
pub struct StoreEntry {
    pub kind: StoreKind,
    pub name: Option<String>,
    /// Key Vault URL; set for Azure only.
    pub vault_url: Option<String>,
    pub kms_key_id: Option<String>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub recovery_window_days: Option<i64>,
}

pub struct CredentialConfig {
    pub environment: Environment,
    pub client_id: String,
    pub secret: SecretInput,
    pub rules: Option<Rules>,
    pub retire_previous: bool,
    pub revoked: bool,
    pub store: StoreEntry,
}

impl CredentialConfig {
    /// Decodes a wholly known value, such as a planned state at apply time or
    /// a configuration whose identity attributes are known. Returns `Ok(None)`
    /// when `environment` or `client_id` are still unknown.
    pub fn from_value(config: &Value) -> Result<Option<Self>, Diagnostics> {
        let Some(environment) = config
            .attr("environment")
            .as_str()
            .and_then(Environment::parse)
        else {
            return Ok(None);
        };
        let Some(client_id) = config.attr("client_id").as_str().map(str::to_owned) else {
            return Ok(None);
        };
        let rules = match config.attr("rotation_policy") {
            Value::Null => None,
            policy => rules_from(policy, &AttributePath::root("rotation_policy"))?,
        };
        Ok(Some(Self {
            environment,
            client_id,
            secret: secret_input(config)?,
            rules,
            retire_previous: config.attr("retire_previous").as_bool().unwrap_or(false),
            revoked: config.attr("revoked").as_bool().unwrap_or(false),
            store: store_entry(config),
        }))
    }

    /// Returns the entry name: configured, or derived from the prefix, the
    /// environment and the client_id: `<prefix>/<environment>/<client_id>` on
    /// AWS, and on Key Vault, whose names allow only letters, digits and
    /// dashes, the same parts joined by dashes with other characters replaced.
    pub fn entry_name(&self, provider: &ProviderConfig) -> String {
        if let Some(name) = &self.store.name {
            return name.clone();
        }
        let (prefix, environment) = (&provider.name_prefix, self.environment);
        match self.store.kind {
            StoreKind::Aws => format!("{prefix}/{environment}/{}", self.client_id),
            StoreKind::Azure => {
                let joined = format!("{prefix}-{environment}-{}", self.client_id);
                let dashed: String = joined
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                dashed.chars().take(KEY_VAULT_NAME_MAX).collect()
            }
        }
    }

    /// Returns the recovery window: configured, or 30 days for production and
    /// 7 for staging.
    pub fn recovery_window_days(&self) -> i64 {
        self.store
            .recovery_window_days
            .unwrap_or(match self.environment {
                Environment::Production => 30,
                Environment::Staging => 7,
            })
    }
}

/// Checks that exactly one secret source is set, on any configuration.
pub fn check_secret_sources(config: &Value) -> Diagnostics {
    let set: Vec<&str> = [SECRET_WRITE_ONLY, SECRET_FILE, SECRET_ENV]
        .into_iter()
        .filter(|name| !config.attr(name).is_null())
        .collect();
    let mut diagnostics = Diagnostics::new();
    match set.len() {
        1 => {}
        0 => diagnostics.push(Diagnostic::error(
            "Missing client secret",
            "Set exactly one of client_secret_wo (Terraform or OpenTofu 1.11 and later), \
             client_secret_file or client_secret_env, so that the provider can store the \
             secret without keeping it in state.",
        )),
        _ => {
            for name in &set[1..] {
                diagnostics.push(
                    Diagnostic::error(
                        "Conflicting client secret sources",
                        format!(
                            "{} and {name} are both set. Set exactly one of client_secret_wo, \
                             client_secret_file and client_secret_env.",
                            set[0]
                        ),
                    )
                    .at(AttributePath::root(name)),
                );
            }
        }
    }
    diagnostics
}

fn secret_input(config: &Value) -> Result<SecretInput, Diagnostics> {
    let write_only = config.attr(SECRET_WRITE_ONLY);
    let file = config.attr(SECRET_FILE);
    let env = config.attr(SECRET_ENV);
    if [write_only, file, env]
        .iter()
        .any(|value| value.is_unknown())
    {
        return Ok(SecretInput::Unknown);
    }
    if let Some(text) = write_only.as_str() {
        let secret = Secret::new(text.to_owned()).map_err(|_| {
            Diagnostics::from(
                Diagnostic::error("Empty client secret", "client_secret_wo must not be empty.")
                    .at(AttributePath::root(SECRET_WRITE_ONLY)),
            )
        })?;
        return Ok(SecretInput::Source(SecretSource::WriteOnly(secret)));
    }
    if let Some(path) = file.as_str() {
        return Ok(SecretInput::Source(SecretSource::File(path.into())));
    }
    if let Some(name) = env.as_str() {
        return Ok(SecretInput::Source(SecretSource::EnvVar(name.to_owned())));
    }
    // Validation rejects a configuration without a source; a state has none
    // after an import, and reads and deletes do not need one.
    Ok(SecretInput::Unknown)
}

/// Longest Key Vault secret name.
pub const KEY_VAULT_NAME_MAX: usize = 127;

fn store_entry(config: &Value) -> StoreEntry {
    let kind = StoreKind::of(config);
    let block = config.attr(kind.block());
    let text = |name: &str| block.attr(name).as_str().map(str::to_owned);
    StoreEntry {
        kind,
        name: text(kind.name_attribute()),
        vault_url: text("vault_url"),
        kms_key_id: text("kms_key_id"),
        description: text("description"),
        tags: crate::provider::string_map(block.attr("tags")),
        recovery_window_days: block.attr("recovery_window_days").as_i64(),
    }
}

/// Returns why `name` is not a valid Key Vault secret name, if it is not.
pub fn key_vault_name_problem(name: &str) -> Option<String> {
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !name.is_empty() && name.len() <= KEY_VAULT_NAME_MAX && valid_chars {
        return None;
    }
    Some(format!(
        "Key Vault secret names are 1 to {KEY_VAULT_NAME_MAX} letters, digits and dashes; \
         got {name:?}."
    ))
}
