//! `sips_rotation_policy`: the rotation rules that credentials take as input.
//!
//! The policy lives only in Terraform state; it has no remote object. Its
//! `rules` output is an object that `sips_credential.rotation_policy` accepts,
//! so a policy change reaches every credential that uses the policy in the same plan.

use async_trait::async_trait;

use crate::framework::{
    ApplyRequest, Attribute, AttributePath, Block, Diagnostic, Diagnostics, ImportRequest, OneOf,
    PlanRequest, ReadRequest, RequestContext, Resource, Schema, StateResponse,
};
use crate::rotation::{Enforcement, RotationError, Rules, RulesInput};
use crate::value::{Type, Value};

pub const TYPE_NAME: &str = "sips_rotation_policy";

const ROTATE_AFTER: &str = "rotate_after_days";
const MAX_AGE: &str = "max_age_days";
const OVERLAP: &str = "overlap_days";
const WARN_BEFORE: &str = "warn_before_days";
const ENFORCEMENT: &str = "enforcement";

/// Returns the object type of a policy's `rules` output and of a
/// credential's `rotation_policy` input.
pub fn rules_type() -> Type {
    Type::object([
        (ROTATE_AFTER, Type::Number),
        (MAX_AGE, Type::Number),
        (OVERLAP, Type::Number),
        (WARN_BEFORE, Type::Number),
        (ENFORCEMENT, Type::String),
    ])
}

/// Converts validated rules into the `rules` object.
pub fn rules_value(rules: &Rules) -> Value {
    Value::object([
        (ROTATE_AFTER, Value::int(rules.rotate_after_days().into())),
        (MAX_AGE, Value::int(rules.max_age_days().into())),
        (OVERLAP, Value::int(rules.overlap_days().into())),
        (WARN_BEFORE, Value::int(rules.warn_before_days().into())),
        (ENFORCEMENT, Value::string(rules.enforcement().as_str())),
    ])
}

/// Reads rules from an object with the policy's attribute names, as a policy's
/// configuration or a `rules` value has them. Null attributes take their
/// defaults. Returns `Ok(None)` while any value is unknown.
pub fn rules_from(object: &Value, path: &AttributePath) -> Result<Option<Rules>, Diagnostics> {
    if object.is_unknown() {
        return Ok(None);
    }
    let defaults = RulesInput::default();
    let mut diagnostics = Diagnostics::new();
    let mut unknown = false;
    let mut number = |name: &str, default: i64| -> i64 {
        match object.attr(name) {
            Value::Null => default,
            Value::Unknown => {
                unknown = true;
                default
            }
            value => value.as_i64().unwrap_or_else(|| {
                diagnostics.push(not_whole(name, value, path));
                default
            }),
        }
    };

    let input_numbers = (
        number(ROTATE_AFTER, defaults.rotate_after_days),
        number(MAX_AGE, defaults.max_age_days),
        number(OVERLAP, defaults.overlap_days),
        number(WARN_BEFORE, defaults.warn_before_days),
    );

    let enforcement = match object.attr(ENFORCEMENT) {
        Value::Null => defaults.enforcement,
        Value::Unknown => {
            unknown = true;
            defaults.enforcement
        }
        value => match value.as_str().and_then(|s| s.parse::<Enforcement>().ok()) {
            Some(enforcement) => enforcement,
            None => {
                let at = AttributePath {
                    steps: path.steps.clone(),
                }
                .attribute(ENFORCEMENT);
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid rotation policy",
                        "enforcement must be \"error\" or \"warn\".",
                    )
                    .at(at),
                );
                defaults.enforcement
            }
        },
    };

    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    if unknown {
        return Ok(None);
    }
    let (rotate_after_days, max_age_days, overlap_days, warn_before_days) = input_numbers;
    let input = RulesInput {
        rotate_after_days,
        max_age_days,
        overlap_days,
        warn_before_days,
        enforcement,
    };
    Rules::new(input)
        .map(Some)
        .map_err(|errors| range_diagnostics(errors, path))
}

fn not_whole(name: &str, value: &Value, path: &AttributePath) -> Diagnostic {
    let at = AttributePath {
        steps: path.steps.clone(),
    }
    .attribute(name);
    Diagnostic::error(
        "Invalid rotation policy",
        format!(
            "{name} must be a whole number of days, got {}.",
            crate::framework::schema::display_value(value)
        ),
    )
    .at(at)
}

fn range_diagnostics(errors: Vec<RotationError>, path: &AttributePath) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for error in errors {
        let field = match &error {
            RotationError::OutOfRange { field, .. } => *field,
            _ => ENFORCEMENT,
        };
        let at = AttributePath {
            steps: path.steps.clone(),
        }
        .attribute(field);
        diagnostics.push(
            Diagnostic::error(
                "Invalid rotation policy",
                format!("{}.", capitalize(&error.to_string())),
            )
            .at(at),
        );
    }
    diagnostics
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub struct RotationPolicyResource;

