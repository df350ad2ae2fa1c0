//! One event against its wallet's head: a refusal, the recorded outcome of a re-submitted
//! event, or a new entry to journal.

use anyhow::Context as _;
use prepaid_contract::ErrorCode;

use crate::contracts::Contracts;
use crate::engine::{WasmContract, LIMITS_VERSION};
use crate::envelope::Envelope;
use crate::error::{Error, RefusalCode, Result};
use crate::ledger::admit::Admission;
use crate::outcome::{sha256_hex, Outcome, Verdict};
use crate::plan::Consent;
use crate::rules::Rules;
use crate::stats::Facts;
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
    /// A new entry, the wallet's state after it and when that state is due, and its
    /// verdict (with the effects).
    New {
        entry: Entry,
        state: Option<Vec<u8>>,
        next_due: Option<i64>,
        verdict: Verdict,
        facts: Box<Facts>,
    },
}

impl Prepared {
    /// Journals a new entry (in one transaction, or the open group's).
    pub(crate) fn record(self, store: &mut dyn Store) -> Result<Submitted> {
        match self {
            Prepared::Recorded(submitted) => Ok(submitted),
            Prepared::New {
                entry,
                state,
                next_due,
                verdict,
                facts,
            } => {
                store.append(&entry, state.as_deref(), next_due, &verdict.effects, &facts)?;
                Ok(Submitted {
                    entry,
                    verdict,
                    replayed: false,
                })
            }
        }
    }
}

/// The rejections that do not show the event came from a party of the wallet: the contract
/// checks who signed before anything else, so these are all that anyone at all can cause.
const UNATTRIBUTED: [ErrorCode; 5] = [
    ErrorCode::BadEvent,
    ErrorCode::BadAmount,
    ErrorCode::BadSignature,
    ErrorCode::AlreadyOpen,
    ErrorCode::NotOpen,
];

