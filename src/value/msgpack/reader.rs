//! A bounds-checked cursor over msgpack bytes.
//!
//! Every read returns `None` instead of panicking when the input ends, and
//! lengths are checked against the remaining input before any slice is taken.

use rmp::Marker;

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn peek_marker(&self) -> Option<Marker> {
        self.bytes.first().map(|byte| Marker::from_u8(*byte))
    }

    pub(super) fn read_marker(&mut self) -> Option<Marker> {
        let marker = self.peek_marker()?;
        self.bytes = &self.bytes[1..];
        Some(marker)
    }

    pub(super) fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(taken)
    }

    fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub(super) fn read_u8(&mut self) -> Option<u8> {
        self.take_array::<1>().map(|bytes| bytes[0])
    }

    pub(super) fn read_u16(&mut self) -> Option<u16> {
        self.take_array().map(u16::from_be_bytes)
    }

    pub(super) fn read_u32(&mut self) -> Option<u32> {
        self.take_array().map(u32::from_be_bytes)
    }

    pub(super) fn read_u64(&mut self) -> Option<u64> {
        self.take_array().map(u64::from_be_bytes)
    }

    pub(super) fn read_i8(&mut self) -> Option<i8> {
        self.take_array().map(i8::from_be_bytes)
    }

    pub(super) fn read_i16(&mut self) -> Option<i16> {
        self.take_array().map(i16::from_be_bytes)
    }

    pub(super) fn read_i32(&mut self) -> Option<i32> {
        self.take_array().map(i32::from_be_bytes)
    }

    pub(super) fn read_i64(&mut self) -> Option<i64> {
        self.take_array().map(i64::from_be_bytes)
    }

    pub(super) fn read_f32(&mut self) -> Option<f32> {
        self.take_array().map(f32::from_be_bytes)
    }

    pub(super) fn read_f64(&mut self) -> Option<f64> {
        self.take_array().map(f64::from_be_bytes)
    }

    /// Reads the 8, 16 or 32-bit length that follows a marker.
    pub(super) fn read_len(&mut self, width: LenWidth) -> Option<usize> {
        let len = match width {
            LenWidth::U8 => u32::from(self.read_u8()?),
            LenWidth::U16 => u32::from(self.read_u16()?),
            LenWidth::U32 => self.read_u32()?,
        };
        usize::try_from(len).ok()
    }
}

#[derive(Clone, Copy)]
pub(super) enum LenWidth {
    U8,
    U16,
    U32,
}

/// Names the msgpack kind of a marker for error messages.
pub(super) fn marker_kind(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_) | Marker::FixNeg(_) => "integer",
        Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => "integer",
        Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => "integer",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1 | Marker::FixExt2 | Marker::FixExt4 | Marker::FixExt8 => "extension",
        Marker::FixExt16 | Marker::Ext8 | Marker::Ext16 | Marker::Ext32 => "extension",
        Marker::Reserved => "reserved byte 0xc1",
    }
}

/// The payload size of an extension value, fixed by its marker or prefixed.
pub(super) enum ExtensionSize {
    Fixed(usize),
    Prefixed(LenWidth),
}

/// Returns the payload size of an extension marker, or `None` for other markers.
pub(super) fn extension_size(marker: Marker) -> Option<ExtensionSize> {
    match marker {
        Marker::FixExt1 => Some(ExtensionSize::Fixed(1)),
        Marker::FixExt2 => Some(ExtensionSize::Fixed(2)),
        Marker::FixExt4 => Some(ExtensionSize::Fixed(4)),
        Marker::FixExt8 => Some(ExtensionSize::Fixed(8)),
        Marker::FixExt16 => Some(ExtensionSize::Fixed(16)),
        Marker::Ext8 => Some(ExtensionSize::Prefixed(LenWidth::U8)),
        Marker::Ext16 => Some(ExtensionSize::Prefixed(LenWidth::U16)),
        Marker::Ext32 => Some(ExtensionSize::Prefixed(LenWidth::U32)),
        _ => None,
    }
}
