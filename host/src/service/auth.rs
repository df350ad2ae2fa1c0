//! API keys and roles. Every endpoint but health, metrics and the OpenAPI description
//! names the roles it admits; a key's role is looked up from the SHA-256 of the key, so
//! the keys themselves are never compared byte by byte.
//!
//! Roles decide who may ask; they never decide what money moves. A release still needs
//! the consumer's signature, checked by the contract, so an operator key cannot forge one.
//!
//! A consumer has no API key and no password: the wallet key itself is the credential.
//! [`ConsumerAccess`] hands out a challenge the platform signed, takes it back signed by
//! the consumer's key, and answers with a short-lived token the platform signed, which
//! names that key and nothing else. Both are checked by signature alone, so any host
//! holding the platform key accepts them, and nothing is stored.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::outcome::sha256_hex;

/// Who holds a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The platform: opens wallets, submits events, runs the payment adapter (outbox).
    Operator,
    /// A merchant: submits its events and reads its own wallets.
    Merchant,
    /// The supervising regulator: submits its events (resolutions), reads everything.
    Regulator,
    /// An auditor: reads and verifies, nothing else.
    Auditor,
    /// A consumer, by a token for the wallet key ([`ConsumerAccess`]): reads their own
    /// wallets and submits their own signed events. No keys file lists one.
    Consumer,
}

/// One key as the keys file lists it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    /// The secret the client sends as `Authorization: Bearer <key>`.
    key: String,
    role: Role,
    /// A name for logs.
    name: String,
    /// For a merchant: its public key (hex), the one its wallets name.
    #[serde(default)]
    merchant: Option<String>,
}

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The key's role.
    pub role: Role,
    /// The key's name.
    pub name: String,
    /// A merchant's public key.
    pub merchant: Option<String>,
    /// A consumer's public key (hex, lower case), the one their token names.
    pub consumer: Option<String>,
}

/// The keys a service accepts.
#[derive(Clone, Debug, Default)]
pub struct ApiKeys {
    by_hash: HashMap<String, Caller>,
}

/// The shortest key accepted: anything shorter is guessable.
const MIN_KEY_LEN: usize = 16;

impl ApiKeys {
    /// Reads a keys file: a JSON list of `{"key", "role", "name", "merchant"?}`.
    pub fn load(path: &Path) -> Result<ApiKeys> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the keys file {}", path.display()))?;
        ApiKeys::parse(&text).with_context(|| format!("in the keys file {}", path.display()))
    }

    /// Parses the keys file's JSON.
    pub fn parse(json: &str) -> Result<ApiKeys> {
        let entries: Vec<KeyEntry> = serde_json::from_str(json).context("expected a JSON list of keys")?;
        let mut keys = ApiKeys::default();
        for entry in entries {
            if entry.role == Role::Consumer {
                bail!(
                    "{}: a consumer has no API key; consumers sign in with their wallet key",
                    entry.name
                );
            }
            if entry.key.len() < MIN_KEY_LEN {
                bail!("the key of {} is shorter than {MIN_KEY_LEN} characters", entry.name);
            }
            if (entry.role == Role::Merchant) != entry.merchant.is_some() {
                bail!(
                    "{}: a merchant key names its merchant's public key, and only a merchant key does",
                    entry.name
                );
            }
            let merchant = match entry.merchant {
                Some(key) if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some(key.to_ascii_lowercase())
                }
                Some(key) => bail!("{}: a merchant's public key is 64 hex digits, got {key:?}", entry.name),
                None => None,
            };
            let caller = Caller {
                role: entry.role,
                name: entry.name,
                merchant,
                consumer: None,
            };
            if keys.by_hash.insert(sha256_hex(entry.key.as_bytes()), caller).is_some() {
                bail!("a key is listed twice");
            }
        }
        Ok(keys)
    }

    /// The caller a key belongs to.
    pub fn caller(&self, key: &str) -> Option<&Caller> {
        self.by_hash.get(&sha256_hex(key.as_bytes()))
    }
}

/// How long a challenge may be answered, in seconds.
pub const CHALLENGE_SECONDS: i64 = 120;
/// How long a consumer's token lasts, in seconds: a stolen one is worth a quarter hour.
pub const TOKEN_SECONDS: i64 = 900;
/// What every consumer token starts with, so that it is never taken for an API key.
pub const TOKEN_PREFIX: &str = "ct1.";

