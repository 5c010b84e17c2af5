//! Planning a credential: the environment guard, the secret's fingerprint,
//! rotation, retirement, revocation and deadline findings.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, PlanRequest};
use crate::provider::{Environment, ProviderData};
use crate::rotation::{Deadlines, Finding, Rules, format_rfc3339, parse_rfc3339};
use crate::secret::{Fingerprint, Salt, Secret, derived_salt, fingerprint_with_salt};
use crate::stores::tag;
use crate::value::Value;

use super::model::StoreKind;
use super::model::{CredentialConfig, SecretInput};
use super::state::{STATUS_REVOKED, TAG_FINGERPRINT, refresh_deadlines, rules_or_default};

pub async fn plan(request: &mut PlanRequest<'_, ProviderData>) {
    let config = match CredentialConfig::from_value(request.config) {
        Ok(Some(config)) => config,
        Ok(None) => return,
        Err(diagnostics) => return request.diagnostics.extend(diagnostics),
    };
    if let Err(diagnostic) = check_environment(&request.data.config, config.environment) {
        return request.diagnostics.push(diagnostic);
    }
    if let Err(diagnostic) = check_entry_name(&config, &request.data.config) {
        return request.diagnostics.push(diagnostic);
    }
    fill_store_block(request, &config);

    let prior = request.prior_state;
    let creating = prior.is_null();
    let secret = load_secret(&config, creating, &mut request.diagnostics);
    let create_salt = create_salt(&config, &request.data.config);
    let planned_fingerprint = plan_fingerprint(prior, secret.as_ref(), &create_salt);
    let client_id_changed =
        !creating && prior.attr("client_id").as_str() != Some(&config.client_id);
    let rotating = creating
        || client_id_changed
        || planned_fingerprint.as_deref() != prior.attr("fingerprint").as_str();
    let rules = rules_or_default(config.rules.as_ref());
    let now = request.data.clock.now();

    let planned = &mut request.planned;
    planned.set_attr(
        "fingerprint",
        planned_fingerprint
            .clone()
            .map_or(Value::Unknown, Value::string),
    );
    if rotating {
        if let (Some(secret), Some(fingerprint)) = (&secret, &planned_fingerprint) {
            let check = check_separation(request.data, &config, secret, fingerprint).await;
            request.diagnostics.extend(check);
        }
        plan_rotation(&mut request.planned, prior, creating);
        return;
    }

    plan_retirement(planned, prior, &config, now);
    if config.revoked && prior.attr("revoked").as_bool() != Some(true) {
        planned.set_attr("rotation_status", Value::string(STATUS_REVOKED));
        planned.set_attr("version_id", Value::Unknown);
    }
    refresh_deadlines(planned, &rules, now);
    let already_revoked = prior.attr("rotation_status").as_str() == Some(STATUS_REVOKED);
    let findings = deadline_findings(planned, &rules, &config, now, already_revoked);
    request.diagnostics.extend(findings);
}

/// Rejects a planned destroy of an entry in an environment that this
/// provider configuration may not touch, so that the plan fails already.
pub fn plan_destroy(prior: &Value, data: &ProviderData) -> Diagnostics {
    let environment = prior
        .attr("environment")
        .as_str()
        .and_then(Environment::parse);
    match environment.map(|environment| check_environment(&data.config, environment)) {
        Some(Err(diagnostic)) => diagnostic.into(),
        _ => Diagnostics::new(),
    }
}

fn check_environment(
    provider: &crate::provider::ProviderConfig,
    environment: Environment,
) -> Result<(), Diagnostic> {
    if provider.allows(environment) {
        return Ok(());
    }
    let allowed: Vec<&str> = provider
        .environments
        .iter()
        .flatten()
        .map(|environment| environment.as_str())
        .collect();
    Err(Diagnostic::error(
        "Environment not allowed by this provider configuration",
        format!(
            "This credential is for {environment}, but the provider configuration it uses may \
             only manage [{}]. Staging and production pipelines use separate provider \
             configurations; use one whose environments include {environment}.",
            allowed.join(", ")
        ),
    )
    .at(AttributePath::root("environment")))
}