impl RotationPolicyResource {
    fn block() -> Block {
        let defaults = RulesInput::default();
        Block::new(
            "Rotation rules for SIPS credentials. SRS recommends rotating every 90 days and \
             cuts integration off for credentials older than 180 days. Credentials take the \
             policy's `rules` output as their `rotation_policy` and show the resulting \
             deadlines in every plan.",
        )
        .attribute(
            Attribute::required(
                "name",
                Type::String,
                "Name of the policy. It is also the policy's `id` and the import id.",
            )
            .force_new(),
        )
        .attribute(
            Attribute::optional(
                ROTATE_AFTER,
                Type::Number,
                "Age in days at which a rotation becomes due and plans start to warn. A whole \
                 number from 1 to `max_age_days`. Defaults to 90, SRS's recommendation.",
            )
            .default(Value::int(defaults.rotate_after_days)),
        )
        .attribute(
            Attribute::optional(
                MAX_AGE,
                Type::Number,
                "Age in days at which a credential expires (the mandatory deadline). A whole \
                 number from 1 to 180, because SRS cuts integration off for credentials older \
                 than 180 days. Defaults to 180.",
            )
            .default(Value::int(defaults.max_age_days)),
        )
        .attribute(
            Attribute::optional(
                OVERLAP,
                Type::Number,
                "Days that the previous credential stays valid after a rotation, so that \
                 applications can switch before it is retired. A whole number from 0 to \
                 `rotate_after_days` - 1. Defaults to 7.",
            )
            .default(Value::int(defaults.overlap_days)),
        )
        .attribute(
            Attribute::optional(
                WARN_BEFORE,
                Type::Number,
                "Days before the mandatory deadline from which plans warn. A whole number from \
                 0 to `max_age_days` - 1; 0 turns this warning off. Defaults to 30.",
            )
            .default(Value::int(defaults.warn_before_days)),
        )
        .attribute(
            Attribute::optional(
                ENFORCEMENT,
                Type::String,
                "What a passed mandatory deadline does to a plan: `error` fails the plan, \
                 `warn` only warns. Defaults to `error`.",
            )
            .default(Value::string(defaults.enforcement.as_str()))
            .validate(OneOf(&["error", "warn"])),
        )
        .attribute(Attribute::computed("id", Type::String, "Same as `name`."))
        .attribute(Attribute::computed(
            "rules",
            rules_type(),
            "The validated rules as one object, to pass to `sips_credential.rotation_policy`.",
        ))
    }

    /// Completes a state from the policy's own attributes: `id` and `rules`.
    fn complete(state: &mut Value) -> Diagnostics {
        let name = state.attr("name").clone();
        state.set_attr("id", name);
        match rules_from(state, &AttributePath::default()) {
            Ok(Some(rules)) => state.set_attr("rules", rules_value(&rules)),
            Ok(None) => state.set_attr("rules", Value::Unknown),
            Err(diagnostics) => return diagnostics,
        }
        Diagnostics::new()
    }
}

#[async_trait]
impl<D: Send + Sync> Resource<D> for RotationPolicyResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Self::block(),
        }
    }

    async fn validate(&self, config: &Value, _context: &RequestContext) -> Diagnostics {
        match rules_from(config, &AttributePath::default()) {
            Ok(_) => Diagnostics::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn plan(&self, request: &mut PlanRequest<'_, D>) {
        let diagnostics = Self::complete(&mut request.planned);
        request.diagnostics.extend(diagnostics);
    }

    async fn create(&self, request: ApplyRequest<'_, D>) -> StateResponse {
        StateResponse::ok(request.planned_state.clone())
    }

    async fn update(&self, request: ApplyRequest<'_, D>) -> StateResponse {
        StateResponse::ok(request.planned_state.clone())
    }

    async fn delete(&self, _request: ApplyRequest<'_, D>) -> Diagnostics {
        Diagnostics::new()
    }

    async fn read(&self, request: ReadRequest<'_, D>) -> StateResponse {
        StateResponse {
            state: request.state.clone(),
            private: request.private.to_vec(),
            ..Default::default()
        }
    }

    /// Imports a policy by name with default rules; the next plan brings the
    /// state in line with the configuration.
    async fn import(&self, request: ImportRequest<'_, D>) -> StateResponse {
        if request.id.trim().is_empty() {
            return StateResponse::failed(
                Diagnostic::error(
                    "Invalid import id",
                    "Import a rotation policy by its name, for example \
                     `terraform import sips_rotation_policy.standard standard`.",
                )
                .into(),
            );
        }
        let defaults = RulesInput::default();
        let mut state = Value::object([
            ("name", Value::string(request.id)),
            (ROTATE_AFTER, Value::int(defaults.rotate_after_days)),
            (MAX_AGE, Value::int(defaults.max_age_days)),
            (OVERLAP, Value::int(defaults.overlap_days)),
            (WARN_BEFORE, Value::int(defaults.warn_before_days)),
            (ENFORCEMENT, Value::string(defaults.enforcement.as_str())),
        ]);
        let diagnostics = Self::complete(&mut state);
        StateResponse {
            state,
            diagnostics,
            ..Default::default()
        }
    }
}
