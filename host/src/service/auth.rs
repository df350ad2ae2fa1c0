//! API keys and roles. Every endpoint but health, metrics and the OpenAPI description
//! names the roles it admits; a key's role is looked up from the SHA-256 of the key, so
//! the keys themselves are never compared byte by byte.
//!
//! Roles decide who may ask; they never decide what money moves. A release still needs
//! the consumer's signature, checked by the contract, so an operator key cannot forge one.

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
        ] {
            let error = format!("{:#}", ApiKeys::parse(json).unwrap_err());
            assert!(error.contains(why), "{error}");
        }
    }
}