/// Checks the entry name against the store's rules, so that a bad derived
/// name fails the plan instead of the apply.
fn check_entry_name(
    config: &CredentialConfig,
    provider: &crate::provider::ProviderConfig,
) -> Result<(), Diagnostic> {
    let name = config.entry_name(provider);
    let problem = match config.store.kind {
        StoreKind::Aws => crate::stores::EntryName::new(&name)
            .err()
            .map(|e| e.to_string()),
        StoreKind::Azure => super::model::key_vault_name_problem(&name),
    };
    let Some(problem) = problem else {
        return Ok(());
    };
    let block = config.store.kind.block();
    let attribute = config.store.kind.name_attribute();
    Err(Diagnostic::error(
        "Invalid secret name",
        format!("The secret name {name:?} is invalid: {problem}. Set {block}.{attribute} to a valid name."),
    )
    .at(AttributePath::root(block).attribute(attribute)))
}

/// Sets the store block's computed defaults: the derived name and, on AWS,
/// the recovery window.
fn fill_store_block(request: &mut PlanRequest<'_, ProviderData>, config: &CredentialConfig) {
    let kind = config.store.kind;
    let name = config.entry_name(&request.data.config);
    let window = config.recovery_window_days();
    let Some(block) = request.planned.attr_mut(kind.block()) else {
        return;
    };
    if !matches!(block, Value::Object(_)) {
        return;
    }
    let name_attribute = kind.name_attribute();
    if block.attr(name_attribute).is_null() || block.attr(name_attribute).is_unknown() {
        block.set_attr(name_attribute, Value::string(name));
    }
    let window_unset = block.attr("recovery_window_days").is_null()
        || block.attr("recovery_window_days").is_unknown();
    if kind == StoreKind::Aws && window_unset {
        block.set_attr("recovery_window_days", Value::int(window));
    }
    if kind == StoreKind::Azure {
        block.set_attr(
            "content_type",
            Value::string(crate::stores::azure::CONTENT_TYPE),
        );
    }
}

/// Reads the secret at plan time so that a new value plans a rotation. A
/// source that cannot be read yet only warns, because CI often writes the
/// secret file in the apply step.
fn load_secret(
    config: &CredentialConfig,
    creating: bool,
    diagnostics: &mut Diagnostics,
) -> Option<Secret> {
    let SecretInput::Source(source) = &config.secret else {
        return None;
    };
    match source.load() {
        Ok(loaded) => {
            if let Some(mode) = loaded.loose_permissions {
                diagnostics.push(
                    Diagnostic::warning(
                        "Client secret file readable by others",
                        format!(
                            "The secret file for client_id {} has mode {mode:o}, so users other \
                             than its owner can read it. Restrict it, for example with chmod 600.",
                            config.client_id
                        ),
                    )
                    .at(AttributePath::root(super::schema::SECRET_FILE)),
                );
            }
            Some(loaded.secret)
        }
        Err(error) if may_appear_later(&error) => {
            let consequence = if creating {
                "The provider reads it again during apply, which fails if it is still unreadable."
            } else {
                "This plan cannot tell whether the secret changed, so it plans no rotation."
            };
            let cause = crate::framework::diag::error_chain(&error);
            diagnostics.push(Diagnostic::warning(
                "Client secret not readable during plan",
                format!("For client_id {}: {cause}. {consequence}", config.client_id),
            ));
            None
        }
        Err(error) => {
            let cause = crate::framework::diag::error_chain(&error);
            diagnostics.push(Diagnostic::error(
                "Invalid client secret",
                format!(
                    "For client_id {}: {cause}. Fix the secret's file or variable; a later \
                     apply cannot succeed with it.",
                    config.client_id
                ),
            ));
            None
        }
    }
}

