//! The store interface: where the journal, the wallets' heads, the components and the
//! outbox live. [`sqlite::SqliteStore`] keeps them in one SQLite file (the default);
//! `postgres::PostgresStore` (feature `postgres`) in a PostgreSQL database that several
//! hosts share. A [`StoreConfig`] names one and opens connections to it.
//!
//! Per-wallet order is the store's job, not the caller's: an entry is written only as the
//! next seq of its wallet, and a second writer racing for the same seq (or the same event
//! id) gets an [`crate::Error::Conflict`], re-reads the head and tries again. No lock outside the database
//! is needed for correctness, so any number of processes may write to one store.

pub mod schema;
pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::PathBuf;
use std::time::Duration;

use crate::claims::{ConsumerClaim, Withheld};
use crate::disputes::QueuedDispute;
use crate::error::{Error, Result};
pub use crate::journal::{Ack, AckRecord, Acknowledged, Entry, OutboxEffect, OutboxRow, WalletHead, GENESIS_HASH};
use crate::outcome::EffectRecord;
use crate::registry::Record;
use crate::signed::Leaf;
use crate::stats::{DayRow, Facts, Sale};
use crate::webhooks::Delivery;

/// Which store a ledger keeps its journal in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite file (created if missing): the default, nothing else to run. One process
    /// writes at a time, so the ledger commits through one writer, in groups.
    Sqlite(PathBuf),
    /// A PostgreSQL database, which any number of processes share; the tables are created
    /// on first connection.
    #[cfg(feature = "postgres")]
    Postgres(postgres::PostgresConfig),
}

impl StoreConfig {
    /// Opens a new connection to the store.
    pub fn connect(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            StoreConfig::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path)?),
            #[cfg(feature = "postgres")]
            StoreConfig::Postgres(config) => Box::new(postgres::PostgresStore::connect(config)?),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreConfig::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            StoreConfig::Postgres(_) => "postgres",
        }
    }
}

/// The columns of a webhook delivery, in [`Delivery`]'s order.
pub(crate) const DELIVERY_COLUMNS: &str =
    "webhook, notice, attempts, last_attempt_at, last_result, delivered_at, next_attempt";

/// Where a ledger keeps everything. Reads take `&self`; writes take `&mut self` and are
/// each one transaction (or part of an open batch, where the store has them).
pub trait Store: Send {
    /// Stores a component under its code hash (once).
    fn put_component(&mut self, code_hash: &str, bytes: &[u8]) -> Result<()>;

    /// The component stored under `code_hash`.
    fn component(&self, code_hash: &str) -> Result<Option<Vec<u8>>>;

    /// Every stored component: code hash and bytes, by code hash.
    fn components(&self) -> Result<Vec<(String, Vec<u8>)>>;

    /// The head of `wallet`, if it has any entry.
    fn wallet(&self, wallet: &str) -> Result<Option<WalletHead>>;

    /// The ids of every wallet, in order.
    fn wallets(&self) -> Result<Vec<String>>;

    /// Every wallet's head as a checkpoint states it, in any order.
    fn leaves(&self) -> Result<Vec<Leaf>>;

    /// The wallets that have journal entries, outbox rows or acknowledgements but no
    /// head, in order: rows that no head accounts for.
    fn unheaded(&self) -> Result<Vec<String>>;

    /// Every outbox row of `wallet`, acknowledged or not, by effect id.
    fn outbox(&self, wallet: &str) -> Result<Vec<OutboxRow>>;

    /// Every acknowledgement of `wallet`'s effects, in order.
    fn acks(&self, wallet: &str) -> Result<Vec<AckRecord>>;

    /// The entry of `wallet` for `event_id`, if one was recorded.
    fn entry_by_event_id(&self, wallet: &str, event_id: &str) -> Result<Option<Entry>>;

    /// Every entry of `wallet`, in order.
    fn entries(&self, wallet: &str) -> Result<Vec<Entry>>;

