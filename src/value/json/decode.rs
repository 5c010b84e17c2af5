//! Decoding of cty's JSON form into values of a known type.
//!
//! Each level is read as raw JSON text (`serde_json::value::RawValue`) and
//! decoded once its type is known, so numbers keep their exact text and a
//! dynamic value's `"value"` can wait for its `"type"`. Re-reading costs
//! time proportional to depth times size, which is small for resource state.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{DecodeError, MAX_DEPTH};
use crate::value::{Number, Path, Type, Value};

/// Maximum length, in characters, of an invalid number quoted in an error message.
const MAX_EXCERPT_CHARS: usize = 60;

pub(super) struct Options {
    /// Drops object attributes that the type lacks instead of rejecting them.
    pub(super) ignore_unknown_attributes: bool,
}

/// The JSON kinds, identified by the first byte of a raw value.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn of(raw: &RawValue) -> Kind {
        match raw.get().as_bytes().first() {
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            _ => Kind::Number,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// An object's members in input order, keeping repeated keys so that
/// they can be rejected.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = access.next_entry::<String, &'de RawValue>()? {
            members.push(member);
        }
        Ok(Members(members))
    }
}

pub(super) fn decode_raw(
    raw: &RawValue,
    ty: &Type,
    path: &Path,
    depth: usize,
    options: &Options,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::TooDeep { path: path.clone() });
    }
    let kind = Kind::of(raw);
    if kind == Kind::Null {
        return Ok(Value::Null);
    }

    let decoder = Decoder {
        path,
        depth,
        options,
    };
    match (ty, kind) {
        (Type::Dynamic, Kind::Object) => decoder.dynamic(raw),
        (Type::Dynamic, _) => Err(decoder.invalid_dynamic(format!("found {}", kind.name()))),
        (Type::Bool, _) => decoder.bool(raw, kind, ty),
        (Type::Number, _) => decoder.number(raw, kind, ty),
        (Type::String, _) => decoder.string(raw, kind, ty),
        (Type::List(element), Kind::Array) => decoder.elements(raw, element).map(Value::List),
        (Type::Set(element), Kind::Array) => decoder.elements(raw, element).map(Value::Set),
        (Type::Tuple(elements), Kind::Array) => decoder.tuple(raw, elements),
        (Type::Map(element), Kind::Object) => decoder.map(raw, element),
        (Type::Object { attributes, .. }, Kind::Object) => decoder.object(raw, attributes),
        _ => Err(decoder.mismatch(ty, kind)),
    }
}

struct Decoder<'p> {
    path: &'p Path,
    depth: usize,
    options: &'p Options,
}

