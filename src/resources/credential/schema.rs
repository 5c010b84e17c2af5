//! The `sips_credential` schema. Its descriptions are the attribute reference
//! in `docs/resources/credential.md`.

use crate::framework::{Attribute, Block, IntBetween, NestedBlock, Nesting, OneOf, Schema};
use crate::provider::Environment;
use crate::resources::rotation_policy::rules_type;
use crate::value::{Type, Value};

pub const SECRET_WRITE_ONLY: &str = "client_secret_wo";
pub const SECRET_FILE: &str = "client_secret_file";
pub const SECRET_ENV: &str = "client_secret_env";
pub const AWS_BLOCK: &str = "aws_secrets_manager";
pub const AZURE_BLOCK: &str = "azure_key_vault";

/// Version of the state layout.
pub const SCHEMA_VERSION: i64 = 0;

pub fn schema() -> Schema {
    Schema {
        version: SCHEMA_VERSION,
        block: block(),
    }
}

fn block() -> Block {
    let block = Block::new(
        "One SIPS credential pair (`client_id` and `client_secret`) for one environment, kept \
         in a secrets store. The secret never enters plan or state: the provider stores a \
         salted fingerprint instead, and a new secret value plans an in-place rotation by \
         itself. Staging and production are always separate resources.",
    )
    .attribute(
        Attribute::required(
            "environment",
            Type::String,
            "SIPS environment of this credential: `staging` or `production`. Changing it \
             replaces the resource, because the two environments never share an entry.",
        )
        .force_new()
        .validate(OneOf(Environment::NAMES)),
    )
    .attribute(Attribute::required(
        "client_id",
        Type::String,
        "Public SIPS client identifier. Safe to show; it is stored in the entry and its tags.",
    ))
    .attribute(
        Attribute::optional(
            SECRET_WRITE_ONLY,
            Type::String,
            "The client secret as a write-only value, for Terraform and OpenTofu 1.11 and \
             later, which keep it out of plan and state. Older clients reject it; use \
             `client_secret_file` or `client_secret_env` with them. Exactly one of the three \
             must be set.",
        )
        .write_only()
        .write_only_fallback("client_secret_file or client_secret_env"),
    )
    .attribute(Attribute::optional(
        SECRET_FILE,
        Type::String,
        "Path of a file holding the client secret (one trailing newline is ignored), as \
         mounted by Docker or Kubernetes secrets or written by a CI secret step. The provider \
         reads it during plan, to detect a new secret, and during apply; only the path is \
         stored.",
    ))
    .attribute(Attribute::optional(
        SECRET_ENV,
        Type::String,
        "Name of an environment variable of the Terraform process that holds the client \
         secret. Read during plan and apply; only the name is stored.",
    ))
    .attribute(Attribute::optional(
        "rotation_policy",
        rules_type(),
        "Rotation rules, usually `sips_rotation_policy.<name>.rules`. With a policy the plan \
         shows the deadlines, warns when a rotation is due and fails (or warns, per the \
         policy's `enforcement`) past the mandatory deadline.",
    ))
    .attribute(
        Attribute::optional(
            "retire_previous",
            Type::Bool,
            "Retire the previous version now instead of at the end of the policy's overlap. \
             Retiring removes the version's `AWSPREVIOUS` stage; the version stays in the \
             entry's history. Defaults to false.",
        )
        .default(Value::Bool(false)),
    )
    .attribute(
        Attribute::optional(
            "revoked",
            Type::Bool,
            "Set to true to revoke the current secret at once after a suspected compromise: \
             the apply replaces the current value by a revocation marker, so no application \
             can read the secret, and plans fail until a new secret is supplied. Defaults to \
             false.",
        )
        .default(Value::Bool(false)),
    );

    computed_attributes(block)
        .block(NestedBlock::new(AWS_BLOCK, Nesting::Single, aws_block()))
        .block(NestedBlock::new(
            AZURE_BLOCK,
            Nesting::Single,
            azure_block(),
        ))
}

