//! Schema definitions: attributes, nested blocks, defaults and validators.
//!
//! Descriptions are full sentences: they are the single source of the
//! attribute reference in `docs/`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::value::{Type, Value};

/// The schema of a provider configuration, resource or data source.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Version of the state layout; UpgradeResourceState receives older ones.
    pub version: i64,
    pub block: Block,
}

/// A configuration block: attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecated: bool,
}

/// Repetition mode of a nested block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; absent means null.
    Single,
    /// Exactly one block whose absence means all attributes null.
    Group,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    /// A change anywhere inside the block replaces the resource.
    pub force_new: bool,
}

/// A check on one attribute's known, non-null value.
pub trait Validator: Send + Sync {
    /// Adds an error diagnostic at `path` when `value` is invalid.
    fn validate(&self, value: &Value, path: &AttributePath, diagnostics: &mut Diagnostics);

    /// States the rule as a sentence for the documentation.
    fn description(&self) -> String;
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Accepted in configuration, never stored: planned and saved as null.
    pub write_only: bool,
    /// Attributes to name, for clients without write-only support, as the way
    /// to set the same value without storing it.
    pub write_only_fallback: Option<String>,
    pub deprecated: bool,
    /// Value planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// A change of value replaces the resource.
    pub force_new: bool,
    pub validators: Vec<Arc<dyn Validator>>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            description: description.to_owned(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            write_only_fallback: None,
            deprecated: false,
            default: None,
            force_new: false,
            validators: Vec::new(),
        }
    }

    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Self {
            required: true,
            ..Self::new(name, ty, description)
        }
    }

    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            ..Self::new(name, ty, description)
        }
    }

    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// Creates an optional attribute that the provider fills in when the configuration does not.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// Plans `value` when the configuration leaves the attribute null. Terraform
    /// only lets a provider set a value the configuration did not, so this also
    /// makes the attribute computed.
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional = true;
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute write-only. Write-only attributes are also
    /// sensitive, because clients that predate them show and store them as
    /// ordinary attributes.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.sensitive = true;
        self
    }

    /// Names the attributes that clients without write-only support use instead.
    pub fn write_only_fallback(mut self, attributes: &str) -> Self {
        self.write_only_fallback = Some(attributes.to_owned());
        self
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }
}

impl Block {
    pub fn new(description: &str) -> Self {
        Self {
            description: description.to_owned(),
            ..Self::default()
        }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Returns the object type of this block's values.
    pub fn implied_type(&self) -> Type {
        let mut attributes: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            attributes.insert(nested.type_name.clone(), nested.implied_type());
        }
        Type::Object {
            attributes,
            optional: Default::default(),
        }
    }

    /// Returns the value of a block whose attributes are all null, with
    /// repeated nested blocks as empty collections, as Terraform sends them.
    pub fn empty_value(&self) -> Value {
        let mut object: BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for nested in &self.blocks {
            object.insert(nested.type_name.clone(), nested.empty_value());
        }
        Value::Object(object)
    }
}

impl NestedBlock {
    pub fn new(type_name: &str, nesting: Nesting, block: Block) -> Self {
        Self {
            type_name: type_name.to_owned(),
            nesting,
            block,
            min_items: 0,
            max_items: if nesting == Nesting::Single { 1 } else { 0 },
            force_new: false,
        }
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn implied_type(&self) -> Type {
        let object = self.block.implied_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::List(Box::new(object)),
            Nesting::Set => Type::Set(Box::new(object)),
            Nesting::Map => Type::Map(Box::new(object)),
        }
    }

    fn empty_value(&self) -> Value {
        match self.nesting {
            Nesting::Single => Value::Null,
            Nesting::Group => self.block.empty_value(),
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            Nesting::Map => Value::Map(BTreeMap::new()),
        }
    }
}

/// Accepts whole numbers in `min..=max`.
pub struct IntBetween {
    pub min: i64,
    pub max: i64,
}

impl Validator for IntBetween {
    fn validate(&self, value: &Value, path: &AttributePath, diagnostics: &mut Diagnostics) {
        let in_range = value
            .as_i64()
            .is_some_and(|n| (self.min..=self.max).contains(&n));
        if !in_range {
            diagnostics.push(
                Diagnostic::error(
                    "Value out of range",
                    format!(
                        "{path} must be a whole number from {} to {}, got {}.",
                        self.min,
                        self.max,
                        display_value(value)
                    ),
                )
                .at(path.clone()),
            );
        }
    }

    fn description(&self) -> String {
        format!("Must be a whole number from {} to {}.", self.min, self.max)
    }
}

/// Accepts one of a fixed set of strings.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, value: &Value, path: &AttributePath, diagnostics: &mut Diagnostics) {
        if value.as_str().is_some_and(|s| self.0.contains(&s)) {
            return;
        }
        diagnostics.push(
            Diagnostic::error(
                "Invalid value",
                format!(
                    "{path} must be one of {}, got {}.",
                    quoted_list(self.0),
                    display_value(value)
                ),
            )
            .at(path.clone()),
        );
    }

    fn description(&self) -> String {
        format!("Must be one of {}.", quoted_list(self.0))
    }
}

/// Renders a non-secret configuration value for a diagnostic.
pub fn display_value(value: &Value) -> String {
    match (value.as_str(), value.as_i64()) {
        (Some(s), _) => format!("{s:?}"),
        (None, Some(n)) => n.to_string(),
        _ => match value {
            Value::Number(crate::value::Number::Float(f)) => f.to_string(),
            Value::Number(crate::value::Number::Decimal(d)) => d.clone(),
            _ => "a value of another type".to_owned(),
        },
    }
}

fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    quoted.join(", ")
}
