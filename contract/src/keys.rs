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

impl<const N: usize> Serialize for HexBytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexBytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        HexBytes::from_hex(&text)
            .ok_or_else(|| de::Error::custom(alloc::format!("expected {N} bytes as lower-case hex, got \"{text}\"")))
    }
}
