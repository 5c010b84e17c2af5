//! The msgpack writer behind [`super::encode`].

use rmp::encode as write;

use crate::value::encode::{EncodeError, Sink};
use crate::value::{Number, Path, Type};

/// An unknown value: extension type 0 with one zero byte, the compact form
/// go-cty writes for an unknown without refinements.
const UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

/// Writes msgpack into a byte vector.
///
/// rmp reports I/O errors, but writing into a `Vec` cannot fail, so the
/// results of its write calls are discarded.
#[derive(Default)]
pub(super) struct MsgpackSink {
    pub(super) bytes: Vec<u8>,
}

fn length(len: usize, path: &Path) -> Result<u32, EncodeError> {
    u32::try_from(len).map_err(|_| EncodeError::TooLong {
        path: path.clone(),
        len,
    })
}

impl Sink for MsgpackSink {
    fn null(&mut self) {
        let _ = write::write_nil(&mut self.bytes);
    }

    fn unknown(&mut self, _path: &Path) -> Result<(), EncodeError> {
        self.bytes.extend_from_slice(&UNKNOWN);
        Ok(())
    }

    fn bool(&mut self, value: bool) {
        let _ = write::write_bool(&mut self.bytes, value);
    }

    fn number(&mut self, number: &Number, path: &Path) -> Result<(), EncodeError> {
        let _ = match number {
            Number::Int(value) => write::write_sint(&mut self.bytes, *value).map(drop),
            Number::Uint(value) => write::write_uint(&mut self.bytes, *value).map(drop),
            Number::Float(value) => write::write_f64(&mut self.bytes, *value),
            Number::Decimal(text) => {
                length(text.len(), path)?;
                write::write_str(&mut self.bytes, text)
            }
        };
        Ok(())
    }

    fn string(&mut self, text: &str) {
        let _ = write::write_str(&mut self.bytes, text);
    }

    fn begin_array(&mut self, len: usize, path: &Path) -> Result<(), EncodeError> {
        let _ = write::write_array_len(&mut self.bytes, length(len, path)?);
        Ok(())
    }

    fn end_array(&mut self) {}

    fn begin_map(&mut self, len: usize, path: &Path) -> Result<(), EncodeError> {
        let _ = write::write_map_len(&mut self.bytes, length(len, path)?);
        Ok(())
    }

    fn key(&mut self, key: &str) {
        self.string(key);
    }

    fn end_map(&mut self) {}

    /// Starts `[type JSON as binary, value]`, as go-cty writes it.
    fn begin_dynamic(&mut self, ty: &Type) {
        let _ = write::write_array_len(&mut self.bytes, 2);
        let _ = write::write_bin(&mut self.bytes, &ty.to_json_bytes());
    }

    fn end_dynamic(&mut self, _ty: &Type) {}
}
