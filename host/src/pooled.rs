//! A ledger over a pool of store connections, for servers: any number of threads (and,
//! on a shared store, processes) submit at once; the store orders each wallet's entries,
//! and a submission that loses a race for its wallet's next seq runs again on the new head.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, Result};

use crate::engine::ContractEngine;
use crate::ledger::{prepare, Contracts, Submitted};
use crate::outcome::WalletView;
use crate::raw_event::RawEvent;
use crate::rules::Rules;
use crate::store::{Conflict, Entry, OutboxEffect, Store, WalletHead};
use crate::verify::{verify_pinned, Report};

/// How often a submission re-runs after losing its wallet's race before it gives up: each
/// loss means another writer made progress on the same wallet, so this bounds the wait
/// only under a storm of writers on one wallet.
const MAX_ATTEMPTS: usize = 64;

/// Opens a new connection to the store.
pub type Connect = Box<dyn Fn() -> Result<Box<dyn Store>> + Send + Sync>;

/// Wallets over a store shared by many threads.
pub struct PooledLedger {
    connect: Connect,
    current: String,
    contracts: Contracts,
    idle: Mutex<Vec<Box<dyn Store>>>,
    conflicts: AtomicU64,
    write_gate: Mutex<()>,
}

impl PooledLedger {
    /// A ledger over the store `connect` opens, registering `component` and opening new
    /// wallets with it.
    pub fn open(connect: Connect, engine: ContractEngine, component: &[u8]) -> Result<PooledLedger> {
        let contract = engine.load(component)?;
        let current = contract.code_hash().to_owned();
        let mut store = connect()?;
        store.put_component(&current, component)?;
        Ok(PooledLedger {
            connect,
            contracts: Contracts::new(engine, contract),
            current,
            idle: Mutex::new(vec![store]),
            conflicts: AtomicU64::new(0),
            write_gate: Mutex::new(()),
        })
    }

    /// The code hash new wallets are opened with.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Runs `work` on a pooled connection (opening one if none is idle). A connection
    /// the store reports broken is dropped rather than reused.
    fn with_store<T>(&self, work: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        let pooled = self
            .idle
            .lock()
            .map_err(|_| anyhow!("the connection pool was poisoned"))?
            .pop();
        let mut store = match pooled {
            Some(store) => store,
            None => (self.connect)()?,
        };
        let result = work(store.as_mut());
        if !store.is_broken() {
            self.idle
                .lock()
                .map_err(|_| anyhow!("the connection pool was poisoned"))?
                .push(store);
        }
        result
    }

    /// Applies one event as [`crate::ledger::Ledger::submit`] does; safe to call from
    /// any thread, and from processes sharing the store.
    pub fn submit(&self, raw: &RawEvent) -> Result<Submitted> {
        for attempt in 0.. {
            let result = self.with_store(|store| {
                // The contract runs outside the gate; only the append waits for it.
                let prepared = prepare(store, Some(&self.current), raw, &mut |store, code_hash| {
                    self.contracts.get(store, code_hash)
                })?;
                let _gate = match store.one_writer_at_a_time() {
                    true => Some(
                        self.write_gate
                            .lock()
                            .map_err(|_| anyhow!("the write gate was poisoned"))?,
                    ),
                    false => None,
                };
                prepared.record(store)
            });
            match result {
                Err(error) if error.downcast_ref::<Conflict>().is_some() && attempt + 1 < MAX_ATTEMPTS => {
                    self.conflicts.fetch_add(1, Ordering::Relaxed);
                    // Let the winner's neighbours through before trying again.
                    std::thread::sleep(Duration::from_micros(50 << attempt.min(6)));
                }
                result => return result,
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// How many submissions lost their wallet's race to another writer and ran again.
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// The head of `wallet`.
    pub fn head(&self, wallet: &str) -> Result<Option<WalletHead>> {
        self.with_store(|store| store.wallet(wallet))
    }

    /// The head of `wallet` and its figures through its pinned component (none before it
    /// is open); `None` if the wallet does not exist.
    pub fn view(&self, wallet: &str) -> Result<Option<(WalletHead, Option<WalletView>)>> {
        self.with_store(|store| {
            let Some(head) = store.wallet(wallet)? else {
                return Ok(None);
            };
            let view = match &head.state {
                None => None,
                Some(state) => Some(self.contracts.get(store, &head.code_hash)?.view(state)?),
            };
            Ok(Some((head, view)))
        })
    }

    /// Every entry of `wallet`, in order.
    pub fn entries(&self, wallet: &str) -> Result<Vec<Entry>> {
        self.with_store(|store| store.entries(wallet))
    }

    /// Replays `wallet` from its first entry; `None` if the wallet does not exist.
    pub fn verify(&self, wallet: &str) -> Result<Option<Report>> {
        self.with_store(|store| match store.wallet(wallet)? {
            None => Ok(None),
            Some(head) => verify_pinned(store, wallet, self.contracts.get(store, &head.code_hash)?).map(Some),
        })
    }

    /// Up to `limit` unacknowledged effects.
    pub fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>> {
        self.with_store(|store| store.pending_effects(limit))
    }

    /// Claims up to `limit` effects for `claimant` for `lease`.
    pub fn claim_effects(&self, claimant: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEffect>> {
        self.with_store(|store| store.claim_effects(claimant, limit, lease))
    }

    /// Acknowledges effects.
    pub fn ack_effects(&self, effect_ids: &[String]) -> Result<()> {
        self.with_store(|store| store.ack_effects(effect_ids))
    }
}
