//! The credential's configuration, decoded from a configuration or planned value.

use std::collections::BTreeMap;

use crate::framework::{AttributePath, Diagnostic, Diagnostics};
use crate::provider::{Environment, ProviderConfig};
use crate::resources::rotation_policy::rules_from;
use crate::rotation::Rules;
use crate::secret::{Secret, SecretSource};
use crate::value::Value;

use super::schema::{AWS_BLOCK, SECRET_ENV, SECRET_FILE, SECRET_WRITE_ONLY};

/// Source of the client secret, or `Unknown` while the configuration
/// still depends on values known only after apply.
pub enum SecretInput {
    Source(SecretSource),
    Unknown,
}

/// Settings of the `aws_secrets_manager` block.
#[derive(Clone, Debug, Default)]
pub struct AwsEntry {
    pub name: Option<String>,
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
    pub aws: AwsEntry,
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
            aws: aws_entry(config.attr(AWS_BLOCK)),
        }))
    }

    /// Returns the entry name: configured, or `<prefix>/<environment>/<client_id>`.
    pub fn entry_name(&self, provider: &ProviderConfig) -> String {
        self.aws.name.clone().unwrap_or_else(|| {
            format!(
                "{}/{}/{}",
                provider.name_prefix, self.environment, self.client_id
            )
        })
    }

    /// Returns the recovery window: configured, or 30 days for production and
    /// 7 for staging.
    pub fn recovery_window_days(&self) -> i64 {
        self.aws
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
    Err(check_secret_sources(config))
}

fn aws_entry(block: &Value) -> AwsEntry {
    if !matches!(block, Value::Object(_)) {
        return AwsEntry::default();
    }
    let text = |name: &str| block.attr(name).as_str().map(str::to_owned);
    AwsEntry {
        name: text("name"),
        kms_key_id: text("kms_key_id"),
        description: text("description"),
        tags: crate::provider::string_map(block.attr("tags")),
        recovery_window_days: block.attr("recovery_window_days").as_i64(),
    }
}