/// Adds the attributes that the provider computes: store ids, versions, the
/// fingerprint and the rotation deadlines.
fn computed_attributes(block: Block) -> Block {
    block
        .attribute(Attribute::computed(
            "id",
            Type::String,
            "Store identifier of the entry (the ARN on AWS Secrets Manager).",
        ))
        .attribute(Attribute::computed(
            "arn",
            Type::String,
            "ARN of the Secrets Manager secret.",
        ))
        .attribute(Attribute::computed(
            "version_id",
            Type::String,
            "Store version holding the current secret. It changes on every rotation, so \
         dependants can use it in `replace_triggered_by` or to restart consumers.",
        ))
        .attribute(Attribute::computed(
            "previous_version_id",
            Type::String,
            "Store version of the secret before the last rotation while it is still readable \
         (`AWSPREVIOUS`); null once retired.",
        ))
        .attribute(Attribute::computed(
            "issued_at",
            Type::String,
            "When the current secret was stored, in RFC 3339 (UTC).",
        ))
        .attribute(Attribute::computed(
            "fingerprint",
            Type::String,
            "Salted, non-reversible HMAC-SHA256 fingerprint of the client secret, in the form \
         `hmac-sha256:<salt>:<mac>`. A different secret gives a different fingerprint.",
        ))
        .attribute(Attribute::computed(
            "rotate_by",
            Type::String,
            "When a rotation becomes due: `issued_at` plus the policy's `rotate_after_days`. Null \
         without a policy.",
        ))
        .attribute(Attribute::computed(
            "expires_at",
            Type::String,
            "Mandatory deadline: `issued_at` plus the policy's `max_age_days`. Null without a \
         policy.",
        ))
        .attribute(Attribute::computed(
            "rotation_status",
            Type::String,
            "`current`, `due` (past `rotate_by`), `expired` (past `expires_at`) or `revoked`. \
         Recomputed on every refresh, so plans show it change as time passes.",
        ))
        .attribute(Attribute::computed(
            "previous_retire_at",
            Type::String,
            "When the previous version is retired: the rotation time plus the policy's \
         `overlap_days`. Null when there is no previous version or no policy.",
        ))
}

fn azure_block() -> Block {
    Block::new(
        "The Azure Key Vault secret that holds the credential pair as JSON. Its `nbf` is the \
         issue time and its `exp` the mandatory deadline, so Key Vault's own expiry alerts \
         fire.",
    )
    .attribute(
        Attribute::required(
            "vault_url",
            Type::String,
            "URL of the vault, for example `https://partner-vault.vault.azure.net`. Changing it \
             replaces the resource.",
        )
        .force_new(),
    )
    .attribute(
        Attribute::optional_computed(
            "secret_name",
            Type::String,
            "Name of the secret: 1 to 127 letters, digits and dashes. Defaults to \
             `<name_prefix>-<environment>-<client_id>` with other characters replaced by \
             dashes. Changing it replaces the resource.",
        )
        .force_new(),
    )
    .attribute(Attribute::computed(
        "content_type",
        Type::String,
        "Content type of the secret's value: always `application/json`, because the value is \
         the JSON document `{\"client_id\": ..., \"client_secret\": ...}`.",
    ))
    .attribute(Attribute::optional(
        "tags",
        Type::Map(Box::new(Type::String)),
        "Tags of the secret, merged over the provider's `default_tags`. Keys starting with \
         `sips:` are reserved. Key Vault allows 15 tags per secret and the provider uses up to \
         11 of them.",
    ))
    .attribute(
        Attribute::optional(
            "force_delete",
            Type::Bool,
            "On destroy, also purge the soft-deleted secret. Takes effect only when the \
             provider's `azure.purge_on_delete` is true as well; purge-protected vaults reject \
             it. Defaults to false.",
        )
        .default(Value::Bool(false)),
    )
}

fn aws_block() -> Block {
    Block::new("The AWS Secrets Manager secret that holds the credential pair as JSON.")
        .attribute(
            Attribute::optional_computed(
                "name",
                Type::String,
                "Name of the secret. Defaults to `<name_prefix>/<environment>/<client_id>`. \
                 Changing it replaces the resource.",
            )
            .force_new(),
        )
        .attribute(Attribute::optional(
            "kms_key_id",
            Type::String,
            "KMS key (id, ARN or alias) that encrypts the secret. Defaults to the account's \
             `aws/secretsmanager` key.",
        ))
        .attribute(Attribute::optional(
            "description",
            Type::String,
            "Description of the secret.",
        ))
        .attribute(Attribute::optional(
            "tags",
            Type::Map(Box::new(Type::String)),
            "Tags of the secret, merged over the provider's `default_tags`. Keys starting with \
             `sips:` are reserved for the provider's own metadata.",
        ))
        .attribute(
            Attribute::optional_computed(
                "recovery_window_days",
                Type::Number,
                "Days during which a destroyed secret can be restored: 7 to 30. Defaults to \
                 30 for production and 7 for staging.",
            )
            .validate(IntBetween { min: 7, max: 30 }),
        )
        .attribute(
            Attribute::optional(
                "force_delete",
                Type::Bool,
                "Delete without a recovery window on destroy. The secret cannot be restored \
                 afterwards. Defaults to false.",
            )
            .default(Value::Bool(false)),
        )
}
