//! A ledger many threads submit to at once: events of one wallet apply strictly in order,
//! events of different wallets in parallel. Each thread runs the contract on a connection
//! of its own; one writer thread journals what they produce, committing whatever has
//! arrived together (group commit), so threads waiting for the disk share one sync.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Mutex;
use std::thread::JoinHandle;

use anyhow::{anyhow, Result};

use crate::engine::ContractEngine;
use crate::journal::Journal;
use crate::ledger::{prepare, Contracts, Prepared, Submitted};
use crate::raw_event::RawEvent;
use crate::store::Store;

/// How many locks wallets are spread over: one wallet always maps to the same lock, so
/// its events serialize; memory stays bounded however many wallets there are.
const WALLET_LOCKS: usize = 1024;
/// The most entries one group commit takes.
const MAX_GROUP: usize = 256;

/// An entry for the writer, and where to send the result once it is on disk.
type Job = (Prepared, SyncSender<Result<Submitted>>);

/// A ledger that is `Sync`: share it (in an `Arc`) between threads and call
/// [`SharedLedger::submit`] from all of them.
pub struct SharedLedger {
    path: PathBuf,
    current: String,
    contracts: Contracts,
    readers: Mutex<Vec<Journal>>,
    wallet_locks: Vec<Mutex<()>>,
    writer: Option<(Sender<Job>, JoinHandle<()>)>,
}

impl SharedLedger {
    /// A shared ledger over the journal at `path` (created if missing), opening new wallets
    /// with the component `bytes` (registered like [`crate::ledger::Ledger::install`]).
    pub fn open(path: &Path, engine: ContractEngine, bytes: &[u8]) -> Result<SharedLedger> {
        let contract = engine.load(bytes)?;
        let current = contract.code_hash().to_owned();
        let mut journal = Journal::open(path)?;
        journal.put_component(&current, bytes)?;
        let (jobs, queue) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("prepaid-writer".into())
            .spawn(move || write(journal, queue))?;
        Ok(SharedLedger {
            path: path.to_path_buf(),
            contracts: Contracts::new(engine, contract),
            current,
            readers: Mutex::new(Vec::new()),
            wallet_locks: (0..WALLET_LOCKS).map(|_| Mutex::new(())).collect(),
            writer: Some((jobs, writer)),
        })
    }

    /// Applies one event, as [`crate::ledger::Ledger::submit`] does, waiting for any other
    /// event of the same wallet to finish first. Returns once the entry is on disk.
    pub fn submit(&self, raw: &RawEvent) -> Result<Submitted> {
        // Held until the entry is committed, so the next event of this wallet reads it.
        let _wallet = self.wallet_locks[stripe(&raw.wallet)]
            .lock()
            .map_err(|_| anyhow!("a wallet lock was poisoned"))?;
        let reader = self.reader()?;
        let prepared = prepare(&reader, Some(&self.current), raw, &mut |journal, code_hash| {
            self.contracts.get(journal, code_hash)
        });
        self.readers
            .lock()
            .map_err(|_| anyhow!("the connection pool was poisoned"))?
            .push(reader);
        let prepared = prepared?;
        if let Prepared::Recorded(submitted) = prepared {
            return Ok(submitted);
        }
        let (reply, result) = mpsc::sync_channel(1);
        let (jobs, _) = self
            .writer
            .as_ref()
            .expect("the writer runs until the ledger is dropped");
        jobs.send((prepared, reply))
            .map_err(|_| anyhow!("the journal writer has stopped"))?;
        result
            .recv()
            .map_err(|_| anyhow!("the journal writer stopped before committing"))?
    }

    /// A reading connection from the pool, or a new one.
    fn reader(&self) -> Result<Journal> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| anyhow!("the connection pool was poisoned"))?
            .pop();
        match pooled {
            Some(journal) => Ok(journal),
            None => Journal::open(&self.path),
        }
    }
}

impl Drop for SharedLedger {
    fn drop(&mut self) {
        if let Some((jobs, writer)) = self.writer.take() {
            drop(jobs);
            let _ = writer.join();
        }
    }
}

/// The writer: takes every entry waiting (up to [`MAX_GROUP`]), journals them in one
/// transaction and tells each submitter once it is committed. An entry that fails alone
/// (its savepoint rolls back) fails alone; a failed commit fails the whole group.
fn write(mut journal: Journal, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        group.extend(queue.try_iter().take(MAX_GROUP - 1));
        let mut replies = Vec::with_capacity(group.len());
        let committed = journal.batch(|journal| {
            for (prepared, reply) in group {
                replies.push((prepared.record(journal), reply));
            }
            Ok(())
        });
        for (result, reply) in replies {
            let result = match &committed {
                Ok(()) => result,
                Err(error) => Err(anyhow!("the group commit failed: {error:#}")),
            };
            // A submitter that gave up waiting has nothing to be told.
            let _ = reply.send(result);
        }
    }
}

/// The lock `wallet` maps to.
fn stripe(wallet: &str) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    wallet.hash(&mut hasher);
    (hasher.finish() % WALLET_LOCKS as u64) as usize
}
