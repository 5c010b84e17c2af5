//! Decoding of msgpack into values of a known type.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use rmp::Marker;

use super::DecodeError;
use super::reader::{ExtensionSize, LenWidth, Reader, extension_size, marker_kind};
use crate::value::{Number, Path, Type, Value};

/// Deepest nesting of collections and dynamic values that decoding accepts.
///
/// Schema types bound the depth of ordinary values, but a dynamic value
/// brings its own type, so hostile input could otherwise nest until the
/// stack overflows. Terraform schemas rarely nest beyond ten levels.
pub const MAX_DEPTH: usize = 128;

/// Maximum length, in characters, of an invalid number quoted in an error message.
const MAX_EXCERPT_CHARS: usize = 60;

pub(super) struct Decoder<'a> {
    reader: Reader<'a>,
}

impl<'a> Decoder<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self {
            reader: Reader::new(bytes),
        }
    }

    pub(super) fn remaining(&self) -> usize {
        self.reader.remaining()
    }

    pub(super) fn value(
        &mut self,
        ty: &Type,
        path: &Path,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep { path: path.clone() });
        }
        let marker = self.next_marker(path)?;
        // Any extension means unknown, whatever the type.
        if let Some(size) = extension_size(marker) {
            self.skip_extension(size, path)?;
            return Ok(Value::Unknown);
        }
        if marker == Marker::Null {
            return Ok(Value::Null);
        }

        match ty {
            Type::Bool => match marker {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                other => Err(mismatch(path, ty, other)),
            },
            Type::Number => self.number(marker, path).map(Value::Number),
            Type::String => match self.text(marker, path)? {
                Some(text) => Ok(Value::String(text)),
                None => Err(mismatch(path, ty, marker)),
            },
            Type::List(element) => self
                .elements(marker, element, ty, path, depth)
                .map(Value::List),
            Type::Set(element) => self
                .elements(marker, element, ty, path, depth)
                .map(Value::Set),
            Type::Tuple(elements) => self.tuple(marker, elements, ty, path, depth),
            Type::Map(element) => self.map(marker, element, ty, path, depth),
            Type::Object { attributes, .. } => self.object(marker, attributes, ty, path, depth),
            Type::Dynamic => self.dynamic(marker, path, depth),
        }
    }

    fn next_marker(&mut self, path: &Path) -> Result<Marker, DecodeError> {
        self.reader.read_marker().ok_or_else(|| truncated(path))
    }

    fn len(&mut self, width: LenWidth, path: &Path) -> Result<usize, DecodeError> {
        self.reader.read_len(width).ok_or_else(|| truncated(path))
    }

    /// Skips the type byte and payload of an extension. Refinements (type
    /// 12) are dropped, because Terraform's object-wire-format.md states that
    /// ignoring them is always safe.
    fn skip_extension(&mut self, size: ExtensionSize, path: &Path) -> Result<(), DecodeError> {
        let payload_len = match size {
            ExtensionSize::Fixed(len) => len,
            ExtensionSize::Prefixed(width) => self.len(width, path)?,
        };
        let type_and_payload = payload_len.saturating_add(1);
        self.reader
            .take(type_and_payload)
            .ok_or_else(|| truncated(path))?;
        Ok(())
    }

    fn number(&mut self, marker: Marker, path: &Path) -> Result<Number, DecodeError> {
        let read = |value: Option<i64>| value.map(Number::Int).ok_or_else(|| truncated(path));
        let number = match marker {
            Marker::FixPos(value) => Number::Int(value.into()),
            Marker::FixNeg(value) => Number::Int(value.into()),
            Marker::U8 => read(self.reader.read_u8().map(i64::from))?,
            Marker::U16 => read(self.reader.read_u16().map(i64::from))?,
            Marker::U32 => read(self.reader.read_u32().map(i64::from))?,
            Marker::U64 => match self.reader.read_u64().ok_or_else(|| truncated(path))? {
                value if value <= i64::MAX as u64 => Number::Int(value as i64),
                value => Number::Uint(value),
            },
            Marker::I8 => read(self.reader.read_i8().map(i64::from))?,
            Marker::I16 => read(self.reader.read_i16().map(i64::from))?,
            Marker::I32 => read(self.reader.read_i32().map(i64::from))?,
            Marker::I64 => read(self.reader.read_i64())?,
            Marker::F32 => float(self.reader.read_f32().map(f64::from), path)?,
            Marker::F64 => float(self.reader.read_f64(), path)?,
            other => match self.text(other, path)? {
                Some(text) => Number::parse(&text).ok_or_else(|| invalid_number(path, &text))?,
                None => return Err(mismatch(path, &Type::Number, other)),
            },
        };
        Ok(number)
    }

    /// Reads a string or binary value as UTF-8 text, or returns `None`
    /// without consuming anything more when the marker is of another kind.
    fn text(&mut self, marker: Marker, path: &Path) -> Result<Option<String>, DecodeError> {
        let len = match marker {
            Marker::FixStr(len) => usize::from(len),
            Marker::Str8 | Marker::Bin8 => self.len(LenWidth::U8, path)?,
            Marker::Str16 | Marker::Bin16 => self.len(LenWidth::U16, path)?,
            Marker::Str32 | Marker::Bin32 => self.len(LenWidth::U32, path)?,
            _ => return Ok(None),
        };
        let bytes = self.reader.take(len).ok_or_else(|| truncated(path))?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some(text.to_owned())),
            Err(_) => Err(DecodeError::InvalidUtf8 { path: path.clone() }),
        }
    }

    /// Reads an array length, or returns `None` when the marker is of another kind.
    fn array_header(&mut self, marker: Marker, path: &Path) -> Result<Option<usize>, DecodeError> {
        match marker {
            Marker::FixArray(len) => Ok(Some(usize::from(len))),
            Marker::Array16 => self.len(LenWidth::U16, path).map(Some),
            Marker::Array32 => self.len(LenWidth::U32, path).map(Some),
            _ => Ok(None),
        }
    }

    fn array_len(&mut self, marker: Marker, ty: &Type, path: &Path) -> Result<usize, DecodeError> {
        self.array_header(marker, path)?
            .ok_or_else(|| mismatch(path, ty, marker))
    }

    fn map_len(&mut self, marker: Marker, ty: &Type, path: &Path) -> Result<usize, DecodeError> {
        match marker {
            Marker::FixMap(len) => Ok(usize::from(len)),
            Marker::Map16 => self.len(LenWidth::U16, path),
            Marker::Map32 => self.len(LenWidth::U32, path),
            other => Err(mismatch(path, ty, other)),
        }
    }

    fn elements(
        &mut self,
        marker: Marker,
        element: &Type,
        ty: &Type,
        path: &Path,
        depth: usize,
    ) -> Result<Vec<Value>, DecodeError> {
        let len = self.array_len(marker, ty, path)?;
        // Every element takes at least one byte, so capping the reservation
        // at the remaining input keeps a hostile length from allocating.
        let mut values = Vec::with_capacity(len.min(self.reader.remaining()));
        for index in 0..len {
            values.push(self.value(element, &path.index(index), depth + 1)?);
        }
        Ok(values)
    }

    fn tuple(
        &mut self,
        marker: Marker,
        elements: &[Type],
        ty: &Type,
        path: &Path,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let len = self.array_len(marker, ty, path)?;
        if len != elements.len() {
            let (expected, found) = (elements.len(), len);
            return Err(DecodeError::TupleLength {
                path: path.clone(),
                expected,
                found,
            });
        }
        let mut values = Vec::with_capacity(len);
        for (index, element) in elements.iter().enumerate() {
            values.push(self.value(element, &path.index(index), depth + 1)?);
        }
        Ok(Value::Tuple(values))
    }

    fn map(
        &mut self,
        marker: Marker,
        element: &Type,
        ty: &Type,
        path: &Path,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let len = self.map_len(marker, ty, path)?;
        let mut entries = BTreeMap::new();
        for _ in 0..len {
            let key = self.key(path)?;
            let value = self.value(element, &path.key(&key), depth + 1)?;
            insert_unique(&mut entries, key, value, path)?;
        }
        Ok(Value::Map(entries))
    }

    /// Decodes an object. Attributes missing on the wire become null.
    fn object(
        &mut self,
        marker: Marker,
        attributes: &BTreeMap<String, Type>,
        ty: &Type,
        path: &Path,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let len = self.map_len(marker, ty, path)?;
        let mut values = BTreeMap::new();
        for _ in 0..len {
            let name = self.key(path)?;
            let Some(attribute_type) = attributes.get(&name) else {
                return Err(DecodeError::UnexpectedAttribute {
                    path: path.clone(),
                    name,
                });
            };
            let value = self.value(attribute_type, &path.attribute(&name), depth + 1)?;
            insert_unique(&mut values, name, value, path)?;
        }
        for name in attributes.keys() {
            values.entry(name.clone()).or_insert(Value::Null);
        }
        Ok(Value::Object(values))
    }

    fn key(&mut self, path: &Path) -> Result<String, DecodeError> {
        let marker = self.next_marker(path)?;
        self.text(marker, path)?
            .ok_or_else(|| DecodeError::InvalidKey {
                path: path.clone(),
                found: marker_kind(marker),
            })
    }

    /// Decodes `[type JSON, value]`, the form of a known or typed value at
    /// a dynamic position.
    fn dynamic(&mut self, marker: Marker, path: &Path, depth: usize) -> Result<Value, DecodeError> {
        let invalid = |found: String| DecodeError::InvalidDynamic {
            path: path.clone(),
            found,
        };
        match self.array_header(marker, path)? {
            Some(2) => {}
            Some(len) => return Err(invalid(format!("an array of {len} elements"))),
            None => return Err(invalid(marker_kind(marker).to_owned())),
        }

        let type_marker = self.next_marker(path)?;
        let Some(type_json) = self.text(type_marker, path)? else {
            return Err(invalid(format!("{} as the type", marker_kind(type_marker))));
        };
        let ty = Type::from_json_bytes(type_json.as_bytes()).map_err(|error| {
            DecodeError::InvalidDynamicType {
                path: path.clone(),
                error,
            }
        })?;
        let value = self.value(&ty, path, depth + 1)?;
        Ok(Value::Dynamic(Box::new(ty), Box::new(value)))
    }
}

fn insert_unique(
    entries: &mut BTreeMap<String, Value>,
    key: String,
    value: Value,
    path: &Path,
) -> Result<(), DecodeError> {
    match entries.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        Entry::Occupied(slot) => Err(DecodeError::DuplicateKey {
            path: path.clone(),
            key: slot.key().clone(),
        }),
    }
}

fn float(value: Option<f64>, path: &Path) -> Result<Number, DecodeError> {
    match value {
        None => Err(truncated(path)),
        Some(value) if value.is_nan() => Err(invalid_number(path, "NaN")),
        Some(value) => Ok(Number::Float(value)),
    }
}

fn truncated(path: &Path) -> DecodeError {
    DecodeError::Truncated { path: path.clone() }
}

fn mismatch(path: &Path, expected: &Type, found: Marker) -> DecodeError {
    DecodeError::TypeMismatch {
        path: path.clone(),
        expected: expected.friendly_name(),
        found: marker_kind(found),
    }
}

fn invalid_number(path: &Path, text: &str) -> DecodeError {
    let mut excerpt: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
    if excerpt.len() < text.len() {
        excerpt.push_str("...");
    }
    DecodeError::InvalidNumber {
        path: path.clone(),
        text: excerpt,
    }
}
