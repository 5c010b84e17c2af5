//! cty's JSON form of values: a DynamicValue fallback and the form of the
//! raw state that UpgradeResourceState receives.
//!
//! The mapping follows go-cty's `cty/json` package: objects and maps are
//! JSON objects, lists, sets and tuples are arrays, numbers keep their exact
//! decimal text, and a value at a dynamic position is
//! `{"value": ..., "type": <type JSON>}`. JSON has no unknown values.

mod decode;
mod encode;

pub use crate::value::encode::EncodeError;

use serde_json::value::RawValue;

use crate::value::{Path, Type, TypeJsonError, Value};

/// Deepest nesting of arrays, objects and dynamic values that decoding accepts,
/// for the same reason as [`crate::value::msgpack::MAX_DEPTH`].
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("invalid JSON at {path}: {error}")]
    Nested {
        path: Path,
        error: serde_json::Error,
    },
    #[error("invalid JSON at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: Path,
        expected: String,
        found: &'static str,
    },
    #[error("invalid JSON at {path}: {text:?} is not a number")]
    InvalidNumber { path: Path, text: String },
    #[error("invalid JSON at {path}: attribute {name:?} is not in the object type")]
    UnexpectedAttribute { path: Path, name: String },
    #[error("invalid JSON at {path}: key {key:?} appears more than once")]
    DuplicateKey { path: Path, key: String },
    #[error("invalid JSON at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: Path,
        expected: usize,
        found: usize,
    },
    #[error(
        "invalid JSON at {path}: expected {{\"value\", \"type\"}} for a dynamic value, {problem}"
    )]
    InvalidDynamic { path: Path, problem: String },
    #[error("invalid JSON at {path}: invalid type of dynamic value: {error}")]
    InvalidDynamicType { path: Path, error: TypeJsonError },
    #[error("invalid JSON at {path}: values nest deeper than {MAX_DEPTH} levels")]
    TooDeep { path: Path },
}

impl DecodeError {
    /// Returns the position of the offending value, when the error has one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DecodeError::Syntax(_) => None,
            DecodeError::Nested { path, .. }
            | DecodeError::TypeMismatch { path, .. }
            | DecodeError::InvalidNumber { path, .. }
            | DecodeError::UnexpectedAttribute { path, .. }
            | DecodeError::DuplicateKey { path, .. }
            | DecodeError::TupleLength { path, .. }
            | DecodeError::InvalidDynamic { path, .. }
            | DecodeError::InvalidDynamicType { path, .. }
            | DecodeError::TooDeep { path } => Some(path),
        }
    }
}

/// Decodes JSON as a value of type `ty`, rejecting object attributes that
/// the type lacks.
///
/// Empty input is null, as in an empty DynamicValue. Objects come back with
/// every attribute of the type, null where the input lacks one. As in
/// go-cty, a string may stand for a number or bool and a number or bool for
/// a string.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_with(
        bytes,
        ty,
        &decode::Options {
            ignore_unknown_attributes: false,
        },
    )
}

/// Decodes JSON like [`decode`] but drops object attributes that the type
/// lacks, as needed to read state that an older schema version wrote.
pub fn decode_lenient(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_with(
        bytes,
        ty,
        &decode::Options {
            ignore_unknown_attributes: true,
        },
    )
}

fn decode_with(bytes: &[u8], ty: &Type, options: &decode::Options) -> Result<Value, DecodeError> {
    if bytes.trim_ascii().is_empty() {
        return Ok(Value::Null);
    }
    let raw: &RawValue = serde_json::from_slice(bytes).map_err(DecodeError::Syntax)?;
    decode::decode_raw(raw, ty, &Path::root(), 0, options)
}