/// Returns whether a secret that cannot be read now may be there at apply:
/// a file or variable that a later CI step writes. A secret that is present
/// but unusable (too large, not UTF-8, empty, a bad variable name) never will.
fn may_appear_later(error: &crate::secret::SecretError) -> bool {
    use crate::secret::SecretError;
    matches!(
        error,
        SecretError::ReadFile { .. } | SecretError::EnvUnset { .. }
    )
}

/// Returns the fingerprint the plan records: the prior one when the secret is
/// unchanged or unreadable, a new one for a new secret, `None` when unknown.
fn plan_fingerprint(prior: &Value, secret: Option<&Secret>, create_salt: &Salt) -> Option<String> {
    let prior_fingerprint = prior.attr("fingerprint").as_str();
    let parsed: Option<Fingerprint> = prior_fingerprint.and_then(|text| text.parse().ok());
    match (secret, parsed) {
        (Some(secret), Some(prior)) if prior.matches(secret) => {
            prior_fingerprint.map(str::to_owned)
        }
        (Some(secret), Some(prior)) => {
            Some(fingerprint_with_salt(secret, &prior.salt()).to_string())
        }
        (Some(secret), None) => Some(fingerprint_with_salt(secret, create_salt).to_string()),
        (None, _) => prior_fingerprint.map(str::to_owned),
    }
}

/// Returns the salt of a new credential's fingerprint, derived from the
/// entry's identity so that every plan and apply of the create agree.
pub fn create_salt(config: &CredentialConfig, provider: &crate::provider::ProviderConfig) -> Salt {
    let context = format!(
        "{}\n{}\n{}",
        config.environment,
        config.entry_name(provider),
        config.client_id
    );
    derived_salt(context.as_bytes())
}

fn plan_rotation(planned: &mut Value, prior: &Value, creating: bool) {
    for name in ["version_id", "issued_at", "rotate_by", "expires_at"] {
        planned.set_attr(name, Value::Unknown);
    }
    planned.set_attr("rotation_status", Value::string("current"));
    if creating {
        planned.set_attr("previous_version_id", Value::Null);
        planned.set_attr("previous_retire_at", Value::Null);
    } else {
        // The version being replaced stays readable as the previous one.
        planned.set_attr("previous_version_id", prior.attr("version_id").clone());
        planned.set_attr("previous_retire_at", Value::Unknown);
    }
}

/// Plans the retirement of the previous version when the configuration requests
/// it or the policy's overlap has ended.
fn plan_retirement(
    planned: &mut Value,
    prior: &Value,
    config: &CredentialConfig,
    now: time::OffsetDateTime,
) {
    if prior.attr("previous_version_id").is_null() {
        return;
    }
    let overlap_over = prior
        .attr("previous_retire_at")
        .as_str()
        .and_then(|text| parse_rfc3339(text).ok())
        .is_some_and(|retire_at| now >= retire_at);
    if config.retire_previous || overlap_over {
        planned.set_attr("previous_version_id", Value::Null);
        planned.set_attr("previous_retire_at", Value::Null);
    }
}

/// Reports the deadline verdict, or, for a credential revoked by an earlier
/// apply, that it needs a new secret. The plan that revokes passes.
fn deadline_findings(
    planned: &Value,
    rules: &Rules,
    config: &CredentialConfig,
    now: time::OffsetDateTime,
    already_revoked: bool,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let subject = format!(
        "{} credential for client_id {}",
        config.environment, config.client_id
    );
    if planned.attr("rotation_status").as_str() == Some(STATUS_REVOKED) {
        if !already_revoked {
            return diagnostics;
        }
        diagnostics.push(
            Diagnostic::error(
                "Credential revoked",
                format!(
                    "The {subject} was revoked, so no application can use it. Supply a new \
                     secret (a new client_secret value, file content or variable value) to \
                     rotate it."
                ),
            )
            .at(AttributePath::root("client_id")),
        );
        return diagnostics;
    }
    let Some(issued_at) = planned
        .attr("issued_at")
        .as_str()
        .and_then(|t| parse_rfc3339(t).ok())
    else {
        return diagnostics;
    };
    let Ok(deadlines) = Deadlines::compute(rules, issued_at, None) else {
        return diagnostics;
    };
    let verdict = deadlines.verdict(now, rules.enforcement());
    for finding in &verdict.warnings {
        diagnostics.push(
            Diagnostic::warning(summary(finding), detail(finding, &subject))
                .at(AttributePath::root("client_id")),
        );
    }
    if let Some(finding) = &verdict.error {
        diagnostics.push(
            Diagnostic::error(summary(finding), detail(finding, &subject))
                .at(AttributePath::root("client_id")),
        );
    }
    diagnostics
}