    /// Appends `entry` as the next of its wallet, moves the wallet's head to it and puts
    /// the `effects` that move money in the outbox, all at once. A `claim` effect is kept
    /// as a claim on the wallet's merchant, and each release pays that merchant's open
    /// claims first, oldest first ([`crate::claims`]). `state` is the wallet's state after the entry
    /// and `next_due` when that state next needs the clock.
    /// Fails with [`crate::Error::Conflict`] (writing nothing) when the entry's seq or event id is
    /// already taken.
    /// `facts` are added to the statistics in the same transaction (and index the wallet's
    /// merchant, for an accepted `open`).
    fn append(
        &mut self,
        entry: &Entry,
        state: Option<&[u8]>,
        next_due: Option<i64>,
        effects: &[EffectRecord],
        facts: &Facts,
    ) -> Result<()>;

    /// Appends `record` to the registry's log. Fails with [`crate::Error::Conflict`]
    /// (writing nothing) when its number is taken: another host recorded first.
    fn registry_append(&mut self, record: &Record) -> Result<()>;

    /// The registry's records after number `after`, in order.
    fn registry_since(&self, after: u64) -> Result<Vec<Record>>;

    /// The wallets opened with `merchant` as their merchant, in order.
    fn sales_of(&self, merchant: &str) -> Result<Vec<String>>;

    /// The wallets whose consumer is `consumer` now, in order (those journaled before
    /// consumers were indexed only once an entry moves them).
    fn holdings(&self, consumer: &str) -> Result<Vec<String>>;

    /// Where the delivery of notice `notice` to webhook `webhook` stands, if it was tried.
    fn delivery(&self, webhook: &str, notice: &str) -> Result<Option<Delivery>>;

    /// Records a delivery attempt (replacing what was recorded of that notice's delivery).
    fn record_delivery(&mut self, delivery: &Delivery) -> Result<()>;

    /// The latest `limit` deliveries to `webhook`, the latest attempt first.
    fn deliveries(&self, webhook: &str, limit: usize) -> Result<Vec<Delivery>>;

    /// The consumer `wallet` is indexed under (see [`Store::holdings`]), if any.
    fn holder_of(&self, wallet: &str) -> Result<Option<String>>;

    /// The days of notice a closure gives, if the journal was set to sell only listings
    /// (by `prepaid serve`, or [`crate::Ledger::with_registry`]); `None` otherwise.
    fn listed_only(&self) -> Result<Option<u32>>;

    /// Sets the journal to sell only listings, with `closure_notice_days` of notice for a
    /// closure; every ledger opened on it from then on admits by that.
    fn set_listed_only(&mut self, closure_notice_days: u32) -> Result<()>;

    /// The migration of `wallet` waiting for its consumer's consent (a regulator's signed
    /// `migrate`, as JSON), and when it was handed in, if there is one.
    fn waiting_migration(&self, wallet: &str) -> Result<Option<(String, i64)>>;

    /// Sets the migration of `wallet` waiting for its consumer's consent (replacing any
    /// other), or with `None`, clears it.
    fn set_waiting_migration(&mut self, wallet: &str, waiting: Option<(&str, i64)>) -> Result<()>;

    /// The merchant `wallet` was opened with, if it is indexed.
    fn merchant_of(&self, wallet: &str) -> Result<Option<String>>;

    /// Whether the store keeps the claims' books (a bundle does not: it carries the journal
    /// alone); without them, the claims and what releases paid of them read as none.
    fn claims_books(&self) -> bool {
        true
    }

    /// Whether the store keeps the regulator's queue of disputes (a bundle, or a journal
    /// opened read-only from before the queue, does not).
    fn keeps_queue(&self) -> bool {
        true
    }

    /// Every dispute open in a wallet, the regulator's ruling due soonest first (none due
    /// last): the regulator's queue ([`crate::disputes`]).
    fn open_disputes(&self) -> Result<Vec<QueuedDispute>>;

