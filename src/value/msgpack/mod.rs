//! The msgpack form of values, Terraform's preferred DynamicValue encoding.
//!
//! The mapping follows go-cty's `cty/msgpack` package and Terraform's
//! `docs/plugin-protocol/object-wire-format.md`: nil is null, any extension
//! is unknown, objects are maps keyed by attribute name, lists, sets and
//! tuples are arrays, and a value at a dynamic position is the array
//! `[type JSON, value]`.

mod decode;
mod encode;
mod reader;

pub use crate::value::encode::EncodeError;
pub use decode::MAX_DEPTH;

use crate::value::{Path, TypeJsonError};
use crate::value::{Type, Value};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid msgpack at {path}: input ends early")]
    Truncated { path: Path },
    #[error("invalid msgpack at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: Path,
        expected: String,
        found: &'static str,
    },
    #[error("invalid msgpack at {path}: {text:?} is not a number")]
    InvalidNumber { path: Path, text: String },
    #[error("invalid msgpack at {path}: string is not valid UTF-8")]
    InvalidUtf8 { path: Path },
    #[error("invalid msgpack at {path}: expected a string map key, found {found}")]
    InvalidKey { path: Path, found: &'static str },
    #[error("invalid msgpack at {path}: attribute {name:?} is not in the object type")]
    UnexpectedAttribute { path: Path, name: String },
    #[error("invalid msgpack at {path}: key {key:?} appears more than once")]
    DuplicateKey { path: Path, key: String },
    #[error("invalid msgpack at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: Path,
        expected: usize,
        found: usize,
    },
    #[error("invalid msgpack at {path}: expected a [type, value] array, found {found}")]
    InvalidDynamic { path: Path, found: String },
    #[error("invalid msgpack at {path}: invalid type of dynamic value: {error}")]
    InvalidDynamicType { path: Path, error: TypeJsonError },
    #[error("invalid msgpack at {path}: values nest deeper than {MAX_DEPTH} levels")]
    TooDeep { path: Path },
    #[error("invalid msgpack: {count} bytes follow the value")]
    TrailingBytes { count: usize },
}

impl DecodeError {
    /// Returns the position of the offending value, when the error has one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DecodeError::Truncated { path }
            | DecodeError::TypeMismatch { path, .. }
            | DecodeError::InvalidNumber { path, .. }
            | DecodeError::InvalidUtf8 { path }
            | DecodeError::InvalidKey { path, .. }
            | DecodeError::UnexpectedAttribute { path, .. }
            | DecodeError::DuplicateKey { path, .. }
            | DecodeError::TupleLength { path, .. }
            | DecodeError::InvalidDynamic { path, .. }
            | DecodeError::InvalidDynamicType { path, .. }
            | DecodeError::TooDeep { path } => Some(path),
            DecodeError::TrailingBytes { .. } => None,
        }
    }
}

/// Decodes msgpack bytes as a value of type `ty`.
///
/// Empty input is null, as in an empty DynamicValue. Objects come back
/// with every attribute of the type, null where the input lacks one.
/// Integers that fit `i64` decode as [`crate::value::Number::Int`] whatever
/// their wire width, and refinements of unknown values are dropped.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut decoder = decode::Decoder::new(bytes);
    let value = decoder.value(ty, &Path::root(), 0)?;
    match decoder.remaining() {
        0 => Ok(value),
        count => Err(DecodeError::TrailingBytes { count }),
    }
}