/// Why a consumer could not sign in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The challenge is not one this platform issued, or is malformed.
    #[error("the challenge is not one this platform issued; ask for a new one")]
    ForeignChallenge,
    /// The challenge is past its time.
    #[error("the challenge has expired; ask for a new one and answer within {CHALLENGE_SECONDS} seconds")]
    ExpiredChallenge,
    /// The signature is not the challenge's consumer key's.
    #[error(
        "the signature is not the challenge's key's signature of `prepaid-login/v1`, a line feed and the challenge"
    )]
    BadSignature,
    /// A key that is not 64 hex digits.
    #[error("a consumer's key is 64 hex digits")]
    BadKey,
}

/// Consumers' sign-in: challenges and tokens signed by the platform's key.
#[derive(Clone)]
pub struct ConsumerAccess {
    key: std::sync::Arc<ed25519_dalek::SigningKey>,
}

impl ConsumerAccess {
    /// Sign-in for the platform whose key is `key`.
    pub fn new(key: std::sync::Arc<ed25519_dalek::SigningKey>) -> ConsumerAccess {
        ConsumerAccess { key }
    }

    /// A challenge for `consumer` (hex) at `now`: `<key>.<expires>.<nonce>.<platform's
    /// signature>`. The consumer signs `prepaid-login/v1`, a line feed and this text.
    pub fn challenge(&self, consumer: &str, now: i64) -> Result<String, AccessError> {
        let consumer = parse_key(consumer)?;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).expect("the system has randomness to offer");
        let body = format!(
            "{}.{}.{}",
            hex::encode(consumer.as_bytes()),
            now.saturating_add(CHALLENGE_SECONDS),
            hex::encode(nonce)
        );
        Ok(format!("{body}.{}", self.sign("prepaid-challenge/v1", &body)))
    }

    /// The token for an answered challenge: `signature` (hex) must be the challenge's key's
    /// signature of the login message, before the challenge expires. Returns the token and
    /// when it expires.
    pub fn token(&self, challenge: &str, signature: &str, now: i64) -> Result<(String, i64), AccessError> {
        let (body, mac) = challenge.rsplit_once('.').ok_or(AccessError::ForeignChallenge)?;
        if !self.signed("prepaid-challenge/v1", body, mac) {
            return Err(AccessError::ForeignChallenge);
        }
        let mut parts = body.split('.');
        let (Some(consumer), Some(expires)) = (parts.next(), parts.next()) else {
            return Err(AccessError::ForeignChallenge);
        };
        let expires: i64 = expires.parse().map_err(|_| AccessError::ForeignChallenge)?;
        if now > expires {
            return Err(AccessError::ExpiredChallenge);
        }
        let key = parse_key(consumer)?;
        let signature = hex::decode(signature)
            .ok()
            .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
            .ok_or(AccessError::BadSignature)?;
        let message = format!("prepaid-login/v1\n{challenge}");
        key.verify_strict(message.as_bytes(), &signature)
            .map_err(|_| AccessError::BadSignature)?;
        let expires = now.saturating_add(TOKEN_SECONDS);
        let body = format!("{consumer}.{expires}");
        Ok((
            format!("{TOKEN_PREFIX}{body}.{}", self.sign("prepaid-consumer-token/v1", &body)),
            expires,
        ))
    }

    /// The consumer a token names, if this platform signed it and it has not expired.
    pub fn caller(&self, token: &str, now: i64) -> Option<Caller> {
        let (body, mac) = token.strip_prefix(TOKEN_PREFIX)?.rsplit_once('.')?;
        if !self.signed("prepaid-consumer-token/v1", body, mac) {
            return None;
        }
        let (consumer, expires) = body.split_once('.')?;
        if now > expires.parse::<i64>().ok()? {
            return None;
        }
        Some(Caller {
            role: Role::Consumer,
            name: format!("consumer {}", &consumer[..8]),
            merchant: None,
            consumer: Some(consumer.to_owned()),
        })
    }

    /// The platform's signature (hex) of `domain`, a line feed and `body`.
    fn sign(&self, domain: &str, body: &str) -> String {
        use ed25519_dalek::Signer as _;
        hex::encode(self.key.sign(format!("{domain}\n{body}").as_bytes()).to_bytes())
    }

    /// Whether `mac` is the platform's signature of `domain`, a line feed and `body`.
    fn signed(&self, domain: &str, body: &str, mac: &str) -> bool {
        hex::decode(mac)
            .ok()
            .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
            .is_some_and(|signature| {
                self.key
                    .verifying_key()
                    .verify_strict(format!("{domain}\n{body}").as_bytes(), &signature)
                    .is_ok()
            })
    }
}

