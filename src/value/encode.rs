//! The type-checking walk shared by the msgpack and JSON encoders.
//!
//! The walk checks each value against its type and drives a [`Sink`] that
//! writes one wire format, so both formats accept and reject the same values.

use std::collections::BTreeMap;

use super::{Number, Path, Type, Value};

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("invalid value at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: Path,
        expected: String,
        found: &'static str,
    },
    #[error("invalid value at {path}: attribute {name:?} is not in the object type")]
    UnexpectedAttribute { path: Path, name: String },
    #[error("invalid value at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: Path,
        expected: usize,
        found: usize,
    },
    #[error(
        "invalid value at {path}: a dynamic attribute needs a value that carries its type \
         (Value::Dynamic), found {found}"
    )]
    UntypedDynamic { path: Path, found: &'static str },
    #[error("invalid number at {path}: {text}")]
    InvalidNumber { path: Path, text: String },
    #[error("unknown value at {path} cannot be encoded as JSON")]
    UnknownInJson { path: Path },
    #[error("infinite number at {path} cannot be encoded as JSON")]
    InfiniteInJson { path: Path },
    #[error("value at {path} has {len} elements, more than msgpack can encode")]
    TooLong { path: Path, len: usize },
}

impl EncodeError {
    /// Returns the position of the offending value.
    pub fn path(&self) -> &Path {
        match self {
            EncodeError::TypeMismatch { path, .. }
            | EncodeError::UnexpectedAttribute { path, .. }
            | EncodeError::TupleLength { path, .. }
            | EncodeError::UntypedDynamic { path, .. }
            | EncodeError::InvalidNumber { path, .. }
            | EncodeError::UnknownInJson { path }
            | EncodeError::InfiniteInJson { path }
            | EncodeError::TooLong { path, .. } => path,
        }
    }
}

/// Receives a value's parts in wire order. Containers announce their length
/// first, as msgpack needs, and map and object entries come as key then value.
pub(super) trait Sink {
    fn null(&mut self);
    fn unknown(&mut self, path: &Path) -> Result<(), EncodeError>;
    fn bool(&mut self, value: bool);
    /// Receives a number already normalized by [`Number::normalized`].
    fn number(&mut self, number: &Number, path: &Path) -> Result<(), EncodeError>;
    fn string(&mut self, text: &str);
    fn begin_array(&mut self, len: usize, path: &Path) -> Result<(), EncodeError>;
    fn end_array(&mut self);
    fn begin_map(&mut self, len: usize, path: &Path) -> Result<(), EncodeError>;
    fn key(&mut self, key: &str);
    fn end_map(&mut self);
    /// Starts a value at a dynamic position. The value of `ty` follows.
    fn begin_dynamic(&mut self, ty: &Type);
    fn end_dynamic(&mut self, ty: &Type);
}

/// Writes `value` as a value of type `ty` into `sink`.
pub(super) fn encode_value(
    sink: &mut impl Sink,
    value: &Value,
    ty: &Type,
    path: &Path,
) -> Result<(), EncodeError> {
    match (value, ty) {
        (Value::Null, _) => sink.null(),
        (Value::Unknown, _) => sink.unknown(path)?,
        (Value::Dynamic(inner_type, inner), Type::Dynamic) => {
            sink.begin_dynamic(inner_type);
            encode_value(sink, inner, inner_type, path)?;
            sink.end_dynamic(inner_type);
        }
        // A wrapper whose type matches the position needs no wrapping on the wire.
        (Value::Dynamic(inner_type, inner), _) if **inner_type == *ty => {
            encode_value(sink, inner, ty, path)?
        }
        (_, Type::Dynamic) => {
            return Err(EncodeError::UntypedDynamic {
                path: path.clone(),
                found: value.kind_name(),
            });
        }
        (Value::Bool(value), Type::Bool) => sink.bool(*value),
        (Value::Number(number), Type::Number) => encode_number(sink, number, path)?,
        (Value::String(text), Type::String) => sink.string(text),
        (Value::List(elements), Type::List(element_type))
        | (Value::Set(elements), Type::Set(element_type)) => {
            encode_elements(sink, elements, element_type, path)?
        }
        (Value::Tuple(elements), Type::Tuple(element_types)) => {
            encode_tuple(sink, elements, element_types, path)?
        }
        (Value::Map(entries), Type::Map(element_type)) => {
            encode_map(sink, entries, element_type, path)?
        }
        (Value::Object(values), Type::Object { attributes, .. }) => {
            encode_object(sink, values, attributes, path)?
        }
        _ => return Err(mismatch(value, ty, path)),
    }
    Ok(())
}

fn mismatch(value: &Value, ty: &Type, path: &Path) -> EncodeError {
    EncodeError::TypeMismatch {
        path: path.clone(),
        expected: ty.friendly_name(),
        found: value.kind_name(),
    }
}

fn encode_number(sink: &mut impl Sink, number: &Number, path: &Path) -> Result<(), EncodeError> {
    let Some(normalized) = number.normalized() else {
        return Err(EncodeError::InvalidNumber {
            path: path.clone(),
            text: number.to_string(),
        });
    };
    sink.number(&normalized, path)
}

fn encode_elements(
    sink: &mut impl Sink,
    elements: &[Value],
    element_type: &Type,
    path: &Path,
) -> Result<(), EncodeError> {
    sink.begin_array(elements.len(), path)?;
    for (index, element) in elements.iter().enumerate() {
        encode_value(sink, element, element_type, &path.index(index))?;
    }
    sink.end_array();
    Ok(())
}

fn encode_tuple(
    sink: &mut impl Sink,
    elements: &[Value],
    element_types: &[Type],
    path: &Path,
) -> Result<(), EncodeError> {
    if elements.len() != element_types.len() {
        return Err(EncodeError::TupleLength {
            path: path.clone(),
            expected: element_types.len(),
            found: elements.len(),
        });
    }
    sink.begin_array(elements.len(), path)?;
    for (index, (element, ty)) in elements.iter().zip(element_types).enumerate() {
        encode_value(sink, element, ty, &path.index(index))?;
    }
    sink.end_array();
    Ok(())
}

fn encode_map(
    sink: &mut impl Sink,
    entries: &BTreeMap<String, Value>,
    element_type: &Type,
    path: &Path,
) -> Result<(), EncodeError> {
    sink.begin_map(entries.len(), path)?;
    for (key, value) in entries {
        sink.key(key);
        encode_value(sink, value, element_type, &path.key(key))?;
    }
    sink.end_map();
    Ok(())
}

/// Writes every attribute of the type in name order, and missing ones as null.
fn encode_object(
    sink: &mut impl Sink,
    values: &BTreeMap<String, Value>,
    attributes: &BTreeMap<String, Type>,
    path: &Path,
) -> Result<(), EncodeError> {
    if let Some(name) = values.keys().find(|name| !attributes.contains_key(*name)) {
        return Err(EncodeError::UnexpectedAttribute {
            path: path.clone(),
            name: name.clone(),
        });
    }
    sink.begin_map(attributes.len(), path)?;
    for (name, ty) in attributes {
        sink.key(name);
        let value = values.get(name).unwrap_or(&Value::Null);
        encode_value(sink, value, ty, &path.attribute(name))?;
    }
    sink.end_map();
    Ok(())
}
