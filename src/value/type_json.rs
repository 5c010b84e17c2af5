//! The JSON form of cty types, used in schema attributes and dynamic values.
//!
//! This is the form of go-cty's `Type.MarshalJSON`:
//!
//! - primitive types are strings: `"string"`, `"number"`, `"bool"`, `"dynamic"`;
//! - collections are `["list",T]`, `["set",T]` and `["map",T]`;
//! - tuples are `["tuple",[T,...]]`;
//! - objects are `["object",{"name":T,...}]`, with a third element
//!   `["name",...]` that lists the optional attributes when there are any.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::Type;

/// Maximum length, in characters, of offending JSON quoted in an error message.
const MAX_EXCERPT_CHARS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum TypeJsonError {
    #[error("invalid type JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("invalid type {found}: expected a type name or a [kind, argument] array")]
    Invalid { found: String },
    #[error("unknown type name {0:?}: expected string, number, bool or dynamic")]
    UnknownName(String),
    #[error("unknown type kind {0:?}: expected list, set, map, object or tuple")]
    UnknownKind(String),
    #[error("invalid {kind} type {found}: {reason}")]
    Malformed {
        kind: &'static str,
        found: String,
        reason: &'static str,
    },
    #[error("optional attribute {0:?} is not an attribute of the object type")]
    UnknownOptional(String),
}

impl Type {
    /// Serializes the type as compact JSON, such as `["map","string"]`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json_value().to_string().into_bytes()
    }

    /// Parses the JSON form of a type.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeJsonError> {
        let json: Json = serde_json::from_slice(bytes).map_err(TypeJsonError::Syntax)?;
        Type::from_json_value(&json)
    }

    pub fn to_json_value(&self) -> Json {
        let kind = |name: &str, argument: Json| Json::Array(vec![name.into(), argument]);
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Dynamic => "dynamic".into(),
            Type::List(element) => kind("list", element.to_json_value()),
            Type::Set(element) => kind("set", element.to_json_value()),
            Type::Map(element) => kind("map", element.to_json_value()),
            Type::Tuple(elements) => {
                kind("tuple", elements.iter().map(Type::to_json_value).collect())
            }
            Type::Object {
                attributes,
                optional,
            } => object_to_json(attributes, optional),
        }
    }

    pub fn from_json_value(json: &Json) -> Result<Type, TypeJsonError> {
        match json {
            Json::String(name) => primitive_from_name(name),
            Json::Array(items) => match items.first() {
                Some(Json::String(kind)) => complex_from_json(kind, json, &items[1..]),
                _ => Err(TypeJsonError::Invalid {
                    found: excerpt(json),
                }),
            },
            _ => Err(TypeJsonError::Invalid {
                found: excerpt(json),
            }),
        }
    }
}

fn object_to_json(attributes: &BTreeMap<String, Type>, optional: &BTreeSet<String>) -> Json {
    let attributes = (attributes.iter())
        .map(|(name, ty)| (name.clone(), ty.to_json_value()))
        .collect();
    let mut items = vec![Json::from("object"), Json::Object(attributes)];
    if !optional.is_empty() {
        items.push(
            optional
                .iter()
                .map(|name| Json::from(name.as_str()))
                .collect(),
        );
    }
    Json::Array(items)
}

fn primitive_from_name(name: &str) -> Result<Type, TypeJsonError> {
    match name {
        "bool" => Ok(Type::Bool),
        "number" => Ok(Type::Number),
        "string" => Ok(Type::String),
        "dynamic" => Ok(Type::Dynamic),
        _ => Err(TypeJsonError::UnknownName(name.to_owned())),
    }
}

/// Parses `[kind, arguments...]`; `arguments` excludes the kind itself.
fn complex_from_json(kind: &str, whole: &Json, arguments: &[Json]) -> Result<Type, TypeJsonError> {
    let malformed = |kind, reason| TypeJsonError::Malformed {
        kind,
        found: excerpt(whole),
        reason,
    };
    match (kind, arguments) {
        ("list", [element]) => Ok(Type::List(Box::new(Type::from_json_value(element)?))),
        ("set", [element]) => Ok(Type::Set(Box::new(Type::from_json_value(element)?))),
        ("map", [element]) => Ok(Type::Map(Box::new(Type::from_json_value(element)?))),
        ("list" | "set" | "map", _) => {
            Err(malformed("collection", "expected exactly one element type"))
        }
        ("tuple", [Json::Array(elements)]) => {
            let elements = elements.iter().map(Type::from_json_value);
            Ok(Type::Tuple(elements.collect::<Result<_, _>>()?))
        }
        ("tuple", _) => Err(malformed("tuple", "expected one array of element types")),
        ("object", [Json::Object(attributes)]) => object_from_json(attributes, &[], whole),
        ("object", [Json::Object(attributes), Json::Array(optional)]) => {
            object_from_json(attributes, optional, whole)
        }
        ("object", _) => Err(malformed(
            "object",
            "expected an object of attribute types and an optional array of names",
        )),
        _ => Err(TypeJsonError::UnknownKind(kind.to_owned())),
    }
}

