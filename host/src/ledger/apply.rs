//! One event against its wallet's head: a refusal, the recorded outcome of a re-submitted
//! event, or a new entry to journal.

use anyhow::Context as _;

use crate::engine::LIMITS_VERSION;
use crate::envelope::Envelope;
use crate::error::{Error, RefusalCode, Result};
use crate::ledger::contracts::Contracts;
use crate::outcome::{sha256_hex, Verdict};
use crate::rules::Rules;
use crate::store::{Entry, Store, WalletHead, GENESIS_HASH};

/// The result of submitting one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The journal entry recorded for it.
    pub entry: Entry,
    /// Its verdict (the entry's outcome, parsed).
    pub verdict: Verdict,
    /// Whether the event id had been recorded before, with the same content, so the
    /// recorded outcome was returned and nothing was applied again.
    pub replayed: bool,
}

/// An event run but not yet journaled.
pub(crate) enum Prepared {
    /// The event id was journaled before, with the same event: its recorded outcome.
    Recorded(Submitted),
    /// A new entry, the wallet's state after it, and its verdict (with the effects).
    New {
        entry: Entry,
        state: Option<Vec<u8>>,
        verdict: Verdict,
    },
}

impl Prepared {
    /// Journals a new entry (in one transaction, or the open group's).
    pub(crate) fn record(self, store: &mut dyn Store) -> Result<Submitted> {
        match self {
            Prepared::Recorded(submitted) => Ok(submitted),
            Prepared::New { entry, state, verdict } => {
                store.append(&entry, state.as_deref(), &verdict.effects)?;
                Ok(Submitted {
                    entry,
                    verdict,
                    replayed: false,
                })
            }
        }
    }
}

/// Runs `envelope` against its wallet's head in `store`: the recorded outcome for a
/// re-submitted event, else the outcome of the wallet's pinned component (`current` for a
/// new wallet), as the entry to journal.
pub(crate) fn prepare(
    store: &dyn Store,
    current: Option<&str>,
    envelope: &Envelope,
    contracts: &Contracts,
) -> Result<Prepared> {
    let ctx = envelope
        .context()
        .map_err(|error| Error::refused(RefusalCode::BadEnvelope, format!("{error:#}")))?;
    let event_json = envelope.to_json();
    if let Some(entry) = store.entry_by_event_id(&envelope.wallet, &envelope.id)? {
        if entry.event != event_json {
            return Err(Error::refused(
                RefusalCode::EventIdReused,
                format!(
                    "event id {} of wallet {} was already used for a different event; use a new id",
                    envelope.id, envelope.wallet
                ),
            ));
        }
        let verdict = serde_json::from_str(&entry.outcome).context("reading a recorded outcome")?;
        return Ok(Prepared::Recorded(Submitted {
            entry,
            verdict,
            replayed: true,
        }));
    }
    let head = match store.wallet(&envelope.wallet)? {
        Some(head) => head,
        None if envelope.event.get("type").and_then(|kind| kind.as_str()) == Some("open") => WalletHead {
            wallet: envelope.wallet.clone(),
            code_hash: current.context("no contract component is installed")?.to_owned(),
            seq: 0,
            state: None,
            state_hash: sha256_hex(&[]),
            head_hash: GENESIS_HASH.into(),
        },
        None => {
            return Err(Error::refused(
                RefusalCode::UnknownWallet,
                format!("wallet {} does not exist; open it first", envelope.wallet),
            ))
        }
    };
    let contract = contracts.get(store, &head.code_hash)?;
    let outcome = contract.apply(head.state.as_deref(), &ctx, &envelope.body())?;
    let state = outcome.state.clone().or(head.state);
    let mut entry = Entry {
        wallet: envelope.wallet.clone(),
        seq: head.seq + 1,
        event_id: envelope.id.clone(),
        event: event_json,
        at: envelope.at.clone(),
        code_hash: head.code_hash,
        outcome: outcome.verdict.to_json(),
        fuel: outcome.fuel,
        limits: LIMITS_VERSION,
        state_hash: state.as_deref().map_or(head.state_hash, sha256_hex),
        prev_hash: head.head_hash,
        entry_hash: String::new(),
    };
    entry.entry_hash = entry.compute_hash();
    Ok(Prepared::New {
        entry,
        state,
        verdict: outcome.verdict,
    })
}

/// Runs and journals `envelopes` in order on one connection (inside the caller's
/// transaction, so later events see earlier ones): a refused event gets its refusal and
/// the others go on; any other error stops the lot.
pub(crate) fn apply_all(
    store: &mut dyn Store,
    current: Option<&str>,
    envelopes: &[Envelope],
    contracts: &Contracts,
) -> Result<Vec<Result<Submitted>>> {
    envelopes
        .iter()
        .map(|envelope| {
            per_event(prepare(store, current, envelope, contracts).and_then(|prepared| prepared.record(store)))
        })
        .collect()
}

/// One event's result within a batch: a refusal is that event's answer (`Ok(Err(..))`),
/// anything else but success stops the batch (`Err(..)`).
pub(crate) fn per_event<T>(result: Result<T>) -> Result<Result<T>> {
    match result {
        Err(error @ Error::Refused(_)) => Ok(Err(error)),
        Err(error) => Err(error),
        Ok(value) => Ok(Ok(value)),
    }
}
