//! Many threads hammering the same and different wallets end with exactly the journal a
//! single thread writes: per wallet, events apply strictly in order, each once.

use std::sync::Arc;

use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store;
use prepaid_host::testkit::workload::standard_mix;
use prepaid_tests::{ledger_in, verify};

#[test]
fn threads_hammering_wallets_end_with_the_sequential_journal() {
    const THREADS: usize = 8;
    const WALLETS: usize = 40;
    let events = standard_mix(WALLETS).unwrap();

    let sequential_dir = tempfile::tempdir().unwrap();
    let sequential = ledger_in(sequential_dir.path());
    for raw in &events {
        sequential.submit(raw).unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let shared = Arc::new(ledger_in(dir.path()));
    // Every thread submits every event, each wallet's in order, starting from a different
    // wallet: the same wallet is hit by several threads at once, different wallets run in
    // parallel, and every event but the first copy is a re-submission.
    let per_wallet = events.len() / WALLETS;
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (shared, events) = (shared.clone(), events.clone());
            std::thread::spawn(move || {
                for wallet in 0..WALLETS {
                    let wallet = (wallet + thread * WALLETS / THREADS) % WALLETS;
                    for raw in &events[wallet * per_wallet..(wallet + 1) * per_wallet] {
                        shared.submit(raw).unwrap();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }

    let concurrent = SqliteStore::open(&path).unwrap();
    let expected = SqliteStore::open(&sequential_dir.path().join("journal.db")).unwrap();
    assert_eq!(concurrent.wallets().unwrap(), expected.wallets().unwrap());
    for wallet in expected.wallets().unwrap() {
        assert_eq!(
            concurrent.entries(&wallet).unwrap(),
            expected.entries(&wallet).unwrap(),
            "wallet {wallet}"
        );
        assert_eq!(
            concurrent.wallet(&wallet).unwrap(),
            expected.wallet(&wallet).unwrap(),
            "wallet {wallet}"
        );
    }
    assert_eq!(
        concurrent.pending_effects(usize::MAX).unwrap(),
        expected.pending_effects(usize::MAX).unwrap()
    );
    assert!(verify(&concurrent).unwrap().is_clean());
}
