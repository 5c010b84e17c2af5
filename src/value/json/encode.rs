//! The JSON writer behind [`super::encode`].

use std::fmt::Write;

use crate::value::encode::{EncodeError, Sink};
use crate::value::{Number, Path, Type};

/// Floats in this magnitude range print in plain notation, others in
/// scientific notation, to keep the text short.
const PLAIN_FLOAT_RANGE: std::ops::Range<f64> = 1e-6..1e21;

/// An open array or object. The wrapper of a dynamic value is an object too.
enum Frame {
    Array { has_elements: bool },
    Object { has_members: bool },
}

#[derive(Default)]
pub(super) struct JsonSink {
    pub(super) text: String,
    frames: Vec<Frame>,
}

impl JsonSink {
    /// Writes the comma that separates array elements. Object members get
    /// theirs from [`Self::write_member_name`].
    fn before_value(&mut self) {
        if let Some(Frame::Array { has_elements }) = self.frames.last_mut() {
            if *has_elements {
                self.text.push(',');
            }
            *has_elements = true;
        }
    }

    fn write_member_name(&mut self, name: &str) {
        if let Some(Frame::Object { has_members }) = self.frames.last_mut() {
            if *has_members {
                self.text.push(',');
            }
            *has_members = true;
        }
        write_json_string(&mut self.text, name);
        self.text.push(':');
    }
}

impl Sink for JsonSink {
    fn null(&mut self) {
        self.before_value();
        self.text.push_str("null");
    }

    fn unknown(&mut self, path: &Path) -> Result<(), EncodeError> {
        Err(EncodeError::UnknownInJson { path: path.clone() })
    }

    fn bool(&mut self, value: bool) {
        self.before_value();
        self.text.push_str(if value { "true" } else { "false" });
    }

    fn number(&mut self, number: &Number, path: &Path) -> Result<(), EncodeError> {
        if let Number::Float(value) = number
            && value.is_infinite()
        {
            return Err(EncodeError::InfiniteInJson { path: path.clone() });
        }
        self.before_value();
        match number {
            Number::Float(value) if PLAIN_FLOAT_RANGE.contains(&value.abs()) => {
                let _ = write!(self.text, "{value}");
            }
            Number::Float(value) => {
                let _ = write!(self.text, "{value:e}");
            }
            other => {
                let _ = write!(self.text, "{other}");
            }
        }
        Ok(())
    }

    fn string(&mut self, text: &str) {
        self.before_value();
        write_json_string(&mut self.text, text);
    }

    fn begin_array(&mut self, _len: usize, _path: &Path) -> Result<(), EncodeError> {
        self.before_value();
        self.text.push('[');
        self.frames.push(Frame::Array {
            has_elements: false,
        });
        Ok(())
    }

    fn end_array(&mut self) {
        self.frames.pop();
        self.text.push(']');
    }

    fn begin_map(&mut self, _len: usize, _path: &Path) -> Result<(), EncodeError> {
        self.before_value();
        self.text.push('{');
        self.frames.push(Frame::Object { has_members: false });
        Ok(())
    }

    fn key(&mut self, key: &str) {
        self.write_member_name(key);
    }

    fn end_map(&mut self) {
        self.frames.pop();
        self.text.push('}');
    }

    /// Starts `{"value": ..., "type": ...}`, with the value first as go-cty writes it.
    fn begin_dynamic(&mut self, _ty: &Type) {
        self.before_value();
        self.text.push('{');
        self.frames.push(Frame::Object { has_members: false });
        self.write_member_name("value");
    }

    fn end_dynamic(&mut self, ty: &Type) {
        self.write_member_name("type");
        self.text.push_str(&ty.to_json_value().to_string());
        self.end_map();
    }
}

/// Writes a JSON string literal, escaping quotes, backslashes and control characters.
fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}
