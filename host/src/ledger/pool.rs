//! The ledger's connections to its store: reused, and bounded, so that however many
//! threads call in (a server's blocking pool runs hundreds), a process never holds more
//! than its share of the database's connections.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::{Store, StoreConfig};

/// How many connections a ledger opens at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;
/// How long a caller waits for a connection when all are in use before it is told the
/// host is busy.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// Idle connections and how many are open.
struct Slots {
    idle: Vec<Box<dyn Store>>,
    open: usize,
}

/// A bounded pool of connections to one store.
pub(crate) struct Pool {
    config: StoreConfig,
    max: usize,
    slots: Mutex<Slots>,
    freed: Condvar,
}

impl Pool {
    /// A pool over `config` holding `first`, opening at most `max` connections (at least 1).
    pub(crate) fn new(config: StoreConfig, first: Box<dyn Store>, max: usize) -> Pool {
        Pool {
            config,
            max: max.max(1),
            slots: Mutex::new(Slots {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
        }
    }

    /// The most connections this pool opens.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Opens at most `max` connections (at least 1) from now on.
    pub(crate) fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
    }

    /// Runs `work` on a connection: an idle one, a new one while fewer than the maximum
    /// are open, or else the next one freed. [`Error::Busy`] if none is freed in time.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        let mut lent = Lent {
            pool: self,
            store: Some(self.take()?),
        };
        work(lent.store.as_deref_mut().expect("held until dropped"))
    }

    /// Takes back `store` (or, when it is gone or broken, its slot) and wakes a waiter.
    fn give_back(&self, store: Option<Box<dyn Store>>) {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match store {
            Some(store) if !store.is_broken() => slots.idle.push(store),
            _ => slots.open -= 1,
        }
        drop(slots);
        self.freed.notify_one();
    }

    /// A connection of this pool's, now the caller's until given back.
    fn take(&self) -> Result<Box<dyn Store>> {
        // The slots are a count and a list, consistent at every unlock: a thread that
        // panicked holding the lock left them whole.
        let slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut slots, timeout) = self
            .freed
            .wait_timeout_while(slots, WAIT_FOR_CONNECTION, |slots| {
                slots.idle.is_empty() && slots.open >= self.max
            })
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = slots.idle.pop() {
            return Ok(store);
        }
        if timeout.timed_out() && slots.open >= self.max {
            return Err(Error::Busy(format!(
                "all {} connections to the store were in use for {}s",
                self.max,
                WAIT_FOR_CONNECTION.as_secs()
            )));
        }
        slots.open += 1;
        drop(slots);
        self.config.connect().inspect_err(|_| {
            self.slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .open -= 1;
            self.freed.notify_one();
        })
    }
}

/// A connection lent out, given back when dropped, even when the work on it panics: a
/// panic (which a server's blocking pool survives) must not keep a slot for good. A
/// connection whose work panicked is not reused, since it may be mid-transaction.
struct Lent<'a> {
    pool: &'a Pool,
    store: Option<Box<dyn Store>>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let store = self.store.take().filter(|_| !std::thread::panicking());
        self.pool.give_back(store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Work that panics on a connection gives its slot back: with one connection allowed,
    /// the next caller gets one at once instead of waiting to be told the host is busy.
    #[test]
    fn a_panic_in_the_work_does_not_keep_its_connection_slot() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig::Sqlite(dir.path().join("journal.db"));
        let pool = Pool::new(config.clone(), config.connect().unwrap(), 1);
        for _ in 0..3 {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pool.with(|_| -> Result<()> { panic!("the work fails") })
            }));
            assert!(panicked.is_err());
        }
        let started = std::time::Instant::now();
        pool.with(|store| store.wallets()).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "the slot was kept");
    }
}