/// Admits `envelope` (stamped with its time) by `admission` and runs it against its
/// wallet's `head`, as the caller read it from `store` (`None`: the wallet has no entry
/// yet), the one reading both use: the recorded outcome for a
/// re-submitted event, else the outcome of the wallet's pinned component (`current` for a
/// new wallet), as the entry to journal. A head another writer moved since it was read
/// makes the append a [`Error::Conflict`], and the caller reads it again. A rejection that does
/// not show the event came from a party of the wallet, and any rejection of the `open` of
/// a new wallet, is refused instead and recorded nowhere: an id is taken only by an event
/// a party signed.
pub(crate) fn prepare(
    store: &dyn Store,
    head: Option<WalletHead>,
    current: Option<&str>,
    envelope: &Envelope,
    contracts: &Contracts,
    admission: &Admission,
) -> Result<Prepared> {
    admission.admit(store, envelope, head.as_ref(), current)?;
    let ctx = envelope
        .context()
        .map_err(|error| Error::refused(RefusalCode::BadEnvelope, format!("{error:#}")))?;
    let event_json = envelope.to_json();
    if let Some(entry) = store.entry_by_event_id(&envelope.wallet, &envelope.id)? {
        let recorded = Envelope::parse(&entry.event).context("reading a recorded event")?;
        // The same event sent again, whenever it arrives, gets its recorded outcome.
        if recorded.untimed() != envelope.untimed() {
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
    let head = match head {
        Some(head) => head,
        None if envelope.kind() == Some("open") => WalletHead {
            wallet: envelope.wallet.clone(),
            code_hash: current.context("no contract component is installed")?.to_owned(),
            seq: 0,
            state: None,
            state_hash: sha256_hex(&[]),
            head_hash: GENESIS_HASH.into(),
            next_due: None,
            acks: 0,
            ack_hash: GENESIS_HASH.into(),
        },
        None => {
            return Err(Error::refused(
                RefusalCode::UnknownWallet,
                format!("wallet {} does not exist; open it first", envelope.wallet),
            ))
        }
    };
    let (contract, outcome) = match envelope.kind() {
        Some("migrate") => migrate(store, &head, &ctx, envelope, contracts)?,
        _ => {
            let contract = contracts.get(store, &head.code_hash)?;
            let outcome = contract.apply(head.state.as_deref(), &ctx, &envelope.body())?;
            (contract, outcome)
        }
    };
    if let Some(error) = &outcome.verdict.error {
        if let Some(code) = ErrorCode::parse(&error.code) {
            if head.state.is_none() || UNATTRIBUTED.contains(&code) {
                let unrecorded = match head.state {
                    None => "a rejected `open` opens no wallet, and nothing is recorded",
                    Some(_) => "nothing is recorded for an event not shown to come from a party of the wallet",
                };
                return Err(Error::refused(
                    RefusalCode::Unattributed(code),
                    format!("{}; {unrecorded}", error.message),
                ));
            }
        }
    }
    // What the event would do is known now: revoked code pays no merchant.
    admission.admit_outcome(&head.code_hash, envelope, &outcome.verdict, || {
        // The store's index, not the revoked code's own view, says whose wallet it is.
        Ok(store
            .holder_of(&head.wallet)?
            .context("a wallet with effects and no consumer indexed")?)
    })?;
    let next_due = match outcome.state {
        Some(_) => outcome.next_due,
        None => head.next_due,
    };
    let before = head.state.clone();
    let state = outcome.state.clone().or(head.state);
    let mut entry = Entry {
        wallet: envelope.wallet.clone(),
        seq: head.seq + 1,
        event_id: envelope.id.clone(),
        event: event_json,
        at: envelope
            .at
            .clone()
            .context("the event has no time `at`: the host stamps it")?,
        // The code that gave the outcome: the wallet's, or the one a migration moves it to.
        code_hash: contract.code_hash().to_owned(),
        outcome: outcome.verdict.to_json(),
        fuel: outcome.fuel,
        limits: LIMITS_VERSION,
        state_hash: state.as_deref().map_or(head.state_hash, sha256_hex),
        prev_hash: head.head_hash,
        entry_hash: String::new(),
    };
    entry.entry_hash = entry.compute_hash();
    let mut facts = Facts::new(
        &entry,
        &outcome.verdict,
        &envelope.event,
        before.as_deref(),
        state.as_deref(),
    )?;
    // A state this build does not read natively (no merchant in the facts of an accepted
    // event): its component says whose wallet it is, so the index of consumers, which
    // access checks read, still has it.
    if outcome.verdict.ok && facts.merchant.is_none() {
        if let Some(state) = &state {
            facts.holder = Some(contract.view(state)?.consumer);
        }
    }
    Ok(Prepared::New {
        facts: Box::new(facts),
        entry,
        state,
        next_due,
        verdict: outcome.verdict,
    })
}

/// Runs a `migrate` on the component it moves the wallet to, told the ABI of the one it
/// runs: refused, recording nothing, unless it moves an opened wallet from the component it
/// runs onto another stored one, which accepts it and moves no money.
fn migrate(
    store: &dyn Store,
    head: &WalletHead,
    ctx: &prepaid_contract::Context,
    envelope: &Envelope,
    contracts: &Contracts,
) -> Result<(std::sync::Arc<WasmContract>, Outcome)> {
    let refused = |why: String| Error::refused(RefusalCode::MigrationRefused, why);
    let field = |name: &str| {
        envelope
            .event
            .get(name)
            .and_then(|hash| hash.as_str())
            .unwrap_or_default()
    };
    let (from, to) = (field("from"), field("to"));
    if from != head.code_hash {
        return Err(refused(format!(
            "the migration moves wallet {} from component {from:?}, but the wallet runs {}",
            head.wallet, head.code_hash
        )));
    }
    if to == from {
        return Err(refused(format!("wallet {} runs component {to} already", head.wallet)));
    }
    let Some(state) = &head.state else {
        return Err(refused(format!(
            "wallet {} has no accepted `open`: there is nothing to migrate",
            head.wallet
        )));
    };
    if store.component(to)?.is_none() {
        return Err(refused(format!(
            "no component {to:?} is stored: install it before moving wallets onto it"
        )));
    }
    // The code it moves to checks the regulator's signature too, but is not trusted to.
    envelope
        .migration_signed(state)
        .map_err(|why| refused(format!("the migration is not the wallet's regulator's: {why}")))?;
    let (old, new) = (contracts.get(store, &head.code_hash)?, contracts.get(store, to)?);
    let outcome = new.migrate(state, old.abi(), ctx, &envelope.body())?;
    if let Some(error) = &outcome.verdict.error {
        return Err(refused(format!(
            "component {to} refused the migration: {}: {}",
            error.code, error.message
        )));
    }
    if !outcome.verdict.effects.is_empty() {
        return Err(refused(format!(
            "component {to} would move money in a migration, which moves none"
        )));
    }
    // Nor may it move money later by changing what the wallet holds or whose it is.
    let moved = outcome
        .state
        .as_deref()
        .context("an accepted migration returned no state")?;
    // Where this build reads both states, they must be the same wallet but for the time
    // of its last event: the new code's own view is not trusted to say so.
    use prepaid_contract::state::Wallet;
    if let Ok(before) = Wallet::decode(state) {
        // A wallet this build reads moves only into a state it reads too (bytes after the
        // wallet, or a form of its own, would let the new code read what the host does not)...
        let after = Wallet::decode(moved).map_err(|error| {
            refused(format!(
                "component {to} would hand over a state this build does not read ({}), of a wallet it does",
                error.message
            ))
        })?;
        // ...and exactly as the contract writes it (CBOR), so that nothing hides in a form
        // the new code might read otherwise.
        let exact = moved.first() == Some(&b'{') || after.encode() == moved;
        if !exact
            || before
                != (Wallet {
                    last_at: before.last_at,
                    ..after
                })
        {
            return Err(refused(format!(
                "component {to} would change the wallet it takes over (terms, parties, figures or requests); a migration keeps them"
            )));
        }
    }
    let (before, after) = (old.view(state)?, new.view(moved)?);
    if !before.same_figures(&after) {
        return Err(refused(format!(
            "component {to} would change the wallet's figures or parties ({before:?} -> {after:?}); a migration keeps them"
        )));
    }
    // New rules that would give the consumer less on some path wait for their consent.
    match crate::plan::consent(envelope, &head.wallet, (&old, state), (&new, moved), ctx.timestamp)? {
        Consent::Holds => Ok((new, outcome)),
        Consent::Missing => Err(Error::refused(
            RefusalCode::AwaitsConsent,
            format!(
                "component {to} would give the consumer less on some path (see `prepaid migrate plan`): the \
                 migration waits for their consent"
            ),
        )),
        Consent::NotTheirs(why) => Err(refused(format!("the migration's consent is not its consumer's: {why}"))),
    }
}

/// Admits, runs and journals `envelopes` in order on one connection (inside the caller's
/// transaction, so later events see earlier ones), each on the head read for it: a refused event gets its refusal and
/// the others go on; any other error stops the lot.
pub(crate) fn apply_all(
    store: &mut dyn Store,
    current: Option<&str>,
    envelopes: &[Envelope],
    contracts: &Contracts,
    admission: &Admission,
) -> Result<Vec<Result<Submitted>>> {
    envelopes
        .iter()
        .map(|envelope| {
            let head = store.wallet(&envelope.wallet)?;
            per_event(
                prepare(store, head, current, envelope, contracts, admission)
                    .and_then(|prepared| prepared.record(store)),
            )
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