impl Decoder<'_> {
    fn parse<'a, T: Deserialize<'a>>(&self, raw: &'a RawValue) -> Result<T, DecodeError> {
        serde_json::from_str(raw.get()).map_err(|error| DecodeError::Nested {
            path: self.path.clone(),
            error,
        })
    }

    fn child(&self, raw: &RawValue, ty: &Type, path: &Path) -> Result<Value, DecodeError> {
        decode_raw(raw, ty, path, self.depth + 1, self.options)
    }

    fn mismatch(&self, ty: &Type, kind: Kind) -> DecodeError {
        DecodeError::TypeMismatch {
            path: self.path.clone(),
            expected: ty.friendly_name(),
            found: kind.name(),
        }
    }

    fn invalid_dynamic(&self, problem: String) -> DecodeError {
        DecodeError::InvalidDynamic {
            path: self.path.clone(),
            problem,
        }
    }

    /// Reads a bool. The strings "true" and "false" are accepted too, as in go-cty.
    fn bool(&self, raw: &RawValue, kind: Kind, ty: &Type) -> Result<Value, DecodeError> {
        let text = match kind {
            Kind::Bool => raw.get().to_owned(),
            Kind::String => self.parse::<String>(raw)?,
            _ => return Err(self.mismatch(ty, kind)),
        };
        match text.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(self.mismatch(ty, kind)),
        }
    }

    /// Reads a number from its exact text. Numeric strings are accepted too, as in go-cty.
    fn number(&self, raw: &RawValue, kind: Kind, ty: &Type) -> Result<Value, DecodeError> {
        let text = match kind {
            Kind::Number => raw.get().to_owned(),
            Kind::String => self.parse::<String>(raw)?,
            _ => return Err(self.mismatch(ty, kind)),
        };
        match Number::parse(&text) {
            Some(number) => Ok(Value::Number(number)),
            None => Err(DecodeError::InvalidNumber {
                path: self.path.clone(),
                text: text.chars().take(MAX_EXCERPT_CHARS).collect(),
            }),
        }
    }

    /// Reads a string. Numbers and bools become their JSON text, as in go-cty.
    fn string(&self, raw: &RawValue, kind: Kind, ty: &Type) -> Result<Value, DecodeError> {
        match kind {
            Kind::String => self.parse::<String>(raw).map(Value::String),
            Kind::Number | Kind::Bool => Ok(Value::String(raw.get().to_owned())),
            _ => Err(self.mismatch(ty, kind)),
        }
    }

    fn elements(&self, raw: &RawValue, element: &Type) -> Result<Vec<Value>, DecodeError> {
        let raw_elements: Vec<&RawValue> = self.parse(raw)?;
        let indexed = raw_elements.into_iter().enumerate();
        indexed
            .map(|(index, raw)| self.child(raw, element, &self.path.index(index)))
            .collect()
    }

    fn tuple(&self, raw: &RawValue, elements: &[Type]) -> Result<Value, DecodeError> {
        let raw_elements: Vec<&RawValue> = self.parse(raw)?;
        if raw_elements.len() != elements.len() {
            return Err(DecodeError::TupleLength {
                path: self.path.clone(),
                expected: elements.len(),
                found: raw_elements.len(),
            });
        }
        let pairs = raw_elements.into_iter().zip(elements).enumerate();
        let values = pairs.map(|(index, (raw, ty))| self.child(raw, ty, &self.path.index(index)));
        Ok(Value::Tuple(values.collect::<Result<_, _>>()?))
    }

    fn map(&self, raw: &RawValue, element: &Type) -> Result<Value, DecodeError> {
        let mut entries = BTreeMap::new();
        for (key, raw_value) in self.parse::<Members>(raw)?.0 {
            let value = self.child(raw_value, element, &self.path.key(&key))?;
            self.insert_unique(&mut entries, key, value)?;
        }
        Ok(Value::Map(entries))
    }

    /// Decodes an object. Attributes missing from the input become null.
    fn object(
        &self,
        raw: &RawValue,
        attributes: &BTreeMap<String, Type>,
    ) -> Result<Value, DecodeError> {
        let mut values = BTreeMap::new();
        for (name, raw_value) in self.parse::<Members>(raw)?.0 {
            let Some(attribute_type) = attributes.get(&name) else {
                if self.options.ignore_unknown_attributes {
                    continue;
                }
                return Err(DecodeError::UnexpectedAttribute {
                    path: self.path.clone(),
                    name,
                });
            };
            let value = self.child(raw_value, attribute_type, &self.path.attribute(&name))?;
            self.insert_unique(&mut values, name, value)?;
        }
        for name in attributes.keys() {
            values.entry(name.clone()).or_insert(Value::Null);
        }
        Ok(Value::Object(values))
    }

    /// Decodes `{"value": ..., "type": ...}`, a typed value at a dynamic position.
    fn dynamic(&self, raw: &RawValue) -> Result<Value, DecodeError> {
        let (mut raw_type, mut raw_value) = (None, None);
        for (key, member) in self.parse::<Members>(raw)?.0 {
            let slot = match key.as_str() {
                "type" => &mut raw_type,
                "value" => &mut raw_value,
                _ => return Err(self.invalid_dynamic(format!("found key {key:?}"))),
            };
            if slot.replace(member).is_some() {
                return Err(DecodeError::DuplicateKey {
                    path: self.path.clone(),
                    key,
                });
            }
        }
        let (Some(raw_type), Some(raw_value)) = (raw_type, raw_value) else {
            return Err(self.invalid_dynamic("found an object without both".to_owned()));
        };

        let ty = Type::from_json_bytes(raw_type.get().as_bytes()).map_err(|error| {
            DecodeError::InvalidDynamicType {
                path: self.path.clone(),
                error,
            }
        })?;
        let value = self.child(raw_value, &ty, self.path)?;
        Ok(Value::Dynamic(Box::new(ty), Box::new(value)))
    }

    fn insert_unique(
        &self,
        entries: &mut BTreeMap<String, Value>,
        key: String,
        value: Value,
    ) -> Result<(), DecodeError> {
        match entries.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(value);
                Ok(())
            }
            Entry::Occupied(slot) => {
                let key = slot.key().clone();
                Err(DecodeError::DuplicateKey {
                    path: self.path.clone(),
                    key,
                })
            }
        }
    }
}
