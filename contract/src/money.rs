//! Money: exact yuan amounts with two decimal places (fen), never floats.
//!
//! Amounts cross every boundary as canonical decimal strings: digits, an optional point
//! and at most two decimals, no sign, no exponent, no leading zeros ("0.50", "2400",
//! "2400.5"). Output always has exactly two places ("2400.50").

use alloc::string::{String, ToString};
use core::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted anywhere: ten billion yuan, far above any prepaid product,
/// and small enough that no product of two amounts can overflow a `Decimal`.
const MAX_YUAN: i64 = 10_000_000_000;

/// The phrase every amount parse error carries, so callers can tell it from other errors.
pub(crate) const NOT_AN_AMOUNT: &str = "is not an amount";

/// A non-negative amount of money in yuan, exact to the fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

/// Why a string is not a canonical amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmountError(String);

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Amount {
    /// Zero yuan.
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// Parses a canonical amount string.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let bad = |why: &str| {
            AmountError(alloc::format!(
                "\"{text}\" {NOT_AN_AMOUNT}: {why}; write yuan with at most two decimals, like \"2400.00\""
            ))
        };
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("only digits may stand before the decimal point"));
        }
        if whole.len() > 1 && whole.starts_with('0') {
            return Err(bad("leading zeros are not allowed"));
        }
        if let Some(fraction) = fraction {
            if fraction.is_empty() || fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("one or two digits must follow the decimal point"));
            }
        }
        if whole.len() > 11 {
            return Err(bad("too large"));
        }
        // Digits checked above, at most 11 before the point and 2 after: the fen fit in a
        // u64. Computed directly rather than by `Decimal`'s general parser, which costs a
        // contract more fuel per amount than the rest of a small event.
        let digits = |text: &str| {
            text.bytes()
                .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'))
        };
        let fraction = fraction.unwrap_or("");
        let fen = digits(whole) * 100 + digits(fraction) * if fraction.len() == 1 { 10 } else { 1 };
        if fen > MAX_YUAN as u64 * 100 {
            return Err(bad("too large"));
        }
        Ok(Amount(Decimal::new(fen as i64, 2)))
    }

    /// `self + other`, or `None` past the largest amount.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        Amount::bounded(self.0.checked_add(other.0)?)
    }

    /// `self - other`, or `None` when the result would be negative.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        let value = self.0.checked_sub(other.0)?;
        (!value.is_sign_negative()).then_some(Amount(value))
    }

    /// `self * count`, or `None` past the largest amount.
    pub fn checked_mul_count(self, count: u64) -> Option<Amount> {
        Amount::bounded(self.0.checked_mul(Decimal::from(count))?)
    }

    /// `self * numerator / denominator`, rounded down to the fen: the merchant's share of
    /// an amount, where the residue of rounding stays with the consumer.
    /// `None` when `denominator` is zero or the result is out of range.
    pub fn share_rounded_down(self, numerator: u64, denominator: u64) -> Option<Amount> {
        if denominator == 0 {
            return None;
        }
        let exact = self
            .0
            .checked_mul(Decimal::from(numerator))?
            .checked_div(Decimal::from(denominator))?;
        Amount::bounded(exact.round_dp_with_strategy(2, RoundingStrategy::ToZero))
    }

    /// Whether this is zero yuan.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The amount in fen, for amounts used as counts of units (stored value's face).
    pub fn fen(self) -> u64 {
        // Amounts are non-negative, whole fen and bounded by MAX_YUAN, so this always fits.
        match self.0.scale() {
            2 => u64::try_from(self.0.mantissa()).unwrap_or(u64::MAX),
            _ => (self.0 * Decimal::ONE_HUNDRED).to_u64().unwrap_or(u64::MAX),
        }
    }

    /// An amount of `fen` fen.
    pub fn from_fen(fen: u64) -> Option<Amount> {
        Amount::bounded(Decimal::from(fen).checked_div(Decimal::ONE_HUNDRED)?)
    }

    fn bounded(value: Decimal) -> Option<Amount> {
        (!value.is_sign_negative() && value <= Decimal::from(MAX_YUAN)).then_some(Amount(value))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written from the fen: `Decimal`'s own formatting costs a contract far more fuel.
        let fen = self.fen();
        write!(f, "{}.{:02}", fen / 100, fen % 100)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Amount::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Amount {
        Amount::parse(text).unwrap()
    }

    #[test]
    fn canonical_forms_parse_and_print_with_two_places() {
        for (text, printed) in [
            ("0", "0.00"),
            ("0.5", "0.50"),
            ("2400", "2400.00"),
            ("2400.05", "2400.05"),
        ] {
            assert_eq!(a(text).to_string(), printed);
        }
    }

    #[test]
    fn non_canonical_forms_are_rejected() {
        for text in [
            "",
            "-1.00",
            "+1",
            "1e3",
            "01.00",
            "1.",
            ".5",
            "1.005",
            "1,00",
            " 1",
            "NaN",
            "99999999999.00",
        ] {
            assert!(Amount::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn shares_round_down_to_the_fen() {
        assert_eq!(a("100.00").share_rounded_down(1, 3), Some(a("33.33")));
        assert_eq!(a("100.00").share_rounded_down(2, 3), Some(a("66.66")));
        assert_eq!(a("100.00").share_rounded_down(3, 3), Some(a("100.00")));
        assert_eq!(a("1.00").share_rounded_down(1, 0), None);
    }

    #[test]
    fn subtraction_never_goes_negative() {
        assert_eq!(a("1.00").checked_sub(a("1.01")), None);
        assert_eq!(a("1.00").checked_sub(a("0.01")), Some(a("0.99")));
    }

    #[test]
    fn fen_round_trips() {
        assert_eq!(a("12.34").fen(), 1234);
        assert_eq!(Amount::from_fen(1234), Some(a("12.34")));
    }
}
