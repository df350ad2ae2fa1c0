//! The journal's rows, at the bottom of the host: a wallet's entries chained by hash, its
//! head, the effects its entries put in the outbox and the payment rail's acknowledgements
//! of them, each chained per wallet. Every store keeps these rows (see
//! [`crate::store::Store`]); the layers above read and check them.

use serde::Serialize;

use crate::outcome::sha256_hex;

/// The `prev_hash` of a wallet's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One journal entry: an event and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The wallet.
    pub wallet: String,
    /// The entry's position in the wallet's journal, from 1.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// The event as received (raw event JSON).
    pub event: String,
    /// The platform's timestamp (RFC 3339).
    pub at: String,
    /// The code hash of the component that ran it.
    pub code_hash: String,
    /// The verdict (JSON: ok, error, effects).
    pub outcome: String,
    /// Fuel used.
    pub fuel: u64,
    /// The version of the execution limits (fuel, memory, output) it ran under.
    pub limits: u32,
    /// The hash of the wallet's state after the event.
    pub state_hash: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// The hash of all of the above.
    pub entry_hash: String,
}

impl Entry {
    /// The hash of every field but `entry_hash` itself, chaining to `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let fields = (
            &self.wallet,
            self.seq,
            &self.event_id,
            &self.event,
            &self.at,
            &self.code_hash,
            &self.outcome,
            self.fuel,
            self.limits,
            &self.state_hash,
            &self.prev_hash,
        );
        sha256_hex(&serde_json::to_vec(&fields).expect("entries always serialize"))
    }

    /// The entry as a JSON document for readers: `event` and `outcome` as JSON objects
    /// rather than the strings the journal stores (a stored string that is not JSON, as
    /// only a damaged journal has, stays a string). Not for checking `entry_hash`, which
    /// covers the stored text exactly: verify a bundle for that.
    pub fn document(&self) -> serde_json::Value {
        let mut document = serde_json::to_value(self).expect("entries always serialize");
        for (field, text) in [("event", &self.event), ("outcome", &self.outcome)] {
            if let Ok(parsed) = serde_json::from_str::<serde_json::Value>(text) {
                document[field] = parsed;
            }
        }
        document
    }

    /// The stable id of the entry's `index`-th effect in the outbox.
    pub fn effect_id(&self, index: usize) -> String {
        format!("{}:{}:{index}", self.wallet, self.seq)
    }
}

/// A wallet's current head: its pinned code, latest state and latest entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletHead {
    /// The wallet.
    pub wallet: String,
    /// The code hash the wallet was opened with, which it runs forever.
    pub code_hash: String,
    /// The seq of its latest entry.
    pub seq: u64,
    /// Its state (none until an `open` is accepted).
    pub state: Option<Vec<u8>>,
    /// The hash of its state.
    pub state_hash: String,
    /// The hash of its latest entry.
    pub head_hash: String,
    /// When its rules next need the platform's clock (see [`crate::store::Store::due_wallets`]).
    pub next_due: Option<i64>,
    /// How many of its effects the payment rail has acknowledged.
    pub acks: u64,
    /// The hash of its latest [`AckRecord`] ([`GENESIS_HASH`] before the first).
    pub ack_hash: String,
}

/// One acknowledgement by the payment rail, chained per wallet like its journal: an
/// effect marked paid without one, or one rewritten, is a divergence for `verify`, and
/// checkpoints sign each wallet's count and latest hash. It binds the effect as the rail
/// was shown it, so that an effect redirected before it was paid and restored after is
/// caught against the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AckRecord {
    /// The wallet.
    pub wallet: String,
    /// Its place in the wallet's acknowledgements, from 1.
    pub n: u64,
    /// The effect acknowledged.
    pub effect_id: String,
    /// [`OutboxEffect::content_hash`] of the effect as the outbox held it when acknowledged.
    pub effect_hash: String,
    /// When (the host's clock, RFC 3339).
    pub at: String,
    /// The previous record's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// The hash of the other fields.
    pub ack_hash: String,
    /// The rail's reference for the payment, when the adapter gave one: what `reconcile`
    /// holds against the rail's statement. Records made before acknowledgements carried
    /// one have none, and hash as they always did.
    pub reference: Option<String>,
}

impl AckRecord {
    /// The record that acknowledges `effect`, paid under `reference`, at `at`, after
    /// `acks` records of its wallet the latest of which hashes to `ack_hash`.
    pub fn next(effect: &OutboxEffect, reference: Option<&str>, acks: u64, ack_hash: &str, at: &str) -> AckRecord {
        let mut record = AckRecord {
            wallet: effect.wallet.clone(),
            n: acks + 1,
            effect_id: effect.effect_id.clone(),
            effect_hash: effect.content_hash(),
            at: at.to_owned(),
            prev_hash: ack_hash.to_owned(),
            ack_hash: String::new(),
            reference: reference.map(str::to_owned),
        };
        record.ack_hash = record.compute_hash();
        record
    }

    /// The hash of every field but `ack_hash`; a reference only when there is one, so
    /// that a record made before references hashes as it did (six fields against seven:
    /// the two cannot be confused).
    pub fn compute_hash(&self) -> String {
        let (wallet, n, effect, at, prev) = (&self.wallet, self.n, &self.effect_id, &self.at, &self.prev_hash);
        let fields = match &self.reference {
            None => serde_json::to_vec(&(wallet, n, effect, &self.effect_hash, at, prev)),
            Some(reference) => serde_json::to_vec(&(wallet, n, effect, &self.effect_hash, at, prev, reference)),
        };
        sha256_hex(&fields.expect("records always serialize"))
    }
}

/// An effect's outbox row as `verify` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    /// The effect.
    pub effect: OutboxEffect,
    /// Whether it is marked acknowledged.
    pub acked: bool,
}

/// An effect waiting in the outbox for the payment rail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEffect {
    /// A stable id: `wallet:seq:index`. Acknowledging it twice is harmless.
    pub effect_id: String,
    /// The wallet.
    pub wallet: String,
    /// The journal entry that produced it.
    pub seq: u64,
    /// `release` or `refund`.
    pub kind: String,
    /// The recipient's public key (hex).
    pub to: String,
    /// The amount, two decimals.
    pub amount: String,
    /// Why.
    pub reason: String,
}

impl OutboxEffect {
    /// The hash of every field: what the payment rail was shown.
    pub fn content_hash(&self) -> String {
        sha256_hex(&serde_json::to_vec(self).expect("effects always serialize"))
    }
}

/// What acknowledging effects did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Acknowledged {
    /// Effects acknowledged now.
    pub newly: usize,
    /// Effects that were acknowledged before (an id listed twice counts once).
    pub already: usize,
}

/// An effect the payment rail reports carried out, as an adapter acknowledges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The effect's id (`wallet:seq:index`).
    pub effect_id: String,
    /// The rail's reference for the payment, if it gave one (see
    /// [`prepaid_contract::event::is_rail_reference`]).
    pub reference: Option<String>,
}

impl Ack {
    /// Effect `effect_id`, acknowledged with no reference.
    pub fn of(effect_id: impl Into<String>) -> Ack {
        Ack {
            effect_id: effect_id.into(),
            reference: None,
        }
    }

    /// Effect `effect_id`, paid under `reference`.
    pub fn paid(effect_id: impl Into<String>, reference: impl Into<String>) -> Ack {
        Ack {
            effect_id: effect_id.into(),
            reference: Some(reference.into()),
        }
    }
}
