//! The provider block: which environments this configuration may touch,
//! naming, default tags, and the settings of each secrets store.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting,
};
use crate::value::{Type, Value};

/// A SIPS environment. Staging and production always use separate credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Environment {
    Staging,
    Production,
}

impl Environment {
    pub const NAMES: &'static [&'static str] = &["staging", "production"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "staging" => Some(Self::Staging),
            "production" => Some(Self::Production),
            _ => None,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// AWS settings from the `aws` block; unset values come from aws-config's
/// standard chain (environment, shared profile, SSO, web identity).
#[derive(Clone, Debug, Default)]
pub struct AwsBlock {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub use_instance_metadata: bool,
    pub assume_role: Option<AssumeRoleBlock>,
}

#[derive(Clone, Debug)]
pub struct AssumeRoleBlock {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// Azure settings from the `azure` block; the vault comes from each resource.
#[derive(Clone, Debug)]
pub struct AzureBlock {
    pub tenant_id: Option<String>,
    pub managed_identity_client_id: Option<String>,
    pub use_managed_identity: bool,
    /// Name of an environment variable holding a bearer token to use instead of the chain.
    pub access_token_env: Option<String>,
    pub recover_soft_deleted: bool,
    pub purge_on_delete: bool,
    pub ca_certificate_file: Option<String>,
    pub resolve: BTreeMap<String, String>,
}

impl Default for AzureBlock {
    fn default() -> Self {
        Self {
            tenant_id: None,
            managed_identity_client_id: None,
            use_managed_identity: true,
            access_token_env: None,
            recover_soft_deleted: true,
            purge_on_delete: false,
            ca_certificate_file: None,
            resolve: BTreeMap::new(),
        }
    }
}

/// SRS's OAuth2 token endpoint that new secrets are checked against.
#[derive(Clone, Debug)]
pub struct VerificationBlock {
    pub token_url: String,
    pub scope: Option<String>,
    pub timeout_seconds: u64,
}

/// The decoded provider configuration.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Environments this configuration may touch; `None` allows both.
    pub environments: Option<BTreeSet<Environment>>,
    pub name_prefix: String,
    pub default_tags: BTreeMap<String, String>,
    pub audit_log_path: Option<String>,
    pub aws: AwsBlock,
    pub azure: AzureBlock,
    pub verification: Option<VerificationBlock>,
}

pub const DEFAULT_NAME_PREFIX: &str = "sips";

impl ProviderConfig {
    /// Returns whether this configuration may touch `environment`.
    pub fn allows(&self, environment: Environment) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&environment))
    }

    /// Decodes and checks the provider block. Unknown values are treated as
    /// unset, because Terraform validates before they are known.
    pub fn from_value(config: &Value) -> Result<Self, Diagnostics> {
        let mut diagnostics = Diagnostics::new();
        let environments = environments(config.attr("environments"), &mut diagnostics);
        let name_prefix = optional_string(config, "name_prefix")
            .unwrap_or_else(|| DEFAULT_NAME_PREFIX.to_owned());
        check_name_prefix(&name_prefix, &mut diagnostics);
        let default_tags = string_map(config.attr("default_tags"));
        for key in default_tags.keys().filter(|key| key.starts_with("sips:")) {
            diagnostics.push(
                Diagnostic::error(
                    "Reserved tag key",
                    format!(
                        "Tag keys starting with \"sips:\" hold the provider's own metadata; \
                         rename {key:?}."
                    ),
                )
                .at(AttributePath::root("default_tags").key(key)),
            );
        }
        let parsed = Self {
            environments,
            name_prefix,
            default_tags,
            audit_log_path: optional_string(config, "audit_log_path"),
            aws: aws_block(config.attr("aws")),
            azure: azure_block(config.attr("azure")),
            verification: verification_block(config.attr("verification"), &mut diagnostics),
        };
        if diagnostics.has_errors() {
            Err(diagnostics)
        } else {
            Ok(parsed)
        }
    }
}

fn environments(value: &Value, diagnostics: &mut Diagnostics) -> Option<BTreeSet<Environment>> {
    let (Value::Set(items) | Value::List(items)) = value else {
        return None;
    };
    let mut allowed = BTreeSet::new();
    for item in items {
        match item.as_str().map(|s| (s, Environment::parse(s))) {
            Some((_, Some(environment))) => {
                allowed.insert(environment);
            }
            Some((text, None)) => diagnostics.push(
                Diagnostic::error(
                    "Invalid environment",
                    format!(
                        "environments may contain only \"staging\" and \"production\", got {text:?}."
                    ),
                )
                .at(AttributePath::root("environments")),
            ),
            None => {}
        }
    }
    Some(allowed)
}

