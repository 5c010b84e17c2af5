//! Exact parsing, formatting, conversion and comparison of cty numbers.
//!
//! cty numbers are arbitrary-precision decimals. Terraform sends numbers that
//! fit neither `i64` nor `f64` exactly as decimal text (for example `"0.1"`
//! from configuration), so such text is kept as [`Number::Decimal`] in a
//! canonical form instead of being rounded.

use std::fmt;

use super::Number;

/// Maximum number of padding zeros in plain notation. Beyond it the
/// canonical text switches to scientific notation to stay short.
const MAX_PLAIN_ZEROS: i64 = 30;

/// A number read exactly from decimal text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Exact {
    Finite(Decimal),
    Infinite { negative: bool },
}

/// A finite decimal `digits × 10^exponent`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// ASCII digits without leading or trailing zeros, empty for zero.
    digits: String,
    exponent: i64,
}

impl Number {
    /// Parses decimal text such as `42`, `-0.5`, `1e3`, `.5` or `Infinity`.
    ///
    /// Integers that fit `i64` or `u64` become [`Number::Int`] or
    /// [`Number::Uint`], infinities become [`Number::Float`], and everything
    /// else becomes a canonical [`Number::Decimal`] (plain notation without
    /// redundant zeros, valid both as a JSON number and for Terraform's
    /// number parser). Returns `None` for text that is not a number.
    pub fn parse(text: &str) -> Option<Number> {
        match parse_exact(text)? {
            Exact::Infinite { negative: true } => Some(Number::Float(f64::NEG_INFINITY)),
            Exact::Infinite { negative: false } => Some(Number::Float(f64::INFINITY)),
            Exact::Finite(decimal) => Some(decimal.into_number()),
        }
    }

    /// Returns the number as `i64` when it is an integer in range, in any form.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(value) => Some(*value),
            Number::Uint(value) => i64::try_from(*value).ok(),
            Number::Float(value) => float_as_i64(*value),
            Number::Decimal(text) => {
                let integer = finite_decimal(text)?.to_integer()?;
                i64::try_from(integer).ok()
            }
        }
    }

    /// Returns the number as `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Number::Int(value) => u64::try_from(*value).ok(),
            Number::Uint(value) => Some(*value),
            Number::Float(value) => {
                // 2^64 is exactly representable, so the bounds are exact.
                const LIMIT: f64 = 18_446_744_073_709_551_616.0;
                let in_range = (0.0..LIMIT).contains(value);
                (in_range && value.fract() == 0.0).then_some(*value as u64)
            }
            Number::Decimal(text) => {
                let integer = finite_decimal(text)?.to_integer()?;
                u64::try_from(integer).ok()
            }
        }
    }

    /// Returns the nearest `f64`, or `None` for a malformed decimal or NaN.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(value) => Some(*value as f64),
            Number::Uint(value) => Some(*value as f64),
            Number::Float(value) if value.is_nan() => None,
            Number::Float(value) => Some(*value),
            Number::Decimal(text) => {
                finite_decimal(text)?;
                text.parse::<f64>().ok()
            }
        }
    }

    /// Compares numeric values regardless of form, so `Int(1)`, `Uint(1)`,
    /// `Float(1.0)` and `Decimal("1")` are all equal.
    ///
    /// A float compares by its shortest round-trip decimal, so `Float(0.1)`
    /// equals `Decimal("0.1")`, except that an integral float in `i64` range
    /// compares as the exact integer the encoders write for it. NaN and
    /// malformed decimals equal nothing.
    pub fn numeric_eq(&self, other: &Number) -> bool {
        match (self.to_exact(), other.to_exact()) {
            (Some(left), Some(right)) => left == right,
            _ => false,
        }
    }

    /// Returns the number in the form the encoders emit: integers that fit
    /// `i64` as [`Number::Int`], other integers that fit `u64` as
    /// [`Number::Uint`], non-integral finite floats unchanged, and decimals
    /// canonicalized. Returns `None` for NaN and malformed decimals.
    pub(crate) fn normalized(&self) -> Option<Number> {
        match self {
            Number::Int(_) | Number::Uint(_) => Some(self.clone()),
            Number::Float(value) if value.is_nan() => None,
            Number::Float(value) => Some(match float_as_i64(*value) {
                Some(integer) => Number::Int(integer),
                None => Number::Float(*value),
            }),
            Number::Decimal(text) => Number::parse(text),
        }
    }

    fn to_exact(&self) -> Option<Exact> {
        match self {
            Number::Int(value) => parse_exact(&value.to_string()),
            Number::Uint(value) => parse_exact(&value.to_string()),
            Number::Float(value) if value.is_nan() => None,
            Number::Float(value) if value.is_infinite() => Some(Exact::Infinite {
                negative: value.is_sign_negative(),
            }),
            // Integral floats in i64 range are written as integers, so they
            // compare exactly. `{:e}` prints the shortest digits that
            // round-trip to the same f64.
            Number::Float(value) => match float_as_i64(*value) {
                Some(integer) => parse_exact(&integer.to_string()),
                None => parse_exact(&format!("{value:e}")),
            },
            Number::Decimal(text) => parse_exact(text),
        }
    }
}