/// Encodes a value of type `ty` as msgpack, checking it against the type.
///
/// Unknown values become extension 0 with one zero byte, integers use the
/// smallest msgpack integer, integral floats that fit `i64` become integers
/// (as go-cty writes them), other floats are float64, and decimals are
/// strings. Objects carry every attribute of the type in name order.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut sink = encode::MsgpackSink::default();
    crate::value::encode::encode_value(&mut sink, value, ty, &Path::root())?;
    Ok(sink.bytes)
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

    fn rule_type() -> Type {
        Type::object([("name", Type::String), ("max_age_days", Type::Number)])
    }

    fn credential_type() -> Type {
        Type::object_with_optional(
            [
                ("id", Type::String),
                ("enabled", Type::Bool),
                ("rules", Type::list(rule_type())),
                ("tags", Type::map(Type::String)),
                ("environments", Type::set(Type::String)),
                ("window", Type::Tuple(vec![Type::Number, Type::String])),
                ("extra", Type::Dynamic),
            ],
            ["extra"],
        )
    }

    fn credential() -> Value {
        Value::object([
            ("id", Value::string("cred-1")),
            ("enabled", Value::bool(true)),
            (
                "rules",
                Value::List(vec![
                    Value::object([
                        ("name", Value::string("a")),
                        ("max_age_days", Value::int(90)),
                    ]),
                    Value::object([("name", Value::string("b")), ("max_age_days", Value::Null)]),
                ]),
            ),
            ("tags", Value::map([("team", Value::string("payments"))])),
            (
                "environments",
                Value::Set(vec![Value::string("staging"), Value::string("production")]),
            ),
            (
                "window",
                Value::Tuple(vec![Value::float(0.5), Value::string("h")]),
            ),
            (
                "extra",
                dynamic(Type::map(Type::Number), Value::map([("x", Value::int(1))])),
            ),
        ])
    }

    fn round_trip_cases() -> Vec<(&'static str, Type, Value)> {
        vec![
            ("string", Type::String, Value::string("hello")),
            ("empty-string", Type::String, Value::string("")),
            ("unicode-string", Type::String, Value::string("grüße, 世界")),
            (
                "long-string",
                Type::String,
                Value::string("x".repeat(70_000)),
            ),
            ("bool-true", Type::Bool, Value::bool(true)),
            ("bool-false", Type::Bool, Value::bool(false)),
            ("zero", Type::Number, Value::int(0)),
            ("negative-fixint", Type::Number, Value::int(-32)),
            ("int8", Type::Number, Value::int(-100)),
            ("uint16", Type::Number, Value::int(60_000)),
            ("i64-min", Type::Number, Value::int(i64::MIN)),
            ("i64-max", Type::Number, Value::int(i64::MAX)),
            (
                "u64-max",
                Type::Number,
                Value::Number(Number::Uint(u64::MAX)),
            ),
            ("float-tenth", Type::Number, Value::float(0.1)),
            ("float-negative", Type::Number, Value::float(-2.5)),
            ("float-1e100", Type::Number, Value::float(1e100)),
            (
                "float-infinity",
                Type::Number,
                Value::float(f64::NEG_INFINITY),
            ),
            ("decimal-tenth", Type::Number, decimal("0.1")),
            (
                "decimal-big",
                Type::Number,
                decimal("123456789012345678901234567890.123456789"),
            ),
            ("decimal-huge", Type::Number, decimal("1e400")),
            ("null-string", Type::String, Value::Null),
            ("null-object", credential_type(), Value::Null),
            ("unknown-top", credential_type(), Value::Unknown),
            (
                "list",
                Type::list(Type::String),
                Value::List(vec![Value::string("a")]),
            ),
            ("empty-list", Type::list(Type::String), Value::List(vec![])),
            (
                "set",
                Type::set(Type::Number),
                Value::Set(vec![Value::int(2), Value::int(1)]),
            ),
            (
                "map",
                Type::map(Type::Bool),
                Value::map([("a", Value::bool(true))]),
            ),
            ("empty-map", Type::map(Type::Bool), Value::map([])),
            (
                "tuple",
                Type::Tuple(vec![Type::String, Type::Number]),
                Value::Tuple(vec![Value::string("a"), Value::int(1)]),
            ),
            ("empty-tuple", Type::Tuple(vec![]), Value::Tuple(vec![])),
            ("empty-object", Type::object([]), Value::object([])),
            ("nested-object", credential_type(), credential()),
            (
                "unknown-attribute",
                credential_type(),
                Value::object(
                    (credential().entries().unwrap().iter())
                        .map(|(name, value)| (name.as_str(), value.clone()))
                        .chain([("id", Value::Unknown)]),
                ),
            ),
            (
                "unknown-element",
                Type::list(Type::String),
                Value::List(vec![Value::string("a"), Value::Unknown]),
            ),
            (
                "unknown-map-value",
                Type::map(Type::Number),
                Value::map([("a", Value::Unknown)]),
            ),
            (
                "unknown-in-tuple",
                Type::Tuple(vec![Type::Bool]),
                Value::Tuple(vec![Value::Unknown]),
            ),
            ("dynamic-null", Type::Dynamic, Value::Null),
            ("dynamic-unknown", Type::Dynamic, Value::Unknown),
            (
                "dynamic-string",
                Type::Dynamic,
                dynamic(Type::String, Value::string("a")),
            ),
            (
                "dynamic-object",
                Type::Dynamic,
                dynamic(credential_type(), credential()),
            ),
            (
                "dynamic-typed-null",
                Type::Dynamic,
                dynamic(Type::Number, Value::Null),
            ),
            (
                "dynamic-typed-unknown",
                Type::Dynamic,
                dynamic(Type::Number, Value::Unknown),
            ),
            (
                "dynamic-in-list",
                Type::list(Type::Dynamic),
                Value::List(vec![dynamic(Type::Bool, Value::bool(true)), Value::Null]),
            ),
        ]
    }

    #[test]
    fn msgpack_round_trip() {
        for (name, ty, value) in round_trip_cases() {
            let bytes = encode(&value, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            let decoded = decode(&bytes, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(decoded, value, "case {name}");
        }
    }

    #[test]
    fn msgpack_encode_known_bytes() {
        let object_type = Type::object([("id", Type::String), ("n", Type::Number)]);
        let cases: Vec<(&str, Type, Value, Vec<u8>)> = vec![
            ("null", Type::String, Value::Null, vec![0xc0]),
            (
                "unknown",
                Type::String,
                Value::Unknown,
                vec![0xd4, 0x00, 0x00],
            ),
            ("true", Type::Bool, Value::bool(true), vec![0xc3]),
            ("fixint", Type::Number, Value::int(1), vec![0x01]),
            ("negative-fixint", Type::Number, Value::int(-1), vec![0xff]),
            ("uint8", Type::Number, Value::int(200), vec![0xcc, 0xc8]),
            (
                "int16",
                Type::Number,
                Value::int(-200),
                vec![0xd1, 0xff, 0x38],
            ),
            (
                "integral-float",
                Type::Number,
                Value::float(3.0),
                vec![0x03],
            ),
            (
                "float64",
                Type::Number,
                Value::float(1.5),
                vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
            ),
            (
                "decimal",
                Type::Number,
                decimal("0.1"),
                vec![0xa3, b'0', b'.', b'1'],
            ),
            ("integral-decimal", Type::Number, decimal("1e2"), vec![0x64]),
            (
                "list",
                Type::list(Type::String),
                Value::List(vec![Value::string("a")]),
                vec![0x91, 0xa1, b'a'],
            ),
            (
                "map",
                Type::map(Type::Bool),
                Value::map([("a", Value::bool(true))]),
                vec![0x81, 0xa1, b'a', 0xc3],
            ),
            (
                "object-with-unknown",
                object_type.clone(),
                Value::object([("id", Value::string("x")), ("n", Value::Unknown)]),
                vec![
                    0x82, 0xa2, b'i', b'd', 0xa1, b'x', 0xa1, b'n', 0xd4, 0x00, 0x00,
                ],
            ),
            (
                "object-missing-attribute",
                object_type,
                Value::object([("n", Value::int(5))]),
                vec![0x82, 0xa2, b'i', b'd', 0xc0, 0xa1, b'n', 0x05],
            ),
            (
                "dynamic-string",
                Type::Dynamic,
                dynamic(Type::String, Value::string("hi")),
                {
                    let mut bytes = vec![0x92, 0xc4, 0x08];
                    bytes.extend_from_slice(b"\"string\"");
                    bytes.extend_from_slice(&[0xa2, b'h', b'i']);
                    bytes
                },
            ),
        ];
        for (name, ty, value, expected) in cases {
            let bytes = encode(&value, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(bytes, expected, "case {name}");
        }
    }

    #[test]
    fn msgpack_decode_known_bytes() {
        let unknown_string = Type::object([("id", Type::String), ("n", Type::Number)]);
        // A refined unknown string: not null, prefix "abc" ({1: false, 2: "abc"}).
        let refined: &[u8] = &[0xd7, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa3, b'a', b'b', b'c'];
        let cases: Vec<(&str, Vec<u8>, Type, Value)> = vec![
            ("empty-input", vec![], Type::String, Value::Null),
            ("int8", vec![0xd0, 0x85], Type::Number, Value::int(-123)),
            (
                "int16",
                vec![0xd1, 0x01, 0x00],
                Type::Number,
                Value::int(256),
            ),
            (
                "int32",
                vec![0xd2, 0xff, 0xff, 0xff, 0xfe],
                Type::Number,
                Value::int(-2),
            ),
            (
                "int64",
                [vec![0xd3], 7i64.to_be_bytes().to_vec()].concat(),
                Type::Number,
                Value::int(7),
            ),
            (
                "uint16",
                vec![0xcd, 0x12, 0x34],
                Type::Number,
                Value::int(0x1234),
            ),
            (
                "uint32",
                vec![0xce, 0, 1, 0, 0],
                Type::Number,
                Value::int(65536),
            ),
            (
                "uint64-small",
                [vec![0xcf], 9u64.to_be_bytes().to_vec()].concat(),
                Type::Number,
                Value::int(9),
            ),
            (
                "uint64-max",
                vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                Type::Number,
                Value::Number(Number::Uint(u64::MAX)),
            ),
            (
                "float32",
                vec![0xca, 0x3f, 0xc0, 0, 0],
                Type::Number,
                Value::float(1.5),
            ),
            (
                "decimal-exponent",
                [&[0xa3][..], b"1e3"].concat(),
                Type::Number,
                Value::int(1000),
            ),
            (
                "decimal-tenth",
                [&[0xa3][..], b"0.1"].concat(),
                Type::Number,
                decimal("0.1"),
            ),
            (
                "decimal-big",
                [&[0xb5][..], b"123456789012345678901"].concat(),
                Type::Number,
                decimal("123456789012345678901"),
            ),
            (
                "str8",
                [&[0xd9, 0x02][..], b"ab"].concat(),
                Type::String,
                Value::string("ab"),
            ),
            (
                "bin-as-string",
                [&[0xc4, 0x02][..], b"ab"].concat(),
                Type::String,
                Value::string("ab"),
            ),
            ("ext0", vec![0xd4, 0x00, 0x00], Type::String, Value::Unknown),
            (
                "ext-other-type",
                vec![0xd5, 0x05, 0x01, 0x02],
                Type::Bool,
                Value::Unknown,
            ),
            (
                "ext8-empty",
                vec![0xc7, 0x00, 0x00],
                Type::Number,
                Value::Unknown,
            ),
            (
                "refined-unknown",
                refined.to_vec(),
                Type::String,
                Value::Unknown,
            ),
            (
                "refined-unknown-attribute",
                [&[0x82, 0xa2, b'i', b'd'][..], refined, &[0xa1, b'n', 0x01]].concat(),
                unknown_string.clone(),
                Value::object([("id", Value::Unknown), ("n", Value::int(1))]),
            ),
            (
                "refined-unknown-element",
                [&[0x92, 0xa1, b'a'][..], refined].concat(),
                Type::list(Type::String),
                Value::List(vec![Value::string("a"), Value::Unknown]),
            ),
            (
                "refined-unknown-list",
                // An unknown list of at least one element: {1: false, 5: 1}.
                vec![0xc7, 0x05, 0x0c, 0x82, 0x01, 0xc2, 0x05, 0x01],
                Type::list(Type::String),
                Value::Unknown,
            ),
            (
                "object-missing-attribute",
                vec![0x81, 0xa2, b'i', b'd', 0xa1, b'x'],
                unknown_string,
                Value::object([("id", Value::string("x")), ("n", Value::Null)]),
            ),
            (
                "dynamic-type-as-string",
                [&[0x92, 0xa8][..], b"\"number\"", &[0x2a]].concat(),
                Type::Dynamic,
                dynamic(Type::Number, Value::int(42)),
            ),
            (
                "array16",
                vec![0xdc, 0x00, 0x02, 0xc3, 0xc2],
                Type::list(Type::Bool),
                Value::List(vec![Value::bool(true), Value::bool(false)]),
            ),
            (
                "map32",
                vec![0xdf, 0, 0, 0, 1, 0xa1, b'k', 0xa1, b'v'],
                Type::map(Type::String),
                Value::map([("k", Value::string("v"))]),
            ),
        ];
        for (name, bytes, ty, expected) in cases {
            let decoded = decode(&bytes, &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(decoded, expected, "case {name}");
        }
    }

    #[test]
    fn msgpack_decode_errors() {
        let rules = Type::object([("rules", rule_type())]);
        let nested_dynamic: Vec<u8> = {
            let mut bytes = Vec::new();
            for _ in 0..MAX_DEPTH + 5 {
                bytes.extend_from_slice(&[0x92, 0xa9]);
                bytes.extend_from_slice(b"\"dynamic\"");
            }
            bytes.push(0xc0);
            bytes
        };
        let cases: Vec<(&str, Vec<u8>, Type, &str, &str)> = vec![
            (
                "attribute-mismatch",
                [
                    &[0x81, 0xa5][..],
                    b"rules",
                    &[0x81, 0xac],
                    b"max_age_days",
                    &[0xc3],
                ]
                .concat(),
                rules.clone(),
                ".rules.max_age_days",
                "expected number, found bool",
            ),
            (
                "unexpected-attribute",
                [&[0x81, 0xa5][..], b"other", &[0xc0]].concat(),
                rules,
                "the root",
                "attribute \"other\" is not in the object type",
            ),
            (
                "truncated-array",
                vec![0x92, 0x01],
                Type::list(Type::Number),
                "[1]",
                "ends early",
            ),
            (
                "truncated-string",
                vec![0xa5, b'a'],
                Type::String,
                "the root",
                "ends early",
            ),
            (
                "truncated-number",
                vec![0xcd, 0x01],
                Type::Number,
                "the root",
                "ends early",
            ),
            (
                "truncated-extension",
                vec![0xd8, 0x0c, 0x81],
                Type::String,
                "the root",
                "ends early",
            ),
            (
                "trailing-bytes",
                vec![0x01, 0x02],
                Type::Number,
                "",
                "1 bytes follow the value",
            ),
            (
                "huge-array-length",
                vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
                Type::list(Type::Number),
                "[1]",
                "ends early",
            ),
            (
                "huge-string-length",
                vec![0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
                Type::String,
                "the root",
                "ends early",
            ),
            (
                "huge-extension-length",
                vec![0xc9, 0xff, 0xff, 0xff, 0xff, 0x00],
                Type::String,
                "the root",
                "ends early",
            ),
            (
                "tuple-length",
                vec![0x91, 0x01],
                Type::Tuple(vec![Type::Number, Type::Number]),
                "the root",
                "expected a tuple of 2 elements, found 1",
            ),
            (
                "duplicate-key",
                vec![0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02],
                Type::map(Type::Number),
                "the root",
                "key \"a\" appears more than once",
            ),
            (
                "invalid-utf8",
                vec![0x91, 0xa2, 0xff, 0xfe],
                Type::list(Type::String),
                "[0]",
                "not valid UTF-8",
            ),
            (
                "integer-key",
                vec![0x81, 0x01, 0x01],
                Type::map(Type::Number),
                "the root",
                "expected a string map key, found integer",
            ),
            (
                "invalid-decimal",
                [&[0xa3][..], b"abc"].concat(),
                Type::Number,
                "the root",
                "\"abc\" is not a number",
            ),
            (
                "nan",
                [&[0xcb][..], &f64::NAN.to_be_bytes()].concat(),
                Type::Number,
                "the root",
                "\"NaN\" is not a number",
            ),
            (
                "reserved-byte",
                vec![0xc1],
                Type::Bool,
                "the root",
                "found reserved byte 0xc1",
            ),
            (
                "string-for-list",
                vec![0xa1, b'a'],
                Type::list(Type::String),
                "the root",
                "expected list of string, found string",
            ),
            (
                "dynamic-not-array",
                vec![0x01],
                Type::Dynamic,
                "the root",
                "expected a [type, value] array, found integer",
            ),
            (
                "dynamic-wrong-length",
                vec![0x91, 0x01],
                Type::Dynamic,
                "the root",
                "found an array of 1 elements",
            ),
            (
                "dynamic-invalid-type",
                [&[0x92, 0xa6][..], b"\"text\"", &[0xc0]].concat(),
                Type::Dynamic,
                "the root",
                "invalid type of dynamic value: unknown type name \"text\"",
            ),
            (
                "deep-nesting",
                nested_dynamic,
                Type::Dynamic,
                "the root",
                "deeper than 128 levels",
            ),
        ];
        for (name, bytes, ty, path, message) in cases {
            let error = decode(&bytes, &ty).expect_err(name);
            let text = error.to_string();
            assert!(text.contains(message), "case {name}: {text}");
            let shown_path = error.path().map(Path::to_string).unwrap_or_default();
            assert_eq!(shown_path, path, "case {name}: {text}");
        }
    }

    #[test]
    fn msgpack_encode_errors() {
        let ty = Type::object([("rules", rule_type())]);
        let with_rules = |rules: Value| Value::object([("rules", rules)]);
        let cases: Vec<(&str, Value, Type, &str, &str)> = vec![
            (
                "attribute-mismatch",
                with_rules(Value::object([("max_age_days", Value::string("90"))])),
                ty.clone(),
                ".rules.max_age_days",
                "expected number, found string",
            ),
            (
                "unexpected-attribute",
                with_rules(Value::object([("owner", Value::string("x"))])),
                ty.clone(),
                ".rules",
                "attribute \"owner\" is not in the object type",
            ),
            (
                "list-for-set",
                Value::List(vec![]),
                Type::set(Type::String),
                "the root",
                "expected set of string, found list",
            ),
            (
                "element-mismatch",
                Value::Set(vec![Value::string("a"), Value::int(1)]),
                Type::set(Type::String),
                "[1]",
                "expected string, found number",
            ),
            (
                "tuple-length",
                Value::Tuple(vec![]),
                Type::Tuple(vec![Type::Bool]),
                "the root",
                "expected a tuple of 1 elements, found 0",
            ),
            (
                "untyped-dynamic",
                Value::string("a"),
                Type::Dynamic,
                "the root",
                "needs a value that carries its type",
            ),
            (
                "wrapped-wrong-type",
                dynamic(Type::Number, Value::int(1)),
                Type::String,
                "the root",
                "expected string, found value with a dynamic type",
            ),
            (
                "nan",
                Value::float(f64::NAN),
                Type::Number,
                "the root",
                "invalid number",
            ),
            (
                "malformed-decimal",
                decimal("1.2.3"),
                Type::Number,
                "the root",
                "1.2.3",
            ),
        ];
        for (name, value, ty, path, message) in cases {
            let error = encode(&value, &ty).expect_err(name);
            let text = error.to_string();
            assert!(text.contains(message), "case {name}: {text}");
            assert_eq!(error.path().to_string(), path, "case {name}: {text}");
        }
    }

    #[test]
    fn msgpack_encode_unwraps_matching_dynamic() {
        let value = dynamic(Type::String, Value::string("a"));
        assert_eq!(encode(&value, &Type::String).unwrap(), vec![0xa1, b'a']);
    }

    /// Feeds random bytes, truncations and mutations of valid encodings into
    /// `decode`, which must not panic. Whatever it accepts must encode and
    /// decode again to an equal value.
    #[test]
    fn msgpack_decode_never_panics() {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let cases = round_trip_cases();
        let types: Vec<Type> = cases.iter().map(|(_, ty, _)| ty.clone()).collect();
        let mut inputs: Vec<(Vec<u8>, usize)> = Vec::new();

        for (index, (_, ty, value)) in cases.iter().enumerate() {
            let bytes = encode(value, ty).unwrap();
            for len in 0..bytes.len().min(300) {
                inputs.push((bytes[..len].to_vec(), index));
            }
            for _ in 0..100 {
                let mut mutated = bytes.clone();
                let at = rng.random_range(0..mutated.len());
                mutated[at] = rng.random();
                inputs.push((mutated, index));
            }
        }
        for _ in 0..5_000 {
            let len = rng.random_range(0..48);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            inputs.push((bytes, rng.random_range(0..types.len())));
        }

        for (bytes, type_index) in inputs {
            let ty = &types[type_index];
            let Ok(value) = decode(&bytes, ty) else {
                continue;
            };
            let encoded = encode(&value, ty)
                .unwrap_or_else(|e| panic!("{bytes:02x?} decoded but did not encode: {e}"));
            let again = decode(&encoded, ty).unwrap();
            assert!(
                value.semantically_equal(&again),
                "{bytes:02x?} changed on re-encoding"
            );
        }
    }
}
