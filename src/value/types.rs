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
    /// A known, non-null value at a [`Type::Dynamic`] position, with its concrete type.
    Dynamic(Box<Type>, Box<Value>),
}
