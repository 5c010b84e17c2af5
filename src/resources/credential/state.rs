//! Computed parts of the credential's state: deadlines, status, tags.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::provider::ProviderConfig;
use crate::rotation::{Deadlines, Rules, format_rfc3339, parse_rfc3339};
use crate::stores::tag;
use crate::value::Value;

use super::model::CredentialConfig;

/// Tag with the RFC 3339 time at which the current secret was stored.
pub const TAG_ISSUED_AT: &str = "sips:issued_at";
/// Tag with the secret's salted fingerprint, for the staging/production check.
pub const TAG_FINGERPRINT: &str = "sips:fingerprint";
/// Tag with the operating-system user of the last change, so that the entry
/// itself shows who changed it; the audit log has the full history.
pub const TAG_CHANGED_BY: &str = "sips:changed_by";
/// Prefix of the tags that the provider owns.
pub const RESERVED_TAG_PREFIX: &str = "sips:";

pub const STATUS_REVOKED: &str = "revoked";

/// Returns the rules in force: the credential's policy, or SRS's limits.
pub fn rules_or_default(rules: Option<&Rules>) -> Rules {
    rules.copied().unwrap_or_default()
}

pub fn timestamp(at: OffsetDateTime) -> Value {
    format_rfc3339(at).map(Value::string).unwrap_or(Value::Null)
}

/// Recomputes `rotate_by`, `expires_at`, `previous_retire_at` and
/// `rotation_status` from `issued_at`, the rules and the clock. Values that
/// depend on an unknown `issued_at` become unknown. A revoked credential
/// stays revoked until a rotation.
pub fn refresh_deadlines(state: &mut Value, rules: &Rules, now: OffsetDateTime) {
    let issued_at = match state.attr("issued_at") {
        Value::Unknown => {
            for name in ["rotate_by", "expires_at", "previous_retire_at"] {
                state.set_attr(name, Value::Unknown);
            }
            return;
        }
        value => value.as_str().and_then(|text| parse_rfc3339(text).ok()),
    };
    let Some(issued_at) = issued_at else { return };
    let has_previous = !state.attr("previous_version_id").is_null();
    let superseded = has_previous.then_some(issued_at);
    let Ok(deadlines) = Deadlines::compute(rules, issued_at, superseded) else {
        return;
    };

    state.set_attr("rotate_by", timestamp(deadlines.rotate_by));
    state.set_attr("expires_at", timestamp(deadlines.expires_at));
    let retire_at = deadlines
        .previous_retire_at
        .map(timestamp)
        .unwrap_or(Value::Null);
    state.set_attr("previous_retire_at", retire_at);
    if state.attr("rotation_status").as_str() != Some(STATUS_REVOKED) {
        state.set_attr(
            "rotation_status",
            Value::string(deadlines.status(now).as_str()),
        );
    }
}

/// Returns every tag the entry should carry: the provider's defaults, the
/// resource's tags, and the provider's own metadata.
pub fn desired_tags(
    provider: &ProviderConfig,
    config: &CredentialConfig,
    fingerprint: &str,
    deadlines: Option<&Deadlines>,
) -> BTreeMap<String, String> {
    let mut tags = provider.default_tags.clone();
    tags.extend(config.store.tags.clone());
    tags.insert(tag::MANAGED_BY.to_owned(), tag::MANAGED_BY_VALUE.to_owned());
    tags.insert(tag::ENVIRONMENT.to_owned(), config.environment.to_string());
    tags.insert(tag::CLIENT_ID.to_owned(), config.client_id.clone());
    tags.insert(TAG_FINGERPRINT.to_owned(), fingerprint.to_owned());
    tags.insert(TAG_CHANGED_BY.to_owned(), crate::audit::current_user());
    if let Some(deadlines) = deadlines {
        let mut put = |key: &str, at: OffsetDateTime| {
            if let Ok(text) = format_rfc3339(at) {
                tags.insert(key.to_owned(), text);
            }
        };
        put(TAG_ISSUED_AT, deadlines.issued_at);
        put(tag::ROTATE_BY, deadlines.rotate_by);
        put(tag::EXPIRES_AT, deadlines.expires_at);
    }
    tags
}

/// Returns the tags that belong in the resource's `tags` attribute: the
/// entry's tags without the provider's own and without unchanged defaults.
pub fn user_tags(
    entry_tags: &BTreeMap<String, String>,
    provider: &ProviderConfig,
) -> BTreeMap<String, String> {
    entry_tags
        .iter()
        .filter(|(key, _)| !key.starts_with(RESERVED_TAG_PREFIX))
        .filter(|(key, value)| provider.default_tags.get(*key) != Some(value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Returns the `tags` attribute: null when there are none, as an unset
/// configuration has it, so that a refresh shows no change.
pub fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    if tags.is_empty() {
        return Value::Null;
    }
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}
