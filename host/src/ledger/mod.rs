//! The ledger: applies events to wallets through the component each wallet is pinned to,
//! and journals every outcome, over any store.
//!
//! One [`Ledger`] serves one thread or many (it is `Send + Sync`; share it in an `Arc`):
//! events of one wallet apply strictly in order, events of different wallets in parallel.
//! How writes reach the store is the store's strategy (`ledger/commit.rs`): through one writer
//! committing in groups (SQLite), or appended by each thread, the database ordering each
//! wallet (PostgreSQL, shared by many processes). Either way an append that loses its
//! wallet's race runs again on the new head.

mod admit;
mod apply;
mod commit;
mod consent;
mod pool;

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use anyhow::anyhow;

pub use admit::Funding;
pub(crate) use apply::per_event;
pub use apply::Submitted;
pub use consent::{Migrated, WaitingMigration};
pub use pool::DEFAULT_MAX_CONNECTIONS;

use crate::claims::{ConsumerClaim, Withheld};
use crate::clock::{Clock, TICK_ID_PREFIX};
use crate::contracts::Contracts;
use crate::engine::ContractEngine;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::outcome::{Verdict, WalletView};
use crate::registry::Registry;
use crate::rules::Rules;
use crate::signed::Checkpoint;
use crate::store::{Ack, Acknowledged, Entry, OutboxEffect, Store, StoreConfig, WalletHead};
use crate::trust::Trust;
use crate::verify::{self, Report};
use admit::Admission;
use apply::Prepared;
use commit::{Commit, Writer};
use pool::Pool;

/// Effects claimed for a payment adapter, and the token that acknowledges them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// Presented with the acknowledgement; a claim made later on the same effects (after
    /// this one's lease lapsed) makes it stale.
    pub token: String,
    /// The effects claimed, oldest entry first.
    pub effects: Vec<OutboxEffect>,
    /// What the releases among them pay of claims instead of their merchant
    /// ([`Ledger::withheld`]).
    pub withheld: Vec<Withheld>,
}

/// The ids of the releases among `effects`.
fn releases(effects: &[OutboxEffect]) -> Vec<String> {
    effects
        .iter()
        .filter(|effect| effect.kind == "release")
        .map(|effect| effect.effect_id.clone())
        .collect()
}

/// How many locks wallets are spread over: one wallet always maps to the same lock, so
/// its events serialize in this process; memory stays bounded however many wallets.
const WALLET_LOCKS: usize = 1024;
/// How often a submission runs again after losing its wallet's race before it gives up:
/// each loss means another writer made progress on the same wallet.
const MAX_ATTEMPTS: usize = 64;

/// A wallet as the ledger reads it: its head and, once an `open` was accepted, its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wallet {
    /// Its pinned code, latest state and latest entry.
    pub head: WalletHead,
    /// Its figures through its pinned component (none before an `open` is accepted); its
    /// status `settling` where the component says `closed` but a claim it recorded is not
    /// paid in full.
    pub view: Option<WalletView>,
}

/// What an event would do, computed and not journaled ([`Ledger::dry_run`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DryRun {
    /// The contract's verdict, with the effects it would queue.
    pub verdict: Verdict,
    /// The wallet's figures after the event (none for a replayed id, or no accepted `open`).
    pub view: Option<WalletView>,
    /// Whether the event id was journaled before: the verdict is the recorded one.
    pub replayed: bool,
}

/// Wallets over a store, run by their pinned contract components.
pub struct Ledger {
    config: StoreConfig,
    contracts: Arc<Contracts>,
    current: RwLock<Option<String>>,
    pool: Pool,
    wallet_locks: Vec<Mutex<()>>,
    conflicts: AtomicU64,
    commit: Commit,
    /// How events from outside are admitted: the trust file, the registry's catalogue.
    admission: Admission,
    /// Where events' times come from.
    clock: Clock,
}