fn summary(finding: &Finding) -> &'static str {
    match finding {
        Finding::RotationDue { .. } => "Credential rotation due",
        Finding::ExpiryNear { .. } => "Credential expires soon",
        Finding::Expired { .. } => "Credential expired",
    }
}

fn detail(finding: &Finding, subject: &str) -> String {
    let at = |instant| format_rfc3339(instant).unwrap_or_default();
    match *finding {
        Finding::RotationDue {
            rotate_by,
            days_overdue,
        } => format!(
            "The {subject} was due for rotation on {} ({days_overdue} days ago). Supply a new \
             secret to rotate it.",
            at(rotate_by)
        ),
        Finding::ExpiryNear {
            expires_at,
            days_left,
        } => format!(
            "The {subject} reaches its mandatory deadline on {} ({days_left} days left); SRS \
             cuts integration off after it. Rotate it before then.",
            at(expires_at)
        ),
        Finding::Expired {
            expires_at,
            days_overdue,
        } => format!(
            "The {subject} passed its mandatory deadline on {} ({days_overdue} days ago), so SRS \
             no longer accepts it. Rotate it now, or set the policy's enforcement to \"warn\" to \
             plan other changes first.",
            at(expires_at)
        ),
    }
}

/// Rejects a client_id or secret that an entry of the other environment
/// already uses: a staging leak must never reach production.
async fn check_separation(
    data: &ProviderData,
    config: &CredentialConfig,
    secret: &Secret,
    _fingerprint: &str,
) -> Diagnostics {
    let other = match config.environment {
        Environment::Staging => Environment::Production,
        Environment::Production => Environment::Staging,
    };
    let store = match super::apply::store_for(data, &config.store).await {
        Ok(store) => store,
        Err(diagnostics) => return diagnostics,
    };
    let entries = match store.list_by_tag(tag::ENVIRONMENT, other.as_str()).await {
        Ok(entries) => entries,
        Err(error) => {
            return Diagnostic::warning(
                "Staging and production separation not checked",
                format!(
                    "The provider could not list the {other} entries to check that they share \
                     neither client_id nor secret with this credential: {}.",
                    crate::framework::diag::error_chain(&error)
                ),
            )
            .into();
        }
    };
    let mut diagnostics = Diagnostics::new();
    for entry in entries {
        let same_client = entry.client_id() == Some(config.client_id.as_str());
        let same_secret = entry
            .tags
            .get(TAG_FINGERPRINT)
            .and_then(|text| text.parse::<Fingerprint>().ok())
            .is_some_and(|theirs| theirs.matches(secret));
        let what = match (same_client, same_secret) {
            (true, _) => format!("client_id {}", config.client_id),
            (false, true) => "client secret".to_owned(),
            (false, false) => continue,
        };
        diagnostics.push(
            Diagnostic::error(
                "Staging and production credentials mixed up",
                format!(
                    "The {other} entry {} already uses this {what}. Staging and production must \
                     use different credential sets, so that a staging leak cannot touch \
                     production. Request a separate credential pair from SRS for {}.",
                    entry.name, config.environment
                ),
            )
            .at(AttributePath::root("client_id")),
        );
    }
    diagnostics
}