fn object_from_json(
    attributes: &serde_json::Map<String, Json>,
    optional: &[Json],
    whole: &Json,
) -> Result<Type, TypeJsonError> {
    let attributes = (attributes.iter())
        .map(|(name, ty)| Ok((name.clone(), Type::from_json_value(ty)?)))
        .collect::<Result<BTreeMap<_, _>, TypeJsonError>>()?;

    let mut optional_names = BTreeSet::new();
    for name in optional {
        let Json::String(name) = name else {
            return Err(TypeJsonError::Malformed {
                kind: "object",
                found: excerpt(whole),
                reason: "optional attribute names must be strings",
            });
        };
        if !attributes.contains_key(name) {
            return Err(TypeJsonError::UnknownOptional(name.clone()));
        }
        optional_names.insert(name.clone());
    }
    Ok(Type::Object {
        attributes,
        optional: optional_names,
    })
}

/// Returns compact JSON text, shortened for messages.
fn excerpt(json: &Json) -> String {
    let text = json.to_string();
    if text.chars().count() <= MAX_EXCERPT_CHARS {
        return text;
    }
    let shortened: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
    format!("{shortened}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_object() -> Type {
        Type::object_with_optional(
            [
                ("name", Type::String),
                ("rules", Type::list(Type::object([("days", Type::Number)]))),
                ("extra", Type::Dynamic),
            ],
            ["extra"],
        )
    }

    #[test]
    fn type_json_round_trip() {
        let cases = [
            ("string", Type::String, r#""string""#),
            ("number", Type::Number, r#""number""#),
            ("bool", Type::Bool, r#""bool""#),
            ("dynamic", Type::Dynamic, r#""dynamic""#),
            ("list", Type::list(Type::String), r#"["list","string"]"#),
            ("set", Type::set(Type::Number), r#"["set","number"]"#),
            ("map", Type::map(Type::Bool), r#"["map","bool"]"#),
            (
                "tuple",
                Type::Tuple(vec![Type::String, Type::list(Type::Number)]),
                r#"["tuple",["string",["list","number"]]]"#,
            ),
            ("empty-tuple", Type::Tuple(vec![]), r#"["tuple",[]]"#),
            (
                "object",
                Type::object([("b", Type::String), ("a", Type::Number)]),
                r#"["object",{"a":"number","b":"string"}]"#,
            ),
            ("empty-object", Type::object([]), r#"["object",{}]"#),
            (
                "object-with-optional",
                nested_object(),
                concat!(
                    r#"["object",{"extra":"dynamic","name":"string","#,
                    r#""rules":["list",["object",{"days":"number"}]]},["extra"]]"#
                ),
            ),
        ];
        for (name, ty, json) in cases {
            assert_eq!(
                String::from_utf8(ty.to_json_bytes()).unwrap(),
                json,
                "case {name}"
            );
            assert_eq!(
                Type::from_json_bytes(json.as_bytes()).unwrap(),
                ty,
                "case {name}"
            );
        }
    }

    #[test]
    fn type_json_accepts_whitespace() {
        let parsed = Type::from_json_bytes(b" [ \"map\" ,\n \"string\" ] ").unwrap();
        assert_eq!(parsed, Type::map(Type::String));
    }

    #[test]
    fn type_json_rejects_malformed() {
        let cases = [
            ("empty", "", "invalid type JSON"),
            ("truncated", r#"["list","#, "invalid type JSON"),
            ("trailing-data", r#""string" "number""#, "invalid type JSON"),
            ("unknown-name", r#""text""#, "unknown type name \"text\""),
            (
                "unknown-kind",
                r#"["array","string"]"#,
                "unknown type kind \"array\"",
            ),
            ("number", "42", "invalid type 42"),
            ("empty-array", "[]", "invalid type []"),
            (
                "kind-not-string",
                r#"[1,"string"]"#,
                "invalid type [1,\"string\"]",
            ),
            (
                "list-without-element",
                r#"["list"]"#,
                "invalid collection type",
            ),
            (
                "list-two-elements",
                r#"["list","string","number"]"#,
                "invalid collection type",
            ),
            (
                "bad-element",
                r#"["set","strng"]"#,
                "unknown type name \"strng\"",
            ),
            (
                "tuple-not-array",
                r#"["tuple","string"]"#,
                "invalid tuple type",
            ),
            (
                "object-not-map",
                r#"["object",["string"]]"#,
                "invalid object type",
            ),
            (
                "optional-not-string",
                r#"["object",{"a":"string"},[1]]"#,
                "optional attribute names must be strings",
            ),
            (
                "optional-unknown",
                r#"["object",{"a":"string"},["b"]]"#,
                "optional attribute \"b\" is not an attribute",
            ),
            (
                "object-four-items",
                r#"["object",{},[],[]]"#,
                "invalid object type",
            ),
        ];
        for (name, json, expected) in cases {
            let error = Type::from_json_bytes(json.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "case {name}: {error}");
        }
    }

    #[test]
    fn type_json_rejects_deep_nesting() {
        let json = format!(
            "{}\"string\"{}",
            "[\"list\",".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(Type::from_json_bytes(json.as_bytes()).is_err());
    }

    #[test]
    fn type_json_excerpt_is_short() {
        let json = format!("[\"list\",{}]", "1,".repeat(200) + "1");
        let error = Type::from_json_bytes(json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.len() < 200, "{error}");
    }
}