    /// The claims `wallet`'s ending recorded, with their payments.
    fn claims_of(&self, wallet: &str) -> Result<Vec<ConsumerClaim>>;

    /// Every claim not yet paid in full, oldest first, with its payments.
    fn open_claims(&self) -> Result<Vec<ConsumerClaim>>;

    /// What the release effects `releases` pay of claims instead of their merchant.
    fn withheld(&self, releases: &[String]) -> Result<Vec<Withheld>>;

    /// The wallets with a head missing from an index, in order: no merchant indexed
    /// (journaled before merchants were), or a state and no consumer indexed (before
    /// consumers were).
    fn unindexed(&self) -> Result<Vec<String>>;

    /// Indexes `wallet` under `consumer`, unless it is indexed already (an entry since
    /// indexed it as it is now).
    fn index_holder(&mut self, wallet: &str, consumer: &str) -> Result<()>;

    /// Indexes `wallet` under its merchant, as its accepted `open` at `opened_at` names it
    /// (once; again changes nothing).
    fn index_sale(&mut self, wallet: &str, sale: &Sale, opened_at: &str) -> Result<()>;

    /// How many wallets of `merchant` were opened after `at` (RFC 3339).
    fn sales_after(&self, merchant: &str, at: &str) -> Result<u64>;

    /// Every merchant's figures for every day up to `to` (all days without it).
    fn day_rows(&self, to: Option<&str>) -> Result<Vec<DayRow>>;

    /// Up to `limit` wallets whose rules need the clock by `now` (seconds since the Unix
    /// epoch), the longest due first: the wallets the platform ticks.
    /// Wallets on the components `skip` (revoked code, which is not ticked) are left out.
    fn due_wallets(&self, now: i64, limit: usize, skip: &[String]) -> Result<Vec<String>>;

    /// Up to `limit` effects not yet acknowledged, oldest entry first, claimed or not.
    fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>>;

