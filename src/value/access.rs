//! Queries, accessors and rewrites of values for the framework and resources.
//!
//! Accessors look through [`Value::Dynamic`] wrappers, so code that reads a
//! dynamic attribute gets the same shapes as code that reads a typed one.

use std::collections::BTreeMap;

use super::{Number, Path, Value};

static NULL: Value = Value::Null;
static UNKNOWN: Value = Value::Unknown;

impl Value {
    /// Returns true for null, including a typed null at a dynamic position.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(_, inner) => inner.is_null(),
            _ => false,
        }
    }

    /// Returns true when the value itself is unknown. Nested unknowns do not count.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Dynamic(_, inner) => inner.is_unknown(),
            _ => false,
        }
    }

    /// Returns true unless the value itself is unknown. It may contain unknowns.
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// Returns true when no unknown value appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(elements) | Value::Set(elements) | Value::Tuple(elements) => {
                elements.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
        }
    }

    /// Returns the value inside a [`Value::Dynamic`] wrapper, or the value itself.
    pub fn without_dynamic_type(&self) -> &Value {
        match self {
            Value::Dynamic(_, inner) => inner.without_dynamic_type(),
            other => other,
        }
    }

    /// Returns an object attribute.
    ///
    /// An unknown object yields [`Value::Unknown`], because all its
    /// attributes are unknown too. A null object, a missing attribute and a
    /// value that is not an object yield [`Value::Null`].
    pub fn attr(&self, name: &str) -> &Value {
        match self.without_dynamic_type() {
            Value::Object(attributes) => attributes.get(name).unwrap_or(&NULL),
            Value::Unknown => &UNKNOWN,
            _ => &NULL,
        }
    }

    /// Returns an existing object attribute for changing it in place.
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attributes) => attributes.get_mut(name),
            Value::Dynamic(_, inner) => inner.attr_mut(name),
            _ => None,
        }
    }

    /// Sets an object attribute, adding it when missing.
    ///
    /// A value that is not an object (null, unknown or another kind) is
    /// replaced by an object that holds only this attribute.
    pub fn set_attr(&mut self, name: impl Into<String>, value: Value) {
        let target = match self {
            Value::Dynamic(_, inner) => inner.as_mut(),
            other => other,
        };
        if !matches!(target, Value::Object(_)) {
            *target = Value::Object(BTreeMap::new());
        }
        if let Value::Object(attributes) = target {
            attributes.insert(name.into(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.without_dynamic_type() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.without_dynamic_type() {
            Value::Bool(value) => Some(*value),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.without_dynamic_type() {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }

    /// Returns the number as `i64` when it is an integer in range, whatever
    /// its form (see [`Number::as_i64`]).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    /// Returns the nearest `f64` of a number (see [`Number::as_f64`]).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }

    /// Returns the elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self.without_dynamic_type() {
            Value::List(elements) | Value::Set(elements) | Value::Tuple(elements) => Some(elements),
            _ => None,
        }
    }

    /// Returns the entries of a map or the attributes of an object.
    pub fn entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self.without_dynamic_type() {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// Replaces every unknown value, at any depth, with `replace(path)`.
    ///
    /// Set elements are addressed by their position.
    pub fn map_unknown(self, mut replace: impl FnMut(&Path) -> Value) -> Value {
        self.map_unknown_at(&Path::root(), &mut replace)
    }

    /// Replaces every unknown value, at any depth, with null.
    pub fn unknown_to_null(self) -> Value {
        self.map_unknown(|_| Value::Null)
    }

    fn map_unknown_at(self, path: &Path, replace: &mut impl FnMut(&Path) -> Value) -> Value {
        match self {
            Value::Unknown => replace(path),
            Value::List(elements) => Value::List(map_elements_unknown(elements, path, replace)),
            Value::Set(elements) => Value::Set(map_elements_unknown(elements, path, replace)),
            Value::Tuple(elements) => Value::Tuple(map_elements_unknown(elements, path, replace)),
            Value::Map(entries) => Value::Map(
                (entries.into_iter())
                    .map(|(key, value)| {
                        let value = value.map_unknown_at(&path.key(&key), replace);
                        (key, value)
                    })
                    .collect(),
            ),
            Value::Object(attributes) => Value::Object(
                (attributes.into_iter())
                    .map(|(name, value)| {
                        let value = value.map_unknown_at(&path.attribute(&name), replace);
                        (name, value)
                    })
                    .collect(),
            ),
            Value::Dynamic(ty, inner) => {
                Value::Dynamic(ty, Box::new(inner.map_unknown_at(path, replace)))
            }
            known => known,
        }
    }
}

fn map_elements_unknown(
    elements: Vec<Value>,
    path: &Path,
    replace: &mut impl FnMut(&Path) -> Value,
) -> Vec<Value> {
    let indexed = elements.into_iter().enumerate();
    indexed
        .map(|(i, element)| element.map_unknown_at(&path.index(i), replace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{PathStep, Type};

    fn sample() -> Value {
        Value::object([
            ("id", Value::string("x")),
            ("count", Value::int(3)),
            ("pending", Value::Unknown),
            (
                "rules",
                Value::List(vec![Value::object([("days", Value::Unknown)])]),
            ),
        ])
    }

    #[test]
    fn value_null_and_unknown_queries() {
        let typed_null = Value::Dynamic(Box::new(Type::String), Box::new(Value::Null));
        let typed_unknown = Value::Dynamic(Box::new(Type::String), Box::new(Value::Unknown));
        let cases = [
            ("null", Value::Null, true, false, true),
            ("unknown", Value::Unknown, false, true, false),
            ("string", Value::string("a"), false, false, true),
            ("object-with-unknown", sample(), false, false, false),
            ("typed-null", typed_null, true, false, true),
            ("typed-unknown", typed_unknown, false, true, false),
        ];
        for (name, value, null, unknown, wholly_known) in cases {
            assert_eq!(value.is_null(), null, "case {name} is_null");
            assert_eq!(value.is_unknown(), unknown, "case {name} is_unknown");
            assert_eq!(value.is_known(), !unknown, "case {name} is_known");
            assert_eq!(
                value.is_wholly_known(),
                wholly_known,
                "case {name} is_wholly_known"
            );
        }
    }

    #[test]
    fn value_attr() {
        let value = sample();
        assert_eq!(value.attr("id").as_str(), Some("x"));
        assert_eq!(value.attr("count").as_i64(), Some(3));
        assert_eq!(value.attr("pending"), &Value::Unknown);
        assert_eq!(value.attr("missing"), &Value::Null);
        assert_eq!(Value::Null.attr("id"), &Value::Null);
        assert_eq!(Value::Unknown.attr("id"), &Value::Unknown);
        assert_eq!(Value::string("a").attr("id"), &Value::Null);

        let wrapped = Value::Dynamic(Box::new(Type::Dynamic), Box::new(sample()));
        assert_eq!(wrapped.attr("id").as_str(), Some("x"));
    }

    #[test]
    fn value_set_attr() {
        let mut value = sample();
        value.set_attr("id", Value::string("y"));
        assert_eq!(value.attr("id").as_str(), Some("y"));

        if let Some(count) = value.attr_mut("count") {
            *count = Value::int(4);
        }
        assert_eq!(value.attr("count").as_i64(), Some(4));
        assert!(value.attr_mut("missing").is_none());

        let mut null = Value::Null;
        null.set_attr("id", Value::string("z"));
        assert_eq!(null, Value::object([("id", Value::string("z"))]));
    }

    #[test]
    fn value_scalar_accessors() {
        assert_eq!(Value::bool(true).as_bool(), Some(true));
        assert_eq!(Value::string("a").as_bool(), None);
        assert_eq!(Value::float(2.0).as_i64(), Some(2));
        assert_eq!(Value::float(2.5).as_i64(), None);
        assert_eq!(
            Value::Number(Number::Decimal("1e2".into())).as_i64(),
            Some(100)
        );
        assert_eq!(Value::Number(Number::Uint(7)).as_i64(), Some(7));
        assert_eq!(Value::int(2).as_f64(), Some(2.0));
        assert_eq!(Value::string("2").as_i64(), None);
        assert_eq!(Value::Null.as_str(), None);
    }

    #[test]
    fn value_unknown_to_null() {
        let value = sample().unknown_to_null();
        assert!(value.is_wholly_known());
        assert_eq!(value.attr("pending"), &Value::Null);
        assert_eq!(value.attr("id").as_str(), Some("x"));
        let rules = value.attr("rules").elements().unwrap();
        assert_eq!(rules[0].attr("days"), &Value::Null);
    }

    #[test]
    fn value_map_unknown_paths() {
        let mut seen = Vec::new();
        let value = sample().map_unknown(|path| {
            seen.push(path.to_string());
            Value::int(0)
        });
        assert_eq!(seen, [".pending", ".rules[0].days"]);
        assert_eq!(value.attr("pending").as_i64(), Some(0));

        let top = Value::Unknown.map_unknown(|path| {
            assert_eq!(path.steps(), &[] as &[PathStep]);
            Value::string("resolved")
        });
        assert_eq!(top.as_str(), Some("resolved"));
    }
}