fn check_name_prefix(prefix: &str, diagnostics: &mut Diagnostics) {
    let valid = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        diagnostics.push(
            Diagnostic::error(
                "Invalid name prefix",
                format!(
                    "name_prefix must be 1 to 64 letters, digits, '-' or '_', so that entry \
                     names are valid in every store; got {prefix:?}."
                ),
            )
            .at(AttributePath::root("name_prefix")),
        );
    }
}

impl AwsBlock {
    /// Converts the block into store settings.
    pub fn settings(&self) -> crate::stores::aws::AwsSettings {
        crate::stores::aws::AwsSettings {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint.clone(),
            assume_role: self
                .assume_role
                .as_ref()
                .map(|role| crate::stores::aws::AssumeRole {
                    role_arn: role.role_arn.clone(),
                    session_name: role.session_name.clone(),
                    external_id: role.external_id.clone(),
                }),
            disable_imds: !self.use_instance_metadata,
            ..Default::default()
        }
    }
}

fn aws_block(value: &Value) -> AwsBlock {
    if !matches!(value, Value::Object(_)) {
        return AwsBlock {
            use_instance_metadata: true,
            ..AwsBlock::default()
        };
    }
    let assume_role = match value.attr("assume_role") {
        role @ Value::Object(_) => {
            optional_string(role, "role_arn").map(|role_arn| AssumeRoleBlock {
                role_arn,
                session_name: optional_string(role, "session_name"),
                external_id: optional_string(role, "external_id"),
            })
        }
        _ => None,
    };
    AwsBlock {
        region: optional_string(value, "region"),
        profile: optional_string(value, "profile"),
        endpoint: optional_string(value, "endpoint"),
        use_instance_metadata: value
            .attr("use_instance_metadata")
            .as_bool()
            .unwrap_or(true),
        assume_role,
    }
}

fn azure_block(value: &Value) -> AzureBlock {
    if !matches!(value, Value::Object(_)) {
        return AzureBlock::default();
    }
    let flag = |name: &str, default: bool| value.attr(name).as_bool().unwrap_or(default);
    AzureBlock {
        tenant_id: optional_string(value, "tenant_id"),
        managed_identity_client_id: optional_string(value, "managed_identity_client_id"),
        use_managed_identity: flag("use_managed_identity", true),
        access_token_env: optional_string(value, "access_token_env"),
        recover_soft_deleted: flag("recover_soft_deleted", true),
        purge_on_delete: flag("purge_on_delete", false),
        ca_certificate_file: optional_string(value, "ca_certificate_file"),
        resolve: string_map(value.attr("resolve")),
    }
}

fn verification_block(value: &Value, diagnostics: &mut Diagnostics) -> Option<VerificationBlock> {
    let token_url = optional_string(value, "token_url")?;
    let timeout = value.attr("timeout_seconds").as_i64().unwrap_or(10);
    if !(1..=120).contains(&timeout) {
        diagnostics.push(
            Diagnostic::error(
                "Invalid timeout",
                format!("timeout_seconds must be a whole number from 1 to 120, got {timeout}."),
            )
            .at(AttributePath::root("verification").attribute("timeout_seconds")),
        );
    }
    Some(VerificationBlock {
        token_url,
        scope: optional_string(value, "scope"),
        timeout_seconds: timeout.clamp(1, 120) as u64,
    })
}

pub fn optional_string(object: &Value, name: &str) -> Option<String> {
    object.attr(name).as_str().map(str::to_owned)
}

