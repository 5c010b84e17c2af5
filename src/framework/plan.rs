//! The rules Terraform core enforces on plans, applied by the framework so
//! that resources only adjust what is theirs to decide.
//!
//! Terraform rejects a plan in which a non-computed attribute differs from
//! the configuration, and an apply whose result differs from a known planned
//! value. Write-only attributes must be null in plan and state.

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::schema::{Block, Nesting};
use crate::value::Value;

/// Fills attributes the configuration leaves null with their defaults.
pub fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    let Value::Object(planned_attributes) = planned else {
        return;
    };
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default {
            if config.attr(&attribute.name).is_null() {
                planned_attributes.insert(attribute.name.clone(), default.clone());
            }
        }
    }
    for nested in single_blocks(block) {
        if let Some(child) = planned_attributes.get_mut(&nested.type_name) {
            apply_defaults(&nested.block, config.attr(&nested.type_name), child);
        }
    }
}

/// Sets every write-only attribute to null, at any depth.
pub fn null_write_only(block: &Block, value: &mut Value) {
    let Value::Object(attributes) = value else {
        return;
    };
    for attribute in block.attributes.iter().filter(|a| a.write_only) {
        attributes.insert(attribute.name.clone(), Value::Null);
    }
    for nested in &block.blocks {
        let Some(child) = attributes.get_mut(&nested.type_name) else {
            continue;
        };
        match child {
            Value::Object(_) => null_write_only(&nested.block, child),
            Value::List(items) | Value::Set(items) => items
                .iter_mut()
                .for_each(|item| null_write_only(&nested.block, item)),
            Value::Map(items) => items
                .values_mut()
                .for_each(|item| null_write_only(&nested.block, item)),
            _ => {}
        }
    }
}

/// Marks computed attributes that neither configuration nor default set as
/// unknown, because on create their values are only known after apply.
pub fn mark_computed_unknown(block: &Block, config: &Value, planned: &mut Value) {
    let Value::Object(planned_attributes) = planned else {
        return;
    };
    for attribute in block
        .attributes
        .iter()
        .filter(|a| a.computed && !a.write_only)
    {
        let configured = !config.attr(&attribute.name).is_null();
        let value = planned_attributes
            .entry(attribute.name.clone())
            .or_insert(Value::Null);
        if !configured && value.is_null() {
            *value = Value::Unknown;
        }
    }
    for nested in single_blocks(block) {
        if let Some(child) = planned_attributes.get_mut(&nested.type_name) {
            mark_computed_unknown(&nested.block, config.attr(&nested.type_name), child);
        }
    }
}

/// Lists the `force_new` attributes and blocks whose planned value differs
/// from the prior state.
pub fn replaced_paths(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    let mut paths = Vec::new();
    collect_replaced(block, prior, planned, AttributePath::default(), &mut paths);
    paths
}

fn collect_replaced(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: AttributePath,
    paths: &mut Vec<AttributePath>,
) {
    for attribute in block.attributes.iter().filter(|a| a.force_new) {
        let (before, after) = (prior.attr(&attribute.name), planned.attr(&attribute.name));
        if !before.semantically_equal(after) {
            paths.push(path.clone().attribute(&attribute.name));
        }
    }
    for nested in &block.blocks {
        let (before, after) = (
            prior.attr(&nested.type_name),
            planned.attr(&nested.type_name),
        );
        let child_path = path.clone().attribute(&nested.type_name);
        if nested.force_new && !before.semantically_equal(after) {
            paths.push(child_path);
        } else if matches!(nested.nesting, Nesting::Single | Nesting::Group) {
            collect_replaced(&nested.block, before, after, child_path, paths);
        }
    }
}

/// Reports, as a provider bug, every non-computed attribute whose planned
/// value differs from the configuration.
pub fn check_planned_against_config(block: &Block, config: &Value, planned: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    check_block(
        block,
        config,
        planned,
        AttributePath::default(),
        &mut diagnostics,
    );
    diagnostics
}

