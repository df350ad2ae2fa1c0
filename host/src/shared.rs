//! A ledger many threads submit to at once: events of one wallet apply strictly in order,
//! events of different wallets in parallel (the contract runs concurrently; SQLite
//! serializes the commits). Each thread borrows a connection of its own from a pool.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{anyhow, Result};

use crate::engine::{ContractEngine, WasmContract};
use crate::journal::Journal;
use crate::ledger::{load_stored, submit_to, Submitted};
use crate::raw_event::RawEvent;

/// How many locks wallets are spread over: one wallet always maps to the same lock, so
/// its events serialize; memory stays bounded however many wallets there are.
const WALLET_LOCKS: usize = 1024;

/// A ledger that is `Sync`: share it (in an `Arc`) between threads and call
/// [`SharedLedger::submit`] from all of them.
pub struct SharedLedger {
    path: PathBuf,
    engine: ContractEngine,
    current: String,
    contracts: RwLock<HashMap<String, Arc<WasmContract>>>,
    connections: Mutex<Vec<Journal>>,
    wallet_locks: Vec<Mutex<()>>,
}

impl SharedLedger {
    /// A shared ledger over the journal at `path` (created if missing), opening new wallets
    /// with the component `bytes` (registered like [`crate::ledger::Ledger::install`]).
    pub fn open(path: &Path, engine: ContractEngine, bytes: &[u8]) -> Result<SharedLedger> {
        let contract = engine.load(bytes)?;
        let current = contract.code_hash().to_owned();
        let journal = Journal::open(path)?;
        journal.put_component(&current, bytes)?;
        Ok(SharedLedger {
            path: path.to_path_buf(),
            engine,
            contracts: RwLock::new(HashMap::from([(current.clone(), Arc::new(contract))])),
            current,
            connections: Mutex::new(vec![journal]),
            wallet_locks: (0..WALLET_LOCKS).map(|_| Mutex::new(())).collect(),
        })
    }

    /// Applies one event, as [`crate::ledger::Ledger::submit`] does, waiting for any other
    /// event of the same wallet to finish first.
    pub fn submit(&self, raw: &RawEvent) -> Result<Submitted> {
        let _wallet = self.wallet_locks[stripe(&raw.wallet)]
            .lock()
            .map_err(|_| anyhow!("a wallet lock was poisoned"))?;
        let mut journal = self.connection()?;
        let result = submit_to(&mut journal, Some(&self.current), raw, &mut |journal, code_hash| {
            self.contract(journal, code_hash)
        });
        self.connections
            .lock()
            .map_err(|_| anyhow!("the connection pool was poisoned"))?
            .push(journal);
        result
    }

    /// A connection from the pool, or a new one.
    fn connection(&self) -> Result<Journal> {
        let pooled = self
            .connections
            .lock()
            .map_err(|_| anyhow!("the connection pool was poisoned"))?
            .pop();
        match pooled {
            Some(journal) => Ok(journal),
            None => Journal::open(&self.path),
        }
    }

    /// The compiled component with `code_hash`, loaded on first use.
    fn contract(&self, journal: &Journal, code_hash: &str) -> Result<Arc<WasmContract>> {
        if let Some(contract) = self
            .contracts
            .read()
            .map_err(|_| anyhow!("the contracts were poisoned"))?
            .get(code_hash)
        {
            return Ok(contract.clone());
        }
        let contract = Arc::new(load_stored(&self.engine, journal, code_hash)?);
        let mut contracts = self
            .contracts
            .write()
            .map_err(|_| anyhow!("the contracts were poisoned"))?;
        Ok(contracts.entry(code_hash.to_owned()).or_insert(contract).clone())
    }
}

/// The lock `wallet` maps to.
fn stripe(wallet: &str) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    wallet.hash(&mut hasher);
    (hasher.finish() % WALLET_LOCKS as u64) as usize
}