/// Encodes a value of type `ty` as JSON, checking it against the type.
///
/// Fails on unknown values and infinite numbers, which JSON cannot carry.
/// Objects carry every attribute of the type in name order.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut sink = encode::JsonSink::default();
    crate::value::encode::encode_value(&mut sink, value, ty, &Path::root())?;
    Ok(sink.text.into_bytes())
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::value::Number;

    fn decimal(text: &str) -> Value {
        Value::Number(Number::Decimal(text.to_owned()))
    }

    fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(Box::new(ty), Box::new(value))
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn state_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("environment", Type::String),
            ("client_id", Type::String),
            (
                "rotation",
                Type::object([
                    ("max_age_days", Type::Number),
                    ("overlap_days", Type::Number),
                ]),
            ),
            (
                "versions",
                Type::list(Type::object([
                    ("id", Type::String),
                    ("created_at", Type::String),
                ])),
            ),
            ("tags", Type::map(Type::String)),
            ("stores", Type::set(Type::String)),
            ("precise", Type::Number),
            ("status", Type::String),
            ("metadata", Type::Dynamic),
        ])
    }

    const STATE: &str = r#"{
        "id": "staging/partner-a",
        "environment": "staging",
        "client_id": "cl-123",
        "rotation": {"max_age_days": 90, "overlap_days": 7},
        "versions": [
            {"id": "v1", "created_at": "2026-01-01T00:00:00Z"},
            {"id": "v2", "created_at": "2026-03-01T00:00:00Z"}
        ],
        "tags": {"team": "payments"},
        "stores": ["aws", "vault"],
        "precise": 0.1000000000000000000001,
        "metadata": {"value": {"owner": "ops"}, "type": ["object", {"owner": "string"}]}
    }"#;

    #[test]
    fn json_decode_state() {
        let state = decode(STATE.as_bytes(), &state_type()).unwrap();
        assert_eq!(state.attr("id").as_str(), Some("staging/partner-a"));
        assert_eq!(
            state.attr("rotation").attr("max_age_days").as_i64(),
            Some(90)
        );
        let versions = state.attr("versions").elements().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].attr("id").as_str(), Some("v2"));
        assert_eq!(
            state.attr("tags").attr("team"),
            &Value::Null,
            "maps are not objects"
        );
        assert_eq!(
            state.attr("tags").entries().unwrap().get("team"),
            Some(&Value::string("payments"))
        );
        assert_eq!(
            state.attr("stores"),
            &Value::Set(vec![Value::string("aws"), Value::string("vault")])
        );
        assert_eq!(state.attr("precise"), &decimal("0.1000000000000000000001"));
        assert_eq!(state.attr("status"), &Value::Null, "missing attribute");
        assert_eq!(state.attr("metadata").attr("owner").as_str(), Some("ops"));
    }

    #[test]
    fn json_decode_state_of_older_schema() {
        let old_state = r#"{"id": "a", "rotation": {"max_age_days": 3, "legacy_days": 1}}"#;
        let ty = Type::object([
            ("id", Type::String),
            ("rotation", Type::object([("max_age_days", Type::Number)])),
        ]);

        let error = decode(old_state.as_bytes(), &ty).unwrap_err();
        assert_eq!(
            error.path().map(Path::to_string).as_deref(),
            Some(".rotation")
        );
        assert!(
            error
                .to_string()
                .contains("\"legacy_days\" is not in the object type")
        );

        let state = decode_lenient(old_state.as_bytes(), &ty).unwrap();
        let expected = Value::object([
            ("id", Value::string("a")),
            ("rotation", Value::object([("max_age_days", Value::int(3))])),
        ]);
        assert_eq!(state, expected);
    }

    #[test]
    fn json_round_trip() {
        let nested = Type::object([
            ("name", Type::String),
            ("rules", Type::list(Type::object([("days", Type::Number)]))),
        ]);
        let nested_value = Value::object([
            ("name", Value::string("a")),
            (
                "rules",
                Value::List(vec![Value::object([("days", Value::int(3))])]),
            ),
        ]);
        let cases = [
            (
                "string",
                Type::String,
                Value::string("quote \" slash \\ tab \t nul \u{0}"),
            ),
            ("unicode", Type::String, Value::string("grüße, 世界")),
            ("bool", Type::Bool, Value::bool(false)),
            ("i64-min", Type::Number, Value::int(i64::MIN)),
            (
                "u64-max",
                Type::Number,
                Value::Number(Number::Uint(u64::MAX)),
            ),
            ("float-tenth", Type::Number, Value::float(0.1)),
            ("float-1e100", Type::Number, Value::float(1e100)),
            ("float-tiny", Type::Number, Value::float(-5e-7)),
            (
                "decimal-big",
                Type::Number,
                decimal("123456789012345678901234567890.5"),
            ),
            ("null", nested.clone(), Value::Null),
            ("nested-object", nested.clone(), nested_value.clone()),
            (
                "set",
                Type::set(Type::Number),
                Value::Set(vec![Value::int(1), Value::int(2)]),
            ),
            (
                "map",
                Type::map(Type::String),
                Value::map([("k", Value::string("v"))]),
            ),
            (
                "tuple",
                Type::Tuple(vec![Type::Bool, Type::String]),
                Value::Tuple(vec![Value::bool(true), Value::Null]),
            ),
            (
                "dynamic-object",
                Type::Dynamic,
                dynamic(nested, nested_value),
            ),
            (
                "dynamic-typed-null",
                Type::Dynamic,
                dynamic(Type::String, Value::Null),
            ),
            ("dynamic-null", Type::Dynamic, Value::Null),
        ];
        for (name, ty, value) in cases {
            let bytes = encode(&value, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            let decoded = decode(&bytes, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert!(
                value.semantically_equal(&decoded),
                "case {name}: {decoded:?}"
            );
        }
    }

    #[test]
    fn json_encode_text() {
        let object_type = Type::object([("b", Type::Number), ("a", Type::list(Type::String))]);
        let cases = [
            ("int", Type::Number, Value::int(-7), "-7"),
            ("integral-float", Type::Number, Value::float(3.0), "3"),
            ("float-tenth", Type::Number, Value::float(0.1), "0.1"),
            ("float-huge", Type::Number, Value::float(1e100), "1e100"),
            ("float-tiny", Type::Number, Value::float(5e-7), "5e-7"),
            ("decimal", Type::Number, decimal("1.50"), "1.5"),
            ("decimal-integral", Type::Number, decimal("1e3"), "1000"),
            (
                "string-escapes",
                Type::String,
                Value::string("a\"b\n\u{1}"),
                r#""a\"b\n\u0001""#,
            ),
            (
                "object-all-attributes-sorted",
                object_type.clone(),
                Value::object([("b", Value::int(1))]),
                r#"{"a":null,"b":1}"#,
            ),
            (
                "nested-arrays",
                Type::list(Type::list(Type::Number)),
                Value::List(vec![
                    Value::List(vec![Value::int(1), Value::int(2)]),
                    Value::List(vec![]),
                ]),
                "[[1,2],[]]",
            ),
            (
                "dynamic",
                Type::Dynamic,
                dynamic(
                    Type::map(Type::String),
                    Value::map([("k", Value::string("v"))]),
                ),
                r#"{"value":{"k":"v"},"type":["map","string"]}"#,
            ),
            (
                "dynamic-in-object",
                Type::object([("d", Type::Dynamic), ("e", Type::Bool)]),
                Value::object([("d", dynamic(Type::Bool, Value::bool(true)))]),
                r#"{"d":{"value":true,"type":"bool"},"e":null}"#,
            ),
        ];
        for (name, ty, value, expected) in cases {
            let bytes = encode(&value, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(text(bytes), expected, "case {name}");
        }
    }

    #[test]
    fn json_decode_conversions() {
        let cases = [
            (
                "number-from-string",
                r#""1e3""#,
                Type::Number,
                Value::int(1000),
            ),
            ("number-exponent", "2.5E+2", Type::Number, Value::int(250)),
            (
                "big-integer",
                "18446744073709551616",
                Type::Number,
                decimal("18446744073709551616"),
            ),
            (
                "bool-from-string",
                r#""true""#,
                Type::Bool,
                Value::bool(true),
            ),
            (
                "string-from-number",
                "1.50",
                Type::String,
                Value::string("1.50"),
            ),
            (
                "string-from-bool",
                "false",
                Type::String,
                Value::string("false"),
            ),
            ("empty-input", "  ", Type::String, Value::Null),
            ("null", "null", Type::Number, Value::Null),
        ];
        for (name, json, ty, expected) in cases {
            let decoded =
                decode(json.as_bytes(), &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(decoded, expected, "case {name}");
        }
    }

    #[test]
    fn json_decode_errors() {
        let rules = Type::object([("rules", Type::object([("max_age_days", Type::Number)]))]);
        let deep = format!(
            "{}null{}",
            r#"{"type":"dynamic","value":"#.repeat(MAX_DEPTH + 2),
            "}".repeat(MAX_DEPTH + 2)
        );
        let cases = [
            ("syntax", "{", Type::String, "", "invalid JSON: EOF"),
            (
                "trailing-text",
                "1 2",
                Type::Number,
                "",
                "trailing characters",
            ),
            (
                "attribute-mismatch",
                r#"{"rules": {"max_age_days": true}}"#,
                rules.clone(),
                ".rules.max_age_days",
                "expected number, found bool",
            ),
            (
                "invalid-number-string",
                r#"{"rules": {"max_age_days": "ninety"}}"#,
                rules,
                ".rules.max_age_days",
                "\"ninety\" is not a number",
            ),
            (
                "bool-from-other-string",
                r#""yes""#,
                Type::Bool,
                "the root",
                "expected bool",
            ),
            (
                "array-for-string",
                "[]",
                Type::String,
                "the root",
                "expected string, found array",
            ),
            (
                "object-for-list",
                "{}",
                Type::list(Type::String),
                "the root",
                "found object",
            ),
            (
                "element",
                r#"["a", 1, {}]"#,
                Type::list(Type::String),
                "[2]",
                "found object",
            ),
            (
                "map-value",
                r#"{"k": []}"#,
                Type::map(Type::Bool),
                "[\"k\"]",
                "found array",
            ),
            (
                "tuple-length",
                "[1]",
                Type::Tuple(vec![Type::Number, Type::Number]),
                "the root",
                "expected a tuple of 2 elements, found 1",
            ),
            (
                "duplicate-key",
                r#"{"a": 1, "a": 2}"#,
                Type::map(Type::Number),
                "the root",
                "key \"a\" appears more than once",
            ),
            (
                "dynamic-not-object",
                "1",
                Type::Dynamic,
                "the root",
                "dynamic value, found number",
            ),
            (
                "dynamic-without-type",
                r#"{"value": 1}"#,
                Type::Dynamic,
                "the root",
                "found an object without both",
            ),
            (
                "dynamic-extra-key",
                r#"{"value": 1, "type": "number", "x": 1}"#,
                Type::Dynamic,
                "the root",
                "found key \"x\"",
            ),
            (
                "dynamic-bad-type",
                r#"{"value": 1, "type": "integer"}"#,
                Type::Dynamic,
                "the root",
                "unknown type name \"integer\"",
            ),
            (
                "dynamic-value-mismatch",
                r#"{"value": "a", "type": ["list", "string"]}"#,
                Type::Dynamic,
                "the root",
                "expected list of string, found string",
            ),
            (
                "deep-nesting",
                deep.as_str(),
                Type::Dynamic,
                "the root",
                "deeper than 128 levels",
            ),
        ];
        for (name, json, ty, path, message) in cases {
            let error = decode(json.as_bytes(), &ty).expect_err(name);
            let text = error.to_string();
            assert!(text.contains(message), "case {name}: {text}");
            let shown_path = error.path().map(Path::to_string).unwrap_or_default();
            assert_eq!(shown_path, path, "case {name}: {text}");
        }
    }

    #[test]
    fn json_encode_errors() {
        let ty = Type::object([("rules", Type::list(Type::Number))]);
        let cases = [
            (
                "unknown-element",
                Value::object([("rules", Value::List(vec![Value::int(1), Value::Unknown]))]),
                ".rules[1]",
                "unknown value at .rules[1] cannot be encoded as JSON",
            ),
            (
                "infinity",
                Value::object([("rules", Value::List(vec![Value::float(f64::INFINITY)]))]),
                ".rules[0]",
                "infinite number",
            ),
            (
                "mismatch",
                Value::object([("rules", Value::Set(vec![]))]),
                ".rules",
                "expected list of number, found set",
            ),
            ("unknown-top", Value::Unknown, "the root", "unknown value"),
        ];
        for (name, value, path, message) in cases {
            let error = encode(&value, &ty).expect_err(name);
            let text = error.to_string();
            assert!(text.contains(message), "case {name}: {text}");
            assert_eq!(error.path().to_string(), path, "case {name}");
        }
    }

    #[test]
    fn json_decode_never_panics() {
        let mut rng = StdRng::seed_from_u64(0x15_0a);
        let types = [
            state_type(),
            Type::Dynamic,
            Type::list(Type::map(Type::Number)),
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for len in 0..STATE.len() {
            inputs.push(STATE.as_bytes()[..len].to_vec());
        }
        for _ in 0..2_000 {
            let mut mutated = STATE.as_bytes().to_vec();
            let at = rng.random_range(0..mutated.len());
            mutated[at] = rng.random();
            inputs.push(mutated);
        }
        let alphabet = br#"{}[]",:0123456789.eE-+ntruefalsvyp\"#;
        for _ in 0..2_000 {
            let len = rng.random_range(0..40);
            let bytes = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            inputs.push(bytes);
        }

        for bytes in inputs {
            for ty in &types {
                let Ok(value) = decode_lenient(&bytes, ty) else {
                    continue;
                };
                let encoded = encode(&value, ty).unwrap_or_else(|e| {
                    panic!(
                        "{:?} decoded but did not encode: {e}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                let again = decode(&encoded, ty).unwrap();
                assert!(value.semantically_equal(&again), "{:?} changed", bytes);
            }
        }
    }
}