    /// Claims up to `limit` unacknowledged effects that no one else holds a live claim on,
    /// for `lease`: several payment adapters can claim at once and never get the same
    /// effect while its lease runs. An adapter that dies lets its claims lapse.
    /// `token` marks the claim: acknowledging a claimed effect takes it
    /// ([`Store::ack_effects`]).
    fn claim_effects(&mut self, token: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEffect>>;

    /// Marks effects as carried out by the payment rail, each with the next
    /// [`AckRecord`] of its wallet (carrying the rail's reference, if given), and says how
    /// many were acknowledged now and how many before. Fenced: with `claim`, every effect
    /// not yet acknowledged must still be held by that claim's token; without one, none may
    /// be under a live claim. Otherwise [`crate::Error::StaleClaim`]; an unknown id is
    /// [`crate::Error::UnknownEffect`]; a malformed reference, or one effect listed with
    /// two, [`crate::Error::BadReference`]; either acknowledges nothing. Acknowledging an
    /// effect again is harmless, unless under another reference than it was
    /// ([`crate::Error::ReferenceDiffers`]): the rail reports paying it twice.
    fn ack_effects(&mut self, acks: &[Ack], claim: Option<&str>) -> Result<Acknowledged>;

    /// Runs `work`: on a store that groups writes (SQLite) in one transaction, all of it
    /// committed or none (group commit: many appends, one sync to disk); elsewhere each
    /// append commits on its own. Each append inside succeeds or fails alone.
    fn transaction(&mut self, work: &mut dyn FnMut(&mut dyn Store) -> Result<()>) -> Result<()>;

    /// Whether the store takes one write at a time whatever the number of connections
    /// (SQLite): the ledger then hands every write to one writer that commits them in
    /// groups, instead of having connections poll the store's lock.
    fn one_writer_at_a_time(&self) -> bool {
        false
    }

    /// Whether the connection is gone for good (a pool then opens a new one).
    fn is_broken(&self) -> bool {
        false
    }
}

/// An effect's outbox row, as an acknowledgement reads it.
pub(crate) struct AckRow {
    /// Whether it is acknowledged already.
    pub(crate) acked: bool,
    /// The reference its acknowledgement recorded, if it is acknowledged with one.
    pub(crate) reference: Option<String>,
    /// The token of the claim that holds it, if any ever did.
    pub(crate) holder: Option<String>,
    /// When that claim's lease ends (seconds since the epoch).
    pub(crate) until: Option<i64>,
    /// The effect as the outbox holds it.
    pub(crate) effect: OutboxEffect,
}

/// The distinct effects of `acks` with their references, in one order whatever the
/// request's: every store locks rows in this order, so two adapters acking overlapping
/// lists cannot deadlock. A malformed reference, or an effect listed under two, is
/// [`Error::BadReference`].
pub(crate) fn distinct(acks: &[Ack]) -> Result<std::collections::BTreeMap<&str, Option<&str>>> {
    let mut distinct = std::collections::BTreeMap::new();
    for ack in acks {
        let reference = ack.reference.as_deref();
        if let Some(reference) = reference.filter(|reference| !prepaid_contract::event::is_rail_reference(reference)) {
            return Err(Error::BadReference(format!(
                "the reference {reference:?} for effect {} must be 1 to {} characters, each an ASCII letter or digit or \
                 one of - _ . : / #",
                ack.effect_id,
                prepaid_contract::event::MAX_LISTING_ID_LEN
            )));
        }
        match distinct.insert(ack.effect_id.as_str(), reference) {
            Some(before) if before.is_some() && reference.is_some() && before != reference => {
                return Err(Error::BadReference(format!(
                    "effect {} is listed under two references: one payment has one",
                    ack.effect_id
                )));
            }
            // Listed again, once without its reference: keep the one given.
            Some(before @ Some(_)) => {
                distinct.insert(ack.effect_id.as_str(), before);
            }
            _ => {}
        }
    }
    Ok(distinct)
}

/// Whether effect `id`, read as `row`, is to be marked acknowledged now under `reference`
/// (`false`: it is already), for an acknowledgement presenting `claim` at `now`: a claim's
/// token must be the holder's, lapsed or not (no one has claimed it since); no token may
/// acknowledge only what no live claim holds. Otherwise [`Error::StaleClaim`]; no row is
/// [`Error::UnknownEffect`]; acknowledged before under another reference (or none),
/// [`Error::ReferenceDiffers`].
pub(crate) fn ack_now(
    id: &str,
    row: Option<AckRow>,
    reference: Option<&str>,
    claim: Option<&str>,
    now: i64,
) -> Result<bool> {
    let Some(row) = row else {
        return Err(Error::UnknownEffect(id.to_owned()));
    };
    if row.acked {
        return match reference {
            Some(given) if row.reference.as_deref() != Some(given) => Err(Error::ReferenceDiffers {
                effect_id: id.to_owned(),
                recorded: row.reference,
                given: given.to_owned(),
            }),
            _ => Ok(false),
        };
    }
    let held = match claim {
        Some(token) => row.holder.as_deref() == Some(token),
        None => row.until.is_none_or(|until| until < now),
    };
    if !held {
        return Err(Error::StaleClaim(id.to_owned()));
    }
    Ok(true)
}

/// The reference an outbox row's acknowledgement recorded, as a column of a query on
/// `outbox` in each store's SQL.
pub(crate) const ACK_REFERENCE: &str = "(SELECT reference FROM acks WHERE acks.effect_id = outbox.effect_id)";

/// The wallets that have rows but no head, as each store's SQL asks it.
pub(crate) const UNHEADED: &str =
    "SELECT wallet FROM journal UNION SELECT wallet FROM outbox UNION SELECT wallet FROM acks
     EXCEPT SELECT wallet FROM wallets ORDER BY 1";
