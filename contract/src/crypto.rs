//! The crypto the rules need, behind a small trait: in wasm the host computes it through
//! the `crypto` import; natively (the differential-test oracle, and the host's signer) it
//! is computed in-process with the same algorithms.

/// Ed25519 verification and SHA-256.
pub trait Crypto {
    /// Whether `signature` is `public_key`'s ed25519 signature of `message`.
    fn ed25519_verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool;

    /// The SHA-256 digest of `data`.
    fn sha256(&self, data: &[u8]) -> [u8; 32];
}

/// In-process crypto with ed25519-dalek and sha2.
#[cfg(feature = "native")]
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeCrypto;

#[cfg(feature = "native")]
impl Crypto for NativeCrypto {
    fn ed25519_verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else {
            return false;
        };
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }
}