impl fmt::Display for Number {
    /// Writes decimal text. A float prints the shortest digits that
    /// round-trip to it, in plain notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(value) => write!(f, "{value}"),
            Number::Uint(value) => write!(f, "{value}"),
            Number::Float(value) => write!(f, "{value}"),
            Number::Decimal(text) => f.write_str(text),
        }
    }
}

/// Returns the float as `i64` when it is integral and in range.
fn float_as_i64(value: f64) -> Option<i64> {
    // 2^63 is exactly representable, so the bounds are exact.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let in_range = (-LIMIT..LIMIT).contains(&value);
    (in_range && value.fract() == 0.0).then_some(value as i64)
}

fn finite_decimal(text: &str) -> Option<Decimal> {
    match parse_exact(text)? {
        Exact::Finite(decimal) => Some(decimal),
        Exact::Infinite { .. } => None,
    }
}

/// Parses `[+-]` then digits with an optional `.` and optional `e` exponent,
/// or a signed `inf`/`infinity` in any case.
fn parse_exact(text: &str) -> Option<Exact> {
    let (negative, unsigned) = split_sign(text);
    let is_infinity =
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity");
    if is_infinity {
        return Some(Exact::Infinite { negative });
    }

    let (mantissa, exponent_text) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (integer_part, fraction_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let has_digits = !integer_part.is_empty() || !fraction_part.is_empty();
    if !has_digits || !is_digits(integer_part) || !is_digits(fraction_part) {
        return None;
    }

    let exponent = match exponent_text {
        Some(text) => parse_exponent(text)?,
        None => 0,
    };
    let fraction_len = i64::try_from(fraction_part.len()).ok()?;
    let exponent = exponent.checked_sub(fraction_len)?;
    let digits = format!("{integer_part}{fraction_part}");
    Decimal::from_parts(negative, &digits, exponent).map(Exact::Finite)
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else {
        (false, text.strip_prefix('+').unwrap_or(text))
    }
}

fn is_digits(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = split_sign(text);
    if digits.is_empty() || !is_digits(digits) {
        return None;
    }
    let magnitude = digits.parse::<i64>().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

impl Decimal {
    /// Builds a decimal from raw digits, stripping redundant zeros.
    fn from_parts(negative: bool, digits: &str, exponent: i64) -> Option<Decimal> {
        let significant = digits.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            let zero = Decimal {
                negative: false,
                digits: String::new(),
                exponent: 0,
            };
            return Some(zero);
        }
        let trailing_zeros = i64::try_from(significant.len() - trimmed.len()).ok()?;
        Some(Decimal {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent.checked_add(trailing_zeros)?,
        })
    }

    /// Returns the value as an integer when it is one and fits `i128`.
    fn to_integer(&self) -> Option<i128> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if self.exponent < 0 {
            return None;
        }
        // i128 has at most 39 digits, so longer text cannot fit.
        let zeros = usize::try_from(self.exponent)
            .ok()
            .filter(|zeros| *zeros <= 39)?;
        let sign = if self.negative { "-" } else { "" };
        format!("{sign}{}{}", self.digits, "0".repeat(zeros))
            .parse()
            .ok()
    }

    fn into_number(self) -> Number {
        if let Some(integer) = self.to_integer() {
            if let Ok(value) = i64::try_from(integer) {
                return Number::Int(value);
            }
            if let Ok(value) = u64::try_from(integer) {
                return Number::Uint(value);
            }
        }
        Number::Decimal(self.to_text())
    }

    /// Formats the canonical text: plain notation when it needs at most
    /// [`MAX_PLAIN_ZEROS`] padding zeros, scientific notation otherwise.
    fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let sign = if self.negative { "-" } else { "" };
        let digits = self.digits.as_str();
        let len = digits.len() as i64;
        // Digits before the decimal point. Zero or negative means "0.000ddd".
        let point = len + self.exponent;

        if (0..=MAX_PLAIN_ZEROS).contains(&self.exponent) {
            let zeros = "0".repeat(self.exponent as usize);
            format!("{sign}{digits}{zeros}")
        } else if self.exponent < 0 && point > 0 {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{sign}{whole}.{fraction}")
        } else if self.exponent < 0 && -point <= MAX_PLAIN_ZEROS {
            let zeros = "0".repeat((-point) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            format!("{sign}{first}{dot}{rest}e{}", point - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Number {
        Number::Decimal(text.to_owned())
    }

    #[test]
    fn number_parse() {
        let cases = [
            ("zero", "0", Some(Number::Int(0))),
            ("negative-zero", "-0.0", Some(Number::Int(0))),
            ("plus-sign", "+7", Some(Number::Int(7))),
            ("exponent", "1e3", Some(Number::Int(1000))),
            ("fraction-to-integer", "2.50e1", Some(Number::Int(25))),
            (
                "i64-min",
                "-9223372036854775808",
                Some(Number::Int(i64::MIN)),
            ),
            (
                "u64-max",
                "18446744073709551615",
                Some(Number::Uint(u64::MAX)),
            ),
            (
                "beyond-u64",
                "18446744073709551616",
                Some(decimal("18446744073709551616")),
            ),
            ("tenth", "0.1", Some(decimal("0.1"))),
            ("leading-dot", ".5", Some(decimal("0.5"))),
            ("trailing-dot", "5.", Some(Number::Int(5))),
            ("redundant-zeros", "0012.3400", Some(decimal("12.34"))),
            ("small", "1.5e-7", Some(decimal("0.00000015"))),
            ("huge", "1e100", Some(decimal("1e100"))),
            ("tiny", "-12e-100", Some(decimal("-1.2e-99"))),
            (
                "infinity",
                "-Infinity",
                Some(Number::Float(f64::NEG_INFINITY)),
            ),
            ("inf", "inf", Some(Number::Float(f64::INFINITY))),
            ("empty", "", None),
            ("sign-only", "-", None),
            ("dot-only", ".", None),
            ("letters", "12a", None),
            ("empty-exponent", "1e", None),
            ("overflowing-exponent", "1e99999999999999999999", None),
            ("nan", "NaN", None),
            ("inner-space", "1 2", None),
            ("hex", "0x10", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(Number::parse(text), expected, "case {name}");
        }
    }

    #[test]
    fn canonical_decimal_is_json() {
        for text in [
            "0.1",
            "1e100",
            "-1.2e-99",
            "0.00000015",
            "123456789012345678901234567890.5",
        ] {
            let Some(Number::Decimal(canonical)) = Number::parse(text) else {
                panic!("{text} did not parse as a decimal");
            };
            let reparsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
            assert!(reparsed.is_number(), "{canonical} is not a JSON number");
            assert_eq!(
                Number::parse(&canonical),
                Some(decimal(&canonical)),
                "{text}"
            );
        }
    }

    #[test]
    fn number_as_i64() {
        let cases = [
            ("int", Number::Int(-3), Some(-3)),
            ("small-uint", Number::Uint(3), Some(3)),
            ("large-uint", Number::Uint(u64::MAX), None),
            ("integral-float", Number::Float(4.0), Some(4)),
            ("fractional-float", Number::Float(4.5), None),
            (
                "float-at-2-63",
                Number::Float(9_223_372_036_854_775_808.0),
                None,
            ),
            ("infinite-float", Number::Float(f64::INFINITY), None),
            ("integral-decimal", decimal("1e3"), Some(1000)),
            ("fractional-decimal", decimal("0.1"), None),
            ("malformed-decimal", decimal("one"), None),
        ];
        for (name, number, expected) in cases {
            assert_eq!(number.as_i64(), expected, "case {name}");
        }
    }

    #[test]
    fn number_as_f64() {
        let cases = [
            ("int", Number::Int(-3), Some(-3.0)),
            ("uint", Number::Uint(u64::MAX), Some(u64::MAX as f64)),
            ("float", Number::Float(0.25), Some(0.25)),
            ("nan", Number::Float(f64::NAN), None),
            ("decimal", decimal("0.1"), Some(0.1)),
            ("malformed-decimal", decimal("0x1"), None),
        ];
        for (name, number, expected) in cases {
            assert_eq!(number.as_f64(), expected, "case {name}");
        }
    }

    #[test]
    fn number_numeric_eq() {
        let cases = [
            ("int-uint", Number::Int(1), Number::Uint(1), true),
            ("int-float", Number::Int(1), Number::Float(1.0), true),
            ("int-decimal", Number::Int(1), decimal("1"), true),
            (
                "float-decimal-tenth",
                Number::Float(0.1),
                decimal("0.1"),
                true,
            ),
            ("decimal-forms", decimal("1.50"), decimal("15e-1"), true),
            ("zero-signs", Number::Float(-0.0), Number::Int(0), true),
            (
                "infinities",
                Number::Float(f64::INFINITY),
                decimal("Infinity"),
                true,
            ),
            ("different", Number::Int(1), Number::Int(2), false),
            (
                "opposite-infinities",
                Number::Float(f64::INFINITY),
                decimal("-inf"),
                false,
            ),
            (
                "nan",
                Number::Float(f64::NAN),
                Number::Float(f64::NAN),
                false,
            ),
            (
                "big-decimals",
                decimal("1e100"),
                decimal("1.0000000000000001e100"),
                false,
            ),
        ];
        for (name, left, right, expected) in cases {
            assert_eq!(left.numeric_eq(&right), expected, "case {name}");
            assert_eq!(right.numeric_eq(&left), expected, "case {name} reversed");
        }
    }

    #[test]
    fn number_normalized() {
        let cases = [
            ("integral-float", Number::Float(3.0), Some(Number::Int(3))),
            (
                "fractional-float",
                Number::Float(0.5),
                Some(Number::Float(0.5)),
            ),
            (
                "huge-float",
                Number::Float(1e100),
                Some(Number::Float(1e100)),
            ),
            ("integral-decimal", decimal("12.0"), Some(Number::Int(12))),
            ("nan", Number::Float(f64::NAN), None),
            ("malformed-decimal", decimal("1..2"), None),
        ];
        for (name, number, expected) in cases {
            assert_eq!(number.normalized(), expected, "case {name}");
        }
    }
}
