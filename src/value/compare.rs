//! Semantic equality of values, for comparing planned values with configuration.

use std::collections::BTreeMap;

use super::Value;

impl Value {
    /// Compares two values by meaning rather than by representation.
    ///
    /// Differences from `==`:
    /// - numbers compare numerically across forms ([`super::Number::numeric_eq`]);
    /// - sets compare as sets, ignoring order and repeated elements;
    /// - a missing object attribute equals null;
    /// - a [`Value::Dynamic`] wrapper equals its inner value, unless both
    ///   sides are wrapped, in which case the types must match too.
    ///
    /// Two unknowns are equal, because neither carries more information.
    pub fn semantically_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Dynamic(left_type, left), Value::Dynamic(right_type, right)) => {
                left_type == right_type && left.semantically_equal(right)
            }
            (Value::Dynamic(_, inner), plain) | (plain, Value::Dynamic(_, inner)) => {
                inner.semantically_equal(plain)
            }
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(left), Value::Bool(right)) => left == right,
            (Value::Number(left), Value::Number(right)) => left.numeric_eq(right),
            (Value::String(left), Value::String(right)) => left == right,
            (Value::List(left), Value::List(right)) | (Value::Tuple(left), Value::Tuple(right)) => {
                sequences_equal(left, right)
            }
            (Value::Set(left), Value::Set(right)) => sets_equal(left, right),
            (Value::Map(left), Value::Map(right)) => maps_equal(left, right),
            (Value::Object(left), Value::Object(right)) => objects_equal(left, right),
            _ => false,
        }
    }
}

fn sequences_equal(left: &[Value], right: &[Value]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .all(|(left, right)| left.semantically_equal(right))
}

fn sets_equal(left: &[Value], right: &[Value]) -> bool {
    let contains = |set: &[Value], element: &Value| {
        set.iter()
            .any(|candidate| candidate.semantically_equal(element))
    };
    left.iter().all(|element| contains(right, element))
        && right.iter().all(|element| contains(left, element))
}

fn maps_equal(left: &BTreeMap<String, Value>, right: &BTreeMap<String, Value>) -> bool {
    left.len() == right.len()
        && left.iter().all(|(key, value)| {
            right
                .get(key)
                .is_some_and(|other| value.semantically_equal(other))
        })
}

fn objects_equal(left: &BTreeMap<String, Value>, right: &BTreeMap<String, Value>) -> bool {
    let names = left.keys().chain(right.keys());
    names.into_iter().all(|name| {
        let left = left.get(name).unwrap_or(&Value::Null);
        let right = right.get(name).unwrap_or(&Value::Null);
        left.semantically_equal(right)
    })
}

#[cfg(test)]
mod tests {
    use crate::value::{Number, Type, Value};

    fn set(elements: Vec<Value>) -> Value {
        Value::Set(elements)
    }

    #[test]
    fn value_semantically_equal() {
        let number = |n: Number| Value::Number(n);
        let wrapped = |ty: Type, value: Value| Value::Dynamic(Box::new(ty), Box::new(value));
        let cases = [
            ("int-uint", Value::int(1), number(Number::Uint(1)), true),
            ("int-float", Value::int(1), Value::float(1.0), true),
            (
                "int-decimal",
                Value::int(1),
                number(Number::Decimal("1".into())),
                true,
            ),
            ("different-numbers", Value::int(1), Value::int(2), false),
            (
                "set-order",
                set(vec![Value::string("a"), Value::string("b")]),
                set(vec![Value::string("b"), Value::string("a")]),
                true,
            ),
            (
                "set-numbers-by-value",
                set(vec![Value::int(1), Value::float(2.5)]),
                set(vec![
                    number(Number::Decimal("2.5".into())),
                    Value::float(1.0),
                ]),
                true,
            ),
            (
                "set-different",
                set(vec![Value::string("a")]),
                set(vec![Value::string("a"), Value::string("b")]),
                false,
            ),
            (
                "list-order-matters",
                Value::List(vec![Value::string("a"), Value::string("b")]),
                Value::List(vec![Value::string("b"), Value::string("a")]),
                false,
            ),
            (
                "list-is-not-set",
                Value::List(vec![Value::string("a")]),
                set(vec![Value::string("a")]),
                false,
            ),
            (
                "missing-attribute-is-null",
                Value::object([("a", Value::int(1)), ("b", Value::Null)]),
                Value::object([("a", Value::float(1.0))]),
                true,
            ),
            (
                "attribute-differs",
                Value::object([("a", Value::int(1))]),
                Value::object([("a", Value::int(1)), ("b", Value::string("x"))]),
                false,
            ),
            (
                "map-keys-differ",
                Value::map([("a", Value::int(1))]),
                Value::map([("b", Value::int(1))]),
                false,
            ),
            (
                "map-values-by-number",
                Value::map([("a", Value::int(1))]),
                Value::map([("a", Value::float(1.0))]),
                true,
            ),
            ("unknowns", Value::Unknown, Value::Unknown, true),
            ("unknown-and-null", Value::Unknown, Value::Null, false),
            (
                "dynamic-and-plain",
                wrapped(Type::String, Value::string("a")),
                Value::string("a"),
                true,
            ),
            (
                "dynamic-types-differ",
                wrapped(Type::String, Value::Null),
                wrapped(Type::Number, Value::Null),
                false,
            ),
        ];
        for (name, left, right, expected) in cases {
            assert_eq!(left.semantically_equal(&right), expected, "case {name}");
            assert_eq!(
                right.semantically_equal(&left),
                expected,
                "case {name} reversed"
            );
        }
    }
}