fn check_block(
    block: &Block,
    config: &Value,
    planned: &Value,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    for attribute in block
        .attributes
        .iter()
        .filter(|a| !a.computed && !a.write_only)
    {
        let (wanted, got) = (config.attr(&attribute.name), planned.attr(&attribute.name));
        if !wanted.semantically_equal(got) {
            let at = path.clone().attribute(&attribute.name);
            diagnostics.push(
                Diagnostic::error(
                    "Provider planned an invalid value",
                    format!(
                        "The provider planned a value for {at} that differs from the \
                         configuration. This is a bug in the provider; please report it."
                    ),
                )
                .at(at),
            );
        }
    }
    for nested in single_blocks(block) {
        let (config_child, planned_child) = (
            config.attr(&nested.type_name),
            planned.attr(&nested.type_name),
        );
        if planned_child.is_known() && !planned_child.is_null() {
            let child_path = path.clone().attribute(&nested.type_name);
            check_block(
                &nested.block,
                config_child,
                planned_child,
                child_path,
                diagnostics,
            );
        }
    }
}

/// Reports, as a provider bug, every unknown value left in a new state.
pub fn check_wholly_known(state: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    if !state.is_wholly_known() {
        diagnostics.error(
            "Provider returned an unknown value after apply",
            "The provider left a value unknown after apply. This is a bug in the provider; \
             please report it.",
        );
    }
    diagnostics
}

fn single_blocks(block: &Block) -> impl Iterator<Item = &super::schema::NestedBlock> {
    block
        .blocks
        .iter()
        .filter(|nested| matches!(nested.nesting, Nesting::Single | Nesting::Group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock};
    use crate::value::Type;

    fn block() -> Block {
        Block::new("test")
            .attribute(Attribute::required("name", Type::String, "Name.").force_new())
            .attribute(Attribute::optional("days", Type::Number, "Days.").default(Value::int(90)))
            .attribute(Attribute::computed("id", Type::String, "Id."))
            .attribute(Attribute::optional("secret_wo", Type::String, "Secret.").write_only())
            .block(NestedBlock::new(
                "store",
                Nesting::Single,
                Block::new("store").attribute(Attribute::computed("arn", Type::String, "Arn.")),
            ))
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    #[test]
    fn defaults_fill_null_config() {
        let config = object(&[("name", Value::string("a")), ("days", Value::Null)]);
        let mut planned = config.clone();
        apply_defaults(&block(), &config, &mut planned);
        assert_eq!(planned.attr("days").as_i64(), Some(90));
    }

    #[test]
    fn defaults_keep_configured_value() {
        let config = object(&[("days", Value::int(30))]);
        let mut planned = config.clone();
        apply_defaults(&block(), &config, &mut planned);
        assert_eq!(planned.attr("days").as_i64(), Some(30));
    }

    #[test]
    fn write_only_planned_null() {
        let mut planned = object(&[("secret_wo", Value::string("s3cr3t"))]);
        null_write_only(&block(), &mut planned);
        assert!(planned.attr("secret_wo").is_null());
    }

    #[test]
    fn computed_unknown_on_create() {
        let config = object(&[("name", Value::string("a")), ("store", object(&[]))]);
        let mut planned = object(&[
            ("name", Value::string("a")),
            ("id", Value::Null),
            ("store", object(&[("arn", Value::Null)])),
        ]);
        mark_computed_unknown(&block(), &config, &mut planned);
        assert!(planned.attr("id").is_unknown());
        assert!(planned.attr("store").attr("arn").is_unknown());
        assert!(planned.attr("secret_wo").is_null());
    }

    #[test]
    fn force_new_change_listed() {
        let prior = object(&[("name", Value::string("a"))]);
        let planned = object(&[("name", Value::string("b"))]);
        let paths = replaced_paths(&block(), &prior, &planned);
        assert_eq!(paths, vec![AttributePath::root("name")]);
    }

    #[test]
    fn force_new_unchanged_not_listed() {
        let prior = object(&[("name", Value::string("a"))]);
        assert!(replaced_paths(&block(), &prior, &prior.clone()).is_empty());
    }

    #[test]
    fn planned_differs_from_config_is_bug() {
        let config = object(&[("name", Value::string("a"))]);
        let planned = object(&[("name", Value::string("b"))]);
        let diagnostics = check_planned_against_config(&block(), &config, &planned);
        assert!(diagnostics.has_errors());
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("name"))
        );
    }
}
