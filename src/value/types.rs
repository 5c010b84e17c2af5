//! The cty type system and value tree.

use std::collections::{BTreeMap, BTreeSet};

/// A cty type. Object attributes listed in `optional` may be absent in
/// configuration and arrive as null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type, decided per value; values at such a position carry their type.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attributes: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

/// A cty number, kept in the form it arrived in so that it round-trips exactly.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A decimal string for values that fit neither integer type nor `f64` exactly.
    Decimal(String),
}

/// A cty value. Collections keep their elements in wire order; a set's
/// elements are unique but unordered.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value at a [`Type::Dynamic`] position, with its concrete type. The
    /// inner value may be a null or unknown of that type, whereas a plain
    /// [`Value::Null`] or [`Value::Unknown`] there has no type at all.
    Dynamic(Box<Type>, Box<Value>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// Creates an object type without optional attributes.
    pub fn object<'a>(attributes: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::object_with_optional(attributes, [])
    }

    /// Creates an object type whose attributes named in `optional` may be
    /// absent in configuration.
    pub fn object_with_optional<'a>(
        attributes: impl IntoIterator<Item = (&'a str, Type)>,
        optional: impl IntoIterator<Item = &'a str>,
    ) -> Type {
        Type::Object {
            attributes: attributes
                .into_iter()
                .map(|(name, ty)| (name.to_owned(), ty))
                .collect(),
            optional: optional.into_iter().map(str::to_owned).collect(),
        }
    }

    /// Returns the type of an object attribute, or `None` for other types
    /// and missing attributes.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        match self {
            Type::Object { attributes, .. } => attributes.get(name),
            _ => None,
        }
    }

    /// Returns a short description for messages, such as `list of string`.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".to_owned(),
            Type::Number => "number".to_owned(),
            Type::String => "string".to_owned(),
            Type::Dynamic => "dynamic".to_owned(),
            Type::List(element) => format!("list of {}", element.friendly_name()),
            Type::Set(element) => format!("set of {}", element.friendly_name()),
            Type::Map(element) => format!("map of {}", element.friendly_name()),
            Type::Object { .. } => "object".to_owned(),
            Type::Tuple(_) => "tuple".to_owned(),
        }
    }
}

impl Value {
    pub fn string(value: impl Into<String>) -> Value {
        Value::String(value.into())
    }

    pub fn int(value: i64) -> Value {
        Value::Number(Number::Int(value))
    }

    pub fn float(value: f64) -> Value {
        Value::Number(Number::Float(value))
    }

    pub fn bool(value: bool) -> Value {
        Value::Bool(value)
    }

    pub fn object<'a>(attributes: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        let attributes = attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value));
        Value::Object(attributes.collect())
    }

    pub fn map<'a>(elements: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        let elements = elements
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value));
        Value::Map(elements.collect())
    }

    /// Returns the null value of a type. Values carry no type, so this is
    /// [`Value::Null`] whatever the type; it exists to make call sites read
    /// as the schema does.
    pub fn null_of(_ty: &Type) -> Value {
        Value::Null
    }

    /// Returns a short description of the value's kind for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "value with a dynamic type",
        }
    }
}