pub fn string_map(value: &Value) -> BTreeMap<String, String> {
    match value {
        Value::Map(items) => items
            .iter()
            .filter_map(|(key, item)| item.as_str().map(|s| (key.clone(), s.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn block() -> Block {
    Block::new(
        "The SIPS provider keeps SIPS partner credentials in secrets managers and plans their \
         rotation. Each provider configuration can be restricted to the environments it may \
         touch, so that a staging pipeline cannot change production credentials.",
    )
    .attribute(Attribute::optional(
        "environments",
        Type::Set(Box::new(Type::String)),
        "Environments (`staging`, `production`) that resources of this provider configuration \
         may manage. A credential for any other environment fails the plan. Unset allows both.",
    ))
    .attribute(Attribute::optional(
        "name_prefix",
        Type::String,
        "Prefix of derived entry names, which follow `<name_prefix>/<environment>/<client_id>`. \
         1 to 64 letters, digits, `-` or `_`. Defaults to `sips`.",
    ))
    .attribute(Attribute::optional(
        "default_tags",
        Type::Map(Box::new(Type::String)),
        "Tags added to every entry this provider creates. Tags set on a resource win.",
    ))
    .attribute(Attribute::optional(
        "audit_log_path",
        Type::String,
        "Path of a file to which the provider appends one JSON line per change to an entry \
         (who, what, when, environment, `client_id`, versions; never a secret).",
    ))
    .block(NestedBlock::new("aws", Nesting::Single, aws_schema_block()))
    .block(NestedBlock::new(
        "azure",
        Nesting::Single,
        azure_schema_block(),
    ))
    .block(NestedBlock::new(
        "verification",
        Nesting::Single,
        verification_schema_block(),
    ))
}

fn verification_schema_block() -> Block {
    Block::new(
        "Checks every new client secret with SRS before it is stored: the provider requests \
         an OAuth2 token with the client credentials, and a rejected secret fails the apply \
         while the previous secret stays current.",
    )
    .attribute(Attribute::required(
        "token_url",
        Type::String,
        "SRS's OAuth2 token endpoint. Must use https; plain http is accepted only on loopback \
         addresses, for tests.",
    ))
    .attribute(Attribute::optional(
        "scope",
        Type::String,
        "OAuth2 scope to request, if SRS requires one.",
    ))
    .attribute(Attribute::optional(
        "timeout_seconds",
        Type::Number,
        "Timeout of each token request in seconds, 1 to 120. Defaults to 10. Failed \
         connections, timeouts and server errors are tried 3 times in all.",
    ))
}

fn azure_schema_block() -> Block {
    Block::new(
        "Azure Key Vault settings, shared by every vault that `azure_key_vault` blocks name. \
         Without `access_token_env` the identity comes from the standard chain: a client \
         secret from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`, workload \
         identity, managed identity, then the Azure CLI's signed-in account.",
    )
    .attribute(Attribute::optional(
        "tenant_id",
        Type::String,
        "Microsoft Entra tenant of the identity. Unset, the chain reads `AZURE_TENANT_ID`.",
    ))
    .attribute(Attribute::optional(
        "managed_identity_client_id",
        Type::String,
        "Client id of a user-assigned managed identity. Unset uses the system-assigned one.",
    ))
    .attribute(Attribute::optional(
        "use_managed_identity",
        Type::Bool,
        "Whether the chain may request a managed identity token from the instance metadata \
         endpoint. Defaults to true; set false outside Azure to skip the lookup.",
    ))
    .attribute(Attribute::optional(
        "access_token_env",
        Type::String,
        "Name of an environment variable that holds a bearer token for the vaults, used \
         instead of the chain and never refreshed.",
    ))
    .attribute(Attribute::optional(
        "recover_soft_deleted",
        Type::Bool,
        "Whether creating a credential whose secret name is soft-deleted recovers that secret \
         and stores the new value in it. Defaults to true; when false, the create fails until \
         the name is recovered or purged.",
    ))
    .attribute(Attribute::optional(
        "purge_on_delete",
        Type::Bool,
        "Whether destroying a credential with `force_delete = true` also purges its \
         soft-deleted secret. Defaults to false, so nothing is purged.",
    ))
    .attribute(Attribute::optional(
        "ca_certificate_file",
        Type::String,
        "Path of a PEM file with the CA certificates to trust for the vaults instead of the \
         system roots, for private endpoints and test servers.",
    ))
    .attribute(Attribute::optional(
        "resolve",
        Type::Map(Box::new(Type::String)),
        "Vault host names mapped to the `address:port` to connect to instead of resolving \
         them, for private endpoints and test servers. Certificates are still checked \
         against the host name.",
    ))
}

fn aws_schema_block() -> Block {
    let assume_role = Block::new("An IAM role to assume for every AWS call.")
        .attribute(Attribute::required(
            "role_arn",
            Type::String,
            "ARN of the role to assume.",
        ))
        .attribute(Attribute::optional(
            "session_name",
            Type::String,
            "Session name recorded in CloudTrail. Defaults to `terraform-provider-sips`.",
        ))
        .attribute(Attribute::optional(
            "external_id",
            Type::String,
            "External id that the role's trust policy requires, if any.",
        ));
    Block::new(
        "AWS Secrets Manager settings. Unset values come from the standard AWS chain: \
         environment variables, shared config and credentials files, SSO, web identity.",
    )
    .attribute(Attribute::optional(
        "region",
        Type::String,
        "AWS region, for example `eu-west-1`.",
    ))
    .attribute(Attribute::optional(
        "profile",
        Type::String,
        "Named profile from the shared AWS config and credentials files.",
    ))
    .attribute(Attribute::optional(
        "endpoint",
        Type::String,
        "Secrets Manager endpoint URL, to use an emulator such as `http://127.0.0.1:5000`.",
    ))
    .attribute(Attribute::optional(
        "use_instance_metadata",
        Type::Bool,
        "Whether credentials and region may come from the EC2 instance metadata service. \
         Defaults to true; set false outside AWS to skip the lookup.",
    ))
    .block(NestedBlock::new(
        "assume_role",
        Nesting::Single,
        assume_role,
    ))
}
