//! Receipts: the platform's signed word that it journaled one entry.

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::Serialize;

use super::{hash_hex, json_string, note, SignedError};
use crate::journal::Entry;

/// The first line of a receipt's note.
const RECEIPT_ORIGIN: &str = "prepaid-platform/receipt/v1";

/// The platform's signed statement that entry `seq` of `wallet` is the event `event_id`,
/// stamped `at`, with hash `entry_hash`. The note's body, line by line:
///
/// ```text
/// prepaid-platform/receipt/v1
/// wallet "<wallet, as a JSON string>"
/// seq <seq>
/// event "<event id, as a JSON string>"
/// at <RFC 3339 time>
/// entry <entry hash, hex>
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The wallet.
    pub wallet: String,
    /// The entry's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// The time the platform stamped.
    pub at: String,
    /// The entry's hash, which covers the event, its outcome and every entry before it.
    pub entry_hash: String,
    /// The signed note.
    pub note: String,
}

impl Receipt {
    /// `key`'s receipt for `entry`.
    pub fn sign(entry: &Entry, key: &SigningKey) -> Receipt {
        let json = |text: &str| serde_json::to_string(text).expect("strings serialize");
        let body = format!(
            "{RECEIPT_ORIGIN}\nwallet {}\nseq {}\nevent {}\nat {}\nentry {}\n",
            json(&entry.wallet),
            entry.seq,
            json(&entry.event_id),
            entry.at,
            entry.entry_hash
        );
        Receipt {
            wallet: entry.wallet.clone(),
            seq: entry.seq,
            event_id: entry.event_id.clone(),
            at: entry.at.clone(),
            entry_hash: entry.entry_hash.clone(),
            note: note::sign(key, &body),
        }
    }

    /// The receipt a note signed by `key` states.
    pub fn open(text: &str, key: &VerifyingKey) -> Result<Receipt, SignedError> {
        let body = note::open(text, key)?;
        let bad = || SignedError::Malformed(format!("not a receipt: {body:?}"));
        let lines: Vec<&str> = body.lines().collect();
        let [RECEIPT_ORIGIN, wallet, seq, event, at, entry] = lines[..] else {
            return Err(bad());
        };
        let field = |line: &'_ str, name: &str| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .map(str::to_owned)
        };
        let quoted = |line: &str, name: &str| {
            let spaced = format!("{} ", field(line, name)?);
            let (text, rest) = json_string(&spaced)?;
            rest.is_empty().then_some(text)
        };
        let receipt = Receipt {
            wallet: quoted(wallet, "wallet").ok_or_else(bad)?,
            seq: field(seq, "seq").and_then(|seq| seq.parse().ok()).ok_or_else(bad)?,
            event_id: quoted(event, "event").ok_or_else(bad)?,
            at: field(at, "at").ok_or_else(bad)?,
            entry_hash: field(entry, "entry").as_deref().and_then(hash_hex).ok_or_else(bad)?,
            note: text.to_owned(),
        };
        Ok(receipt)
    }

    /// Whether `entry` is exactly the entry this receipt is for: same place, event, time
    /// and hash, and a hash that is the entry's own.
    pub fn matches(&self, entry: &Entry) -> bool {
        (&self.wallet, self.seq, &self.event_id, &self.at, &self.entry_hash)
            == (&entry.wallet, entry.seq, &entry.event_id, &entry.at, &entry.entry_hash)
            && entry.compute_hash() == entry.entry_hash
    }
}
