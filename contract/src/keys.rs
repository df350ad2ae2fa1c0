//! Keys and signatures as the contract reads them: fixed-size bytes written as lower-case
//! hex. A leaf: every module that names a party or a signature uses it, and it uses none.

use core::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Fixed-size bytes written as lower-case hex: public keys (32) and signatures (64).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexBytes<const N: usize>(pub [u8; N]);

/// An ed25519 public key.
pub type PublicKey = HexBytes<32>;
/// An ed25519 signature.
pub type Signature = HexBytes<64>;

impl<const N: usize> HexBytes<N> {
    /// Parses exactly `N` bytes of hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; N];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(HexBytes(bytes))
    }

    /// Takes exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(HexBytes(bytes.try_into().ok()?))
    }
}

impl<const N: usize> fmt::Display for HexBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl<const N: usize> fmt::Debug for HexBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Hex where people read it (events, views: JSON); the bytes themselves in a binary form
/// (the wallet's state), which reads them back without decoding hex.
impl<const N: usize> Serialize for HexBytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serializer.is_human_readable() {
            true => serializer.serialize_str(&hex::encode(self.0)),
            false => serializer.serialize_bytes(&self.0),
        }
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexBytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            return deserializer.deserialize_bytes(Bytes::<N>);
        }
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        HexBytes::from_hex(&text)
            .ok_or_else(|| de::Error::custom(alloc::format!("expected {N} bytes as lower-case hex, got \"{text}\"")))
    }
}

/// Reads exactly `N` bytes of a binary form.
struct Bytes<const N: usize>;

impl<const N: usize> de::Visitor<'_> for Bytes<N> {
    type Value = HexBytes<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<HexBytes<N>, E> {
        HexBytes::from_slice(bytes).ok_or_else(|| E::invalid_length(bytes.len(), &self))
    }
}
