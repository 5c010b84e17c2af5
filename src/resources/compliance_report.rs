//! `sips_compliance_report`: the rotation status of every credential entry
//! that this provider manages in a store, for dashboards and CI gates.
//!
//! It reads only metadata (tags), never a secret value.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::framework::{
    Attribute, AttributePath, Block, DataReadRequest, DataSource, Diagnostics, OneOf, Schema,
    StateResponse,
};
use crate::provider::{Environment, ProviderData};
use crate::resources::credential::state::{TAG_ISSUED_AT, timestamp};
use crate::resources::rotation_policy::{rules_from, rules_type};
use crate::rotation::{Deadlines, Rules, parse_rfc3339};
use crate::stores::{EntryState, SecretStore, tag};
use crate::value::{Type, Value};

pub const TYPE_NAME: &str = "sips_compliance_report";

/// Status of an entry whose issue time cannot be read from its tags.
const STATUS_UNKNOWN: &str = "unknown";

pub struct ComplianceReportDataSource;

fn entry_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("environment", Type::String),
        ("client_id", Type::String),
        ("issued_at", Type::String),
        ("rotate_by", Type::String),
        ("expires_at", Type::String),
        ("rotation_status", Type::String),
        ("days_until_expiry", Type::Number),
    ])
}

fn block() -> Block {
    Block::new(
        "Rotation status of every SIPS credential entry that this provider manages in a store \
         (entries tagged `sips:managed_by`): AWS Secrets Manager, or the Key Vault named by \
         `vault_url`. Reads tags only, never a secret.",
    )
    .attribute(Attribute::optional(
        "vault_url",
        Type::String,
        "Key Vault to report on, for example `https://partner-vault.vault.azure.net`. Unset \
         reports on AWS Secrets Manager.",
    ))
    .attribute(
        Attribute::optional(
            "environment",
            Type::String,
            "Only report entries of this environment: `staging` or `production`. Unset reports \
             both, within the provider's `environments`.",
        )
        .validate(OneOf(Environment::NAMES)),
    )
    .attribute(Attribute::optional(
        "rotation_policy",
        rules_type(),
        "Rules to judge the entries by, usually `sips_rotation_policy.<name>.rules`. Defaults to \
         SRS's limits: rotation due after 90 days, expiry after 180.",
    ))
    .attribute(Attribute::computed(
        "entries",
        Type::List(Box::new(entry_type())),
        "One object per entry, sorted by name: `name`, `environment`, `client_id`, \
         `issued_at`, `rotate_by`, `expires_at`, `rotation_status` (`current`, `due`, \
         `expired` or `unknown` when the entry has no `sips:issued_at` tag) and \
         `days_until_expiry` (negative once expired).",
    ))
    .attribute(Attribute::computed(
        "status_counts",
        Type::Map(Box::new(Type::Number)),
        "Number of entries per `rotation_status`.",
    ))
    .attribute(Attribute::computed(
        "compliant",
        Type::Bool,
        "True when no entry is expired or of unknown age, so that a CI check can assert it.",
    ))
}

#[async_trait]
impl DataSource<ProviderData> for ComplianceReportDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: block(),
        }
    }

    async fn read(&self, request: DataReadRequest<'_, ProviderData>) -> StateResponse {
        match report(&request).await {
            Ok(state) => StateResponse::ok(state),
            Err(diagnostics) => StateResponse::failed(diagnostics),
        }
    }
}

async fn report(request: &DataReadRequest<'_, ProviderData>) -> Result<Value, Diagnostics> {
    let config = request.config;
    let rules = match config.attr("rotation_policy") {
        Value::Null => None,
        policy => rules_from(policy, &AttributePath::root("rotation_policy"))?,
    }
    .unwrap_or_default();
    let only = config
        .attr("environment")
        .as_str()
        .and_then(Environment::parse);
    let store = match config.attr("vault_url").as_str() {
        Some(vault_url) => request.data.azure_store(vault_url)? as std::sync::Arc<dyn SecretStore>,
        None => request.data.aws_store().await?,
    };
    let entries = store
        .list_by_tag(tag::MANAGED_BY, tag::MANAGED_BY_VALUE)
        .await
        .map_err(|error| super::credential::store_error("Failed to list the entries", error))?;

    let now = request.data.clock.now();
    let mut rows: Vec<Value> = entries
        .iter()
        .filter(|entry| !entry.is_scheduled_for_deletion())
        .filter_map(|entry| {
            let environment = entry
                .tags
                .get(tag::ENVIRONMENT)
                .and_then(|e| Environment::parse(e))?;
            let selected = only.is_none_or(|only| only == environment);
            (selected && request.data.config.allows(environment))
                .then(|| row(entry, environment, &rules, now))
        })
        .collect();
    rows.sort_by(|a, b| a.attr("name").as_str().cmp(&b.attr("name").as_str()));

    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows {
        let status = row
            .attr("rotation_status")
            .as_str()
            .unwrap_or(STATUS_UNKNOWN);
        *counts.entry(status.to_owned()).or_default() += 1;
    }
    let compliant = !counts.contains_key("expired") && !counts.contains_key(STATUS_UNKNOWN);
    let mut state = config.clone();
    state.set_attr("entries", Value::List(rows));
    state.set_attr(
        "status_counts",
        Value::Map(
            counts
                .into_iter()
                .map(|(status, n)| (status, Value::int(n)))
                .collect(),
        ),
    );
    state.set_attr("compliant", Value::Bool(compliant));
    Ok(state)
}

fn row(entry: &EntryState, environment: Environment, rules: &Rules, now: OffsetDateTime) -> Value {
    let issued_at = entry
        .tags
        .get(TAG_ISSUED_AT)
        .and_then(|text| parse_rfc3339(text).ok());
    let deadlines = issued_at.and_then(|at| Deadlines::compute(rules, at, None).ok());
    let (status, rotate_by, expires_at, days_left) = match &deadlines {
        Some(deadlines) => (
            deadlines.status(now).as_str(),
            timestamp(deadlines.rotate_by),
            timestamp(deadlines.expires_at),
            Value::int(deadlines.days_until_expiry(now)),
        ),
        None => (STATUS_UNKNOWN, Value::Null, Value::Null, Value::Null),
    };
    Value::object([
        ("name", Value::string(&entry.name)),
        ("environment", Value::string(environment.as_str())),
        (
            "client_id",
            entry.client_id().map_or(Value::Null, Value::string),
        ),
        ("issued_at", issued_at.map_or(Value::Null, timestamp)),
        ("rotate_by", rotate_by),
        ("expires_at", expires_at),
        ("rotation_status", Value::string(status)),
        ("days_until_expiry", days_left),
    ])
}