/// A consumer's key from 64 hex digits (lower case only, as keys are written everywhere).
fn parse_key(hex_key: &str) -> Result<ed25519_dalek::VerifyingKey, AccessError> {
    if hex_key.len() != 64 || !hex_key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(AccessError::BadKey);
    }
    let bytes: [u8; 32] = hex::decode(hex_key)
        .map_err(|_| AccessError::BadKey)?
        .try_into()
        .map_err(|_| AccessError::BadKey)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| AccessError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_file_is_checked_before_any_key_is_accepted() {
        let merchant = "AB".repeat(32);
        let keys = ApiKeys::parse(&format!(
            r#"[{{"key": "operator-key-0123456789", "role": "operator", "name": "platform"}},
                {{"key": "merchant-key-0123456789", "role": "merchant", "name": "gym", "merchant": "{merchant}"}}]"#
        ))
        .unwrap();
        assert_eq!(keys.caller("operator-key-0123456789").unwrap().role, Role::Operator);
        let gym = keys.caller("merchant-key-0123456789").unwrap();
        assert_eq!(gym.merchant.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(keys.caller("merchant-key-012345678").is_none());

        for (json, why) in [
            (r#"[{"key": "short", "role": "operator", "name": "a"}]"#, "shorter"),
            (
                r#"[{"key": "merchant-key-0123456789", "role": "merchant", "name": "m"}]"#,
                "names its merchant",
            ),
            (
                r#"[{"key": "operator-key-0123456789", "role": "operator", "name": "o", "merchant": "00"}]"#,
                "only a merchant key",
            ),
            (
                r#"[{"key": "merchant-key-0123456789", "role": "merchant", "name": "m", "merchant": "xyz"}]"#,
                "64 hex digits",
            ),
            (
                r#"[{"key": "operator-key-0123456789", "role": "operator", "name": "a"},
                    {"key": "operator-key-0123456789", "role": "auditor", "name": "b"}]"#,
                "twice",
            ),
            (
                r#"[{"key": "operator-key-0123456789", "role": "root", "name": "a"}]"#,
                "list of keys",
            ),
            (
                r#"[{"key": "consumer-key-0123456789", "role": "consumer", "name": "c"}]"#,
                "no API key",
            ),
        ] {
            let error = format!("{:#}", ApiKeys::parse(json).unwrap_err());
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn a_consumer_signs_in_with_the_wallet_key_and_nothing_else() {
        use ed25519_dalek::Signer as _;
        let platform = ConsumerAccess::new(std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[7; 32])));
        let other_platform = ConsumerAccess::new(std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[8; 32])));
        let wallet_key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let consumer = hex::encode(wallet_key.verifying_key().as_bytes());
        let now = 1_800_000_000;
        let challenge = platform.challenge(&consumer, now).unwrap();
        let answer = |key: &ed25519_dalek::SigningKey, challenge: &str| {
            hex::encode(key.sign(format!("prepaid-login/v1\n{challenge}").as_bytes()).to_bytes())
        };

        let (token, expires) = platform
            .token(&challenge, &answer(&wallet_key, &challenge), now + 5)
            .unwrap();
        assert_eq!(expires, now + 5 + TOKEN_SECONDS);
        let caller = platform.caller(&token, now + 10).unwrap();
        assert_eq!(
            (caller.role, caller.consumer.as_deref()),
            (Role::Consumer, Some(consumer.as_str()))
        );
        assert!(platform.caller(&token, expires + 1).is_none(), "an expired token");
        assert!(other_platform.caller(&token, now).is_none(), "another platform's token");
        let forged = token.replacen(&consumer[..2], "ff", 1);
        assert!(platform.caller(&forged, now).is_none(), "a token naming another key");

        let thief = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        assert_eq!(
            platform.token(&challenge, &answer(&thief, &challenge), now),
            Err(AccessError::BadSignature)
        );
        assert_eq!(
            platform.token(
                &challenge,
                &answer(&wallet_key, &challenge),
                now + CHALLENGE_SECONDS + 1
            ),
            Err(AccessError::ExpiredChallenge)
        );
        let foreign = other_platform.challenge(&consumer, now).unwrap();
        assert_eq!(
            platform.token(&foreign, &answer(&wallet_key, &foreign), now),
            Err(AccessError::ForeignChallenge)
        );
        // A challenge issued for the thief's key cannot become a token for the wallet key.
        let thiefs = platform
            .challenge(&hex::encode(thief.verifying_key().as_bytes()), now)
            .unwrap();
        let renamed = thiefs.replacen(&hex::encode(thief.verifying_key().as_bytes()), &consumer, 1);
        assert_eq!(
            platform.token(&renamed, &answer(&wallet_key, &renamed), now),
            Err(AccessError::ForeignChallenge)
        );
        assert_eq!(platform.challenge("00", now), Err(AccessError::BadKey));
    }
}
