//! Keys and signing, as a client does them: development keys derived from names (for
//! scenarios and tests only), event signatures and the regulator's approval of terms.

use ed25519_dalek::{Signer, SigningKey};
use prepaid_contract::authorization::{approval_message, closure_message, event_message};
use prepaid_contract::event::Open;
use prepaid_contract::keys::{PublicKey, Signature};
use prepaid_contract::{Event, NativeCrypto};

/// The development key of the actor `name`: its secret is the SHA-256 of
/// `prepaid-dev-key/` followed by the name (SCENARIOS.md). Never for real money.
pub fn dev_key(name: &str) -> SigningKey {
    use sha2::Digest;
    let secret: [u8; 32] = sha2::Sha256::digest(format!("prepaid-dev-key/{name}")).into();
    SigningKey::from_bytes(&secret)
}

/// The public half of `key`, as the contract reads it.
pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey::from_slice(key.verifying_key().as_bytes()).expect("ed25519 public keys are 32 bytes")
}

/// `key`'s signature of `event` on `wallet` under `event_id`.
pub fn sign_event(key: &SigningKey, wallet: &str, event_id: &str, event: &Event) -> Signature {
    let message = event_message(&NativeCrypto, wallet, event_id, event);
    Signature::from_slice(&key.sign(&message).to_bytes()).expect("ed25519 signatures are 64 bytes")
}

/// The regulator `key`'s approval of the terms of `open`.
pub fn approve_terms(key: &SigningKey, open: &Open) -> Signature {
    let message = approval_message(
        &NativeCrypto,
        &open.merchant,
        open.listing.as_ref(),
        &open.product,
        &open.policy,
    );
    Signature::from_slice(&key.sign(&message).to_bytes()).expect("ed25519 signatures are 64 bytes")
}

/// The regulator `key`'s closure of `merchant` from `effective` (seconds since the Unix
/// epoch), which a `merchant_closed` naming that date carries to each of its wallets.
pub fn sign_closure(key: &SigningKey, merchant: &PublicKey, effective: i64) -> Signature {
    let message = closure_message(&NativeCrypto, merchant, effective);
    Signature::from_slice(&key.sign(&message).to_bytes()).expect("ed25519 signatures are 64 bytes")
}

/// A new random signing key, from the operating system's generator.
pub fn generate_key() -> anyhow::Result<SigningKey> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|error| anyhow::anyhow!("the system has no randomness to offer: {error}"))?;
    Ok(SigningKey::from_bytes(&secret))
}

/// Writes `key`'s secret to a new file at `path` (hex, readable by its owner only).
pub fn write_key_file(path: &std::path::Path, key: &SigningKey) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| anyhow::anyhow!("cannot create the key file {}: {error}", path.display()))?;
    writeln!(file, "{}", hex::encode(key.to_bytes()))?;
    Ok(())
}

/// Reads a key file written by [`write_key_file`].
pub fn read_key_file(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("cannot read the key file {}: {error}", path.display()))?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret)
        .map_err(|_| anyhow::anyhow!("{} does not hold a key (64 hex digits)", path.display()))?;
    Ok(SigningKey::from_bytes(&secret))
}
