//! Schema-driven configuration checks: attribute validators, and write-only
//! attributes on clients that would store them.

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::resource::ClientCapabilities;
use super::schema::{Block, Nesting};
use crate::value::Value;

/// Runs every attribute validator on known, non-null values, and rejects
/// write-only attributes that the client cannot keep out of state.
///
/// Validators never run on sensitive attributes, because their messages quote
/// the offending value.
pub fn validate_block(block: &Block, config: &Value, client: ClientCapabilities) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    walk(
        block,
        config,
        AttributePath::default(),
        client,
        &mut diagnostics,
    );
    diagnostics
}

fn walk(
    block: &Block,
    config: &Value,
    path: AttributePath,
    client: ClientCapabilities,
    diagnostics: &mut Diagnostics,
) {
    for attribute in &block.attributes {
        let value = config.attr(&attribute.name);
        let at = path.clone().attribute(&attribute.name);
        if value.is_null() {
            continue;
        }
        if attribute.write_only && !client.write_only_attributes_allowed {
            diagnostics.push(write_only_unsupported(
                &at,
                attribute.write_only_fallback.as_deref(),
            ));
            continue;
        }
        if attribute.sensitive || !value.is_wholly_known() {
            continue;
        }
        for validator in &attribute.validators {
            validator.validate(value, &at, diagnostics);
        }
    }
    for nested in &block.blocks {
        let child = config.attr(&nested.type_name);
        let child_path = path.clone().attribute(&nested.type_name);
        match (nested.nesting, child) {
            (Nesting::Single | Nesting::Group, Value::Object(_)) => {
                walk(&nested.block, child, child_path, client, diagnostics)
            }
            (_, Value::List(items)) | (_, Value::Set(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let item_path = child_path.clone().index(index as i64);
                    walk(&nested.block, item, item_path, client, diagnostics);
                }
            }
            (_, Value::Map(items)) => {
                for (key, item) in items {
                    walk(
                        &nested.block,
                        item,
                        child_path.clone().key(key),
                        client,
                        diagnostics,
                    );
                }
            }
            _ => {}
        }
    }
}

fn write_only_unsupported(path: &AttributePath, fallback: Option<&str>) -> Diagnostic {
    let instead = match fallback {
        Some(attributes) => {
            format!("use {attributes} instead, which the provider reads at apply time")
        }
        None => "set the value another way".to_owned(),
    };
    Diagnostic::error(
        "Write-only attribute not supported by this client",
        format!(
            "{path} is write-only: Terraform 1.11 and OpenTofu 1.11 and later keep its value out \
             of plan and state, but this client does not support write-only attributes and \
             would store it. Upgrade the client, or remove {path} and {instead}."
        ),
    )
    .at(path.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, IntBetween};
    use crate::value::Type;

    fn block() -> Block {
        Block::new("test")
            .attribute(
                Attribute::optional("days", Type::Number, "Days.")
                    .validate(IntBetween { min: 1, max: 180 }),
            )
            .attribute(Attribute::optional("secret_wo", Type::String, "Secret.").write_only())
    }

    #[test]
    fn validator_reports_path_and_range() {
        let config = Value::object([("days", Value::int(200)), ("secret_wo", Value::Null)]);
        let diagnostics = validate_block(&block(), &config, ClientCapabilities::default());
        assert_eq!(diagnostics.0.len(), 1);
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("days"))
        );
        assert!(diagnostics.0[0].detail.contains("from 1 to 180"));
    }

    #[test]
    fn unknown_value_skips_validators() {
        let config = Value::object([("days", Value::Unknown)]);
        assert!(validate_block(&block(), &config, ClientCapabilities::default()).is_empty());
    }

    #[test]
    fn write_only_rejected_without_capability() {
        let config = Value::object([("secret_wo", Value::string("s3cr3t-value"))]);
        let diagnostics = validate_block(&block(), &config, ClientCapabilities::default());
        assert!(diagnostics.has_errors());
        assert!(!format!("{diagnostics:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn write_only_accepted_with_capability() {
        let config = Value::object([("secret_wo", Value::string("s3cr3t-value"))]);
        let client = ClientCapabilities {
            write_only_attributes_allowed: true,
            ..Default::default()
        };
        assert!(validate_block(&block(), &config, client).is_empty());
    }
}