impl Ledger {
    /// A ledger over the store `config` names (created if missing), running components on
    /// `engine`. Install a component before the first `open`.
    pub fn open(config: StoreConfig, engine: ContractEngine) -> Result<Ledger> {
        let store = config.connect()?;
        let contracts = Arc::new(Contracts::new(engine));
        let commit = match store.one_writer_at_a_time() {
            true => Commit::Writer(Writer::start(config.clone(), contracts.clone())?),
            false => Commit::Direct,
        };
        Ok(Ledger {
            pool: Pool::new(config.clone(), store, DEFAULT_MAX_CONNECTIONS),
            config,
            contracts,
            current: RwLock::new(None),
            wallet_locks: (0..WALLET_LOCKS).map(|_| Mutex::new(())).collect(),
            conflicts: AtomicU64::new(0),
            commit,
            admission: Admission::default(),
            clock: Clock::System,
        })
    }

    /// This ledger, taking events' times from `clock` (by default [`Clock::System`], the
    /// only one for events from outside the platform; see [`crate::clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Ledger {
        self.clock = clock;
        self
    }

    /// Where this ledger takes events' times from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// This ledger, taking wallets' money to come from `funding` (by default
    /// [`Funding::Rail`], the only one for events from outside the platform).
    pub fn with_funding(mut self, funding: Funding) -> Ledger {
        self.admission.funding = funding;
        self
    }

    /// This ledger, refusing every `open` outside `trust` (a regulator or component the
    /// platform does not list) from now on; see [`crate::trust`].
    pub fn with_trust(mut self, trust: Trust) -> Ledger {
        self.admission.trust = Some(Arc::new(trust));
        self
    }

    /// This ledger, opening wallets only as sales of approved, unexpired listings of
    /// approved merchants in the registry ([`crate::registry`]), and taking merchants'
    /// closures only `closure_notice_days` ahead or more
    /// ([`crate::registry::DEFAULT_CLOSURE_NOTICE_DAYS`] is the regulation's 30). The
    /// journal records it, and the notice the last call gave: every ledger on the journal
    /// (`prepaid apply`'s, a library's, one opened before) admits by the same rules, and
    /// refuses an `open` unless it was given a trust file too ([`Ledger::with_trust`]).
    pub fn with_registry(self, closure_notice_days: u32) -> Result<Ledger> {
        self.with_store(|store| store.set_listed_only(closure_notice_days))?;
        Ok(self)
    }

    /// Whether the journal sells only listings, and if so the days of notice a closure
    /// gives (see [`Ledger::with_registry`]).
    pub fn catalogue(&self) -> Result<Option<u32>> {
        self.with_store(|store| store.listed_only())
    }

    /// This ledger, opening at most `max` connections to its store (at least 1; by default
    /// [`DEFAULT_MAX_CONNECTIONS`]). Callers beyond that wait for a free one, and get
    /// [`Error::Busy`] if none is freed in time. SQLite's writer has one more of its own.
    pub fn with_max_connections(mut self, max: usize) -> Ledger {
        self.pool.set_max(max);
        self
    }

    /// The most connections this ledger opens to its store.
    pub fn max_connections(&self) -> usize {
        self.pool.max()
    }

    /// The trust file this ledger enforces, if any.
    pub fn trust(&self) -> Option<&Trust> {
        self.admission.trust.as_deref()
    }

    /// The cached registry, brought up to the store's latest record.
    pub(crate) fn fresh_registry(&self) -> Result<MutexGuard<'_, Registry>> {
        self.with_store(|store| self.registry_on(store))
    }

    /// The cached registry, brought up to `store`'s latest record, on a connection the
    /// caller holds: always the connection first, then the registry's lock.
    pub(crate) fn registry_on(&self, store: &dyn Store) -> Result<MutexGuard<'_, Registry>> {
        self.admission.registry(store)
    }

    /// The store underneath.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Registers a component (checking its imports) and makes it the code that new
    /// wallets are opened with. Returns its code hash. Existing wallets keep theirs.
    pub fn install(&self, bytes: &[u8]) -> Result<String> {
        let contract = self.contracts.load(bytes)?;
        let code_hash = contract.code_hash().to_owned();
        self.with_store(|store| store.put_component(&code_hash, bytes))?;
        *self.current.write().map_err(|_| poisoned("the current component"))? = Some(code_hash.clone());
        Ok(code_hash)
    }

    /// The code hash new wallets are opened with, once one is installed.
    pub fn current(&self) -> Option<String> {
        self.current.read().ok().and_then(|current| current.clone())
    }

    /// Applies one event at the ledger's clock's time and journals its outcome; returns
    /// once it is durable. A malformed envelope, one that names its own time or is a
    /// `tick` (on the system clock), an event for an unknown wallet other than `open`, a
    /// reused event id with different content, or an event the contract rejects before it
    /// is shown to come from a party of the wallet is [`Error::Refused`] and records
    /// nothing; a re-submitted event returns its recorded outcome.
    pub fn submit(&self, envelope: &Envelope) -> Result<Submitted> {
        // Stamped under the wallet's lock, so this process applies a wallet's events in the
        // order of their times.
        let wallet = self.lock_wallet(&envelope.wallet)?;
        self.record(&self.clock.stamp(envelope)?, wallet)
    }

    /// What `envelope` would do now, without journaling it: the contract's verdict, with
    /// the money it would move, and the wallet's figures after it, from the wallet's pinned
    /// component at the ledger's clock's time. Refused as [`Ledger::submit`] would refuse
    /// it; an event id already journaled gives its recorded verdict (`replayed`) and no
    /// figures. A consumer asks this before signing off a refund: what would come back.
    pub fn dry_run(&self, envelope: &Envelope) -> Result<DryRun> {
        let stamped = self.clock.stamp(envelope)?;
        let current = self.current();
        self.with_store(|store| {
            let head = store.wallet(&stamped.wallet)?;
            match apply::prepare(
                store,
                head,
                current.as_deref(),
                &stamped,
                &self.contracts,
                &self.admission,
            )? {
                Prepared::Recorded(submitted) => Ok(DryRun {
                    verdict: submitted.verdict,
                    view: None,
                    replayed: true,
                }),
                Prepared::New {
                    entry, state, verdict, ..
                } => {
                    let view = match &state {
                        Some(state) => Some(self.contracts.get(store, &entry.code_hash)?.view(state)?),
                        None => None,
                    };
                    Ok(DryRun {
                        verdict,
                        view,
                        replayed: false,
                    })
                }
            }
        })
    }

    /// The stored bytes of the component `code_hash`, if the journal holds it.
    pub fn component(&self, code_hash: &str) -> Result<Option<Vec<u8>>> {
        self.with_store(|store| store.component(code_hash))
    }

    /// What moving every live wallet onto the component `to` (its bytes) would change,
    /// asked now by the ledger's clock (see [`crate::plan`]): read before a regulator signs
    /// the migrations. Writes nothing, not even the component.
    pub fn plan_migration(&self, to: &[u8]) -> Result<crate::plan::Plan> {
        let new = self.contracts.load(to)?;
        let now = self.clock.now()?;
        self.with_store(|store| crate::plan::plan(store, &self.contracts, &new, now))
    }

    /// Lets time pass on `wallet` now, by the system clock: an unsigned `tick` applying
    /// whatever rules of time have fallen due (none of a caller's choosing).
    pub fn tick(&self, wallet: &str) -> Result<Submitted> {
        let wallet_lock = self.lock_wallet(wallet)?;
        let now = self.clock.now()?;
        let at = crate::envelope::rfc3339(now)?;
        // The platform's calendar goes with the tick of a wallet that counts working days
        // (or whose state this build does not read), and so into the journal: replay
        // counts working days with the days this tick counted.
        let mut event = serde_json::json!({"type": "tick"});
        let state = self
            .with_store(|store| store.wallet(wallet))?
            .and_then(|head| head.state);
        let counts_working_days = state.as_deref().is_none_or(|state| {
            prepaid_contract::state::Wallet::decode(state).map_or(true, |read| read.policy.deemed_confirm_working_days)
        });
        if let Some(calendar) = counts_working_days
            .then(|| self.fresh_registry())
            .transpose()?
            .and_then(|registry| registry.calendar_around(now))
        {
            event["calendar"] = calendar;
        }
        let tick = Envelope {
            wallet: wallet.to_owned(),
            // One tick a second at most: a second one is the first, replayed.
            id: format!("{TICK_ID_PREFIX}{at}"),
            at: Some(at),
            event,
            signature: None,
        };
        self.record(&tick, wallet_lock)
    }

    /// Ticks up to `limit` wallets whose rules have fallen due by now (their `next_due`),
    /// the longest due first; returns what each tick did, or why it was refused: one
    /// wallet's refusal does not hold up the others. A fault stops the round. A platform
    /// runs this every so often (`prepaid serve` does; `prepaid tick` from the command
    /// line). Wallets on code the trust file revokes are not ticked until they migrate.
    pub fn tick_due(&self, limit: usize) -> Result<Vec<Result<Submitted>>> {
        let now = self.clock.now()?;
        // Revoked code is not ticked: its rules of time could pay the merchant, and a
        // refused tick would keep its wallet first in line every round.
        let due = self.with_store(|store| store.due_wallets(now, limit, self.admission.untickable()))?;
        due.iter().map(|wallet| apply::per_event(self.tick(wallet))).collect()
    }

    /// Records `envelope`, stamped with its time, holding its wallet's lock until the entry
    /// is committed, so that the next event of the wallet reads it.
    pub(crate) fn record(&self, envelope: &Envelope, _wallet: MutexGuard<'_, ()>) -> Result<Submitted> {
        let current = self.current();
        for attempt in 0.. {
            // The head is read once per attempt, and both the admission and the contract
            // run on that reading.
            let prepared = self.with_store(|store| {
                let head = store.wallet(&envelope.wallet)?;
                apply::prepare(
                    store,
                    head,
                    current.as_deref(),
                    envelope,
                    &self.contracts,
                    &self.admission,
                )
            })?;
            let result = match (prepared, &self.commit) {
                (Prepared::Recorded(submitted), _) => Ok(submitted),
                (prepared, Commit::Writer(writer)) => writer.record(prepared),
                (prepared, Commit::Direct) => self.with_store(|store| prepared.record(store)),
            };
            match result {
                Err(Error::Conflict { .. }) if attempt + 1 < MAX_ATTEMPTS => {
                    self.conflicts.fetch_add(1, Ordering::Relaxed);
                    // Let the winner's neighbours through before trying again.
                    std::thread::sleep(Duration::from_micros(50 << attempt.min(6)));
                }
                result => return result,
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Applies `envelopes` in order as [`Ledger::submit`] does, committing them together
    /// where the store allows (group commit): a refused event gets its refusal and the
    /// others go on; a fault stops the lot, and on SQLite records none of it.
    pub fn submit_batch(&self, envelopes: &[Envelope]) -> Result<Vec<Result<Submitted>>> {
        let writer = match &self.commit {
            Commit::Writer(writer) => writer,
            // `submit` stamps and admits each event itself.
            Commit::Direct => {
                return envelopes
                    .iter()
                    .map(|envelope| apply::per_event(self.submit(envelope)))
                    .collect()
            }
        };
        let current = self.current();
        // The clock's refusals are decided before the batch reaches the writer; the writer
        // admits each stamped event on the head it reads, as `submit` does.
        let admitted = envelopes
            .iter()
            .map(|envelope| apply::per_event(self.clock.stamp(envelope)))
            .collect::<Result<Vec<Result<Envelope>>>>()?;
        let passing: Vec<Envelope> = admitted
            .iter()
            .filter_map(|admitted| admitted.as_ref().ok().cloned())
            .collect();
        let mut results = writer.apply_all(&passing, current, self.admission.clone())?.into_iter();
        Ok(admitted
            .into_iter()
            .map(|admitted| match admitted {
                Ok(_) => results.next().expect("a result per admitted event"),
                Err(refusal) => Err(refusal),
            })
            .collect())
    }

    /// How many submissions lost their wallet's race to another writer and ran again.
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// The head of `wallet`, if it has any entry.
    pub fn head(&self, wallet: &str) -> Result<Option<WalletHead>> {
        self.with_store(|store| store.wallet(wallet))
    }

    /// `wallet`'s head and figures, read together; `None` if the wallet does not exist.
    pub fn wallet(&self, wallet: &str) -> Result<Option<Wallet>> {
        self.with_store(|store| {
            let Some(head) = store.wallet(wallet)? else {
                return Ok(None);
            };
            let mut view = match &head.state {
                None => None,
                Some(state) => Some(self.contracts.get(store, &head.code_hash)?.view(state)?),
            };
            // Ended, but owed to the consumer: settling until the merchant's releases have
            // paid it all.
            if let Some(view) = view
                .as_mut()
                .filter(|view| view.status == "closed" && view.owed != "0.00")
            {
                if store.claims_of(wallet)?.iter().any(|claim| claim.remaining != "0.00") {
                    view.status = "settling".into();
                }
            }
            Ok(Some(Wallet { head, view }))
        })
    }

    /// The figures of `wallet`; `None` if it does not exist or has no accepted `open`.
    pub fn view(&self, wallet: &str) -> Result<Option<WalletView>> {
        Ok(self.wallet(wallet)?.and_then(|wallet| wallet.view))
    }

    /// The figures of `wallet` as they were right after its entry `seq`, recomputed by
    /// replaying its entries up to that one, each with the code it ran (the journal keeps
    /// only the latest state). `None` if the wallet has no such entry or no accepted `open`
    /// by then. A replay that does not give the recorded state is a fault: run `verify`.
    pub fn view_at(&self, wallet: &str, seq: u64) -> Result<Option<WalletView>> {
        self.with_store(|store| {
            let Some(head) = store.wallet(wallet)? else {
                return Ok(None);
            };
            let mut contract = self.contracts.get(store, &head.code_hash)?;
            let mut state: Option<Vec<u8>> = None;
            let entries = store.entries(wallet)?;
            let Some(last) = entries.iter().position(|entry| entry.seq == seq) else {
                return Ok(None);
            };
            // Each entry on the code it ran: a migration's on the code it moved to, which
            // reads the state the code before left.
            for (index, entry) in entries[..=last].iter().enumerate() {
                let envelope = Envelope::parse(&entry.event)?;
                let ran = self.contracts.get(store, &entry.code_hash)?;
                let (ctx, body) = (envelope.context()?, envelope.body());
                let outcome = match (&state, index.checked_sub(1).map(|before| &entries[before].code_hash)) {
                    (Some(before), Some(previous)) if *previous != entry.code_hash => {
                        ran.migrate(before, self.contracts.get(store, previous)?.abi(), &ctx, &body)?
                    }
                    _ => ran.apply(state.as_deref(), &ctx, &body)?,
                };
                state = outcome.state.or(state);
                contract = ran;
            }
            let state_hash = crate::outcome::sha256_hex(state.as_deref().unwrap_or_default());
            if state_hash != entries[last].state_hash {
                return Err(anyhow!(
                    "replaying wallet {wallet} to seq {seq} does not give the recorded state; run `prepaid verify`"
                )
                .into());
            }
            Ok(match state {
                None => None,
                Some(state) => Some(contract.view(&state)?),
            })
        })
    }

    /// The wallets whose consumer is `consumer` (hex) now, in order: indexed as entries
    /// are journaled, so a wallet journaled before consumers were indexed is listed once an
    /// entry moves it.
    pub fn wallets_of(&self, consumer: &str) -> Result<Vec<String>> {
        self.with_store(|store| store.holdings(consumer))
    }

    /// The merchant and the consumer of `wallet` as the store indexes them (each `None`
    /// where it has none: a wallet with no accepted `open`, or none at all). The index moves
    /// with the head, in the same transaction, so it says what the head says.
    pub fn parties(&self, wallet: &str) -> Result<(Option<String>, Option<String>)> {
        self.with_store(|store| Ok((store.merchant_of(wallet)?, store.holder_of(wallet)?)))
    }

    /// Every entry of `wallet`, in order (none for a wallet that does not exist).
    pub fn entries(&self, wallet: &str) -> Result<Vec<Entry>> {
        self.with_store(|store| store.entries(wallet))
    }

    /// The ids of every wallet, in order.
    pub fn wallets(&self) -> Result<Vec<String>> {
        self.with_store(|store| store.wallets())
    }

    /// A checkpoint of every wallet's head now, signed with the platform's `key`.
    pub fn checkpoint(&self, key: &ed25519_dalek::SigningKey) -> Result<Checkpoint> {
        self.with_store(|store| crate::signed::checkpoint(store.leaves()?, key))
    }

    /// Replays every wallet (see [`crate::verify`]).
    pub fn verify(&self) -> Result<Report> {
        self.with_store(|store| verify::verify(store, &self.contracts))
    }

    /// Replays `wallet` from its first entry; `None` if the wallet does not exist.
    pub fn verify_wallet(&self, wallet: &str) -> Result<Option<Report>> {
        // Head and entries are read apart: hold this process's appends to the wallet off
        // meanwhile, so that a new entry does not show as a divergence.
        let _wallet = self.lock_wallet(wallet)?;
        self.with_store(|store| match store.wallet(wallet)? {
            None => Ok(None),
            Some(_) => verify::verify_wallets(store, &self.contracts, &[wallet.to_owned()], |_, _| {}).map(Some),
        })
    }

    /// Up to `limit` unacknowledged effects, oldest entry first.
    pub fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>> {
        self.with_store(|store| store.pending_effects(limit))
    }

    /// Claims up to `limit` effects that no live claim holds, for `lease` (see
    /// [`Store::claim_effects`]). The claim's token, new each time, fences the
    /// acknowledgement: only the current holder of an effect can acknowledge it.
    pub fn claim_effects(&self, limit: usize, lease: Duration) -> Result<Claim> {
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret).map_err(|error| anyhow!("the system has no randomness to offer: {error}"))?;
        let token = hex::encode(secret);
        let (effects, withheld) = self.with_store(|store| {
            let effects = store.claim_effects(&token, limit, lease)?;
            let withheld = store.withheld(&releases(&effects))?;
            Ok((effects, withheld))
        })?;
        Ok(Claim {
            token,
            effects,
            withheld,
        })
    }

    /// What the release effects among `effects` pay of claims instead of their merchant
    /// (see [`crate::claims`]): the payment adapter pays each of these to its consumer,
    /// and the release's amount less them to the merchant.
    pub fn withheld(&self, effects: &[OutboxEffect]) -> Result<Vec<Withheld>> {
        self.with_store(|store| store.withheld(&releases(effects)))
    }

    /// The claims `wallet`'s ending recorded on its merchant, with what the merchant's
    /// releases paid of them.
    pub fn claims_of(&self, wallet: &str) -> Result<Vec<ConsumerClaim>> {
        self.with_store(|store| store.claims_of(wallet))
    }

    /// Holds the payment rail's `statement` against the journal, the outbox and the claims
    /// the releases pay (see [`crate::reconcile`]).
    pub fn reconcile(&self, statement: &[crate::reconcile::StatementLine]) -> Result<crate::reconcile::Reconciliation> {
        self.with_store(|store| crate::reconcile::reconcile(store, statement))
    }

    /// Every dispute open in a wallet, ruling due soonest first: the regulator's queue.
    pub fn open_disputes(&self) -> Result<Vec<crate::disputes::QueuedDispute>> {
        self.with_store(|store| store.open_disputes())
    }

    /// Every claim not yet paid in full, oldest first: what merchants owe consumers.
    pub fn open_claims(&self) -> Result<Vec<ConsumerClaim>> {
        self.with_store(|store| store.open_claims())
    }

    /// Marks effects as carried out by the payment rail, each with the rail's reference
    /// when the adapter gives one, and says how many were acknowledged now and how many
    /// before (acknowledging again changes nothing). With `claim` (a token from
    /// [`Ledger::claim_effects`]) each effect must still be held by it; without, none may be
    /// under a live claim: otherwise [`Error::StaleClaim`]. An unknown id is
    /// [`Error::UnknownEffect`]; a malformed reference [`Error::BadReference`]; an effect
    /// acknowledged before under another reference [`Error::ReferenceDiffers`]. Any of them
    /// acknowledges nothing.
    pub fn ack_effects(&self, acks: &[Ack], claim: Option<&str>) -> Result<Acknowledged> {
        self.with_store(|store| store.ack_effects(acks, claim))
    }

    /// Runs `work` on a pooled connection (see [`Pool`]).
    pub(crate) fn with_store<T>(&self, work: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        self.pool.with(work)
    }

    /// The lock `wallet` maps to, held.
    pub(crate) fn lock_wallet(&self, wallet: &str) -> Result<MutexGuard<'_, ()>> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        wallet.hash(&mut hasher);
        let stripe = (hasher.finish() % WALLET_LOCKS as u64) as usize;
        // The lock guards no data, so one a panicking thread held is as good as any.
        Ok(self.wallet_locks[stripe]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

fn poisoned(what: &str) -> Error {
    Error::Fault(anyhow!("{what} was poisoned by a panicking thread"))
}
