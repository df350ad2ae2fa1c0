//! Helpers for the end-to-end tests: the real contract component, the scenario files and
//! fresh ledgers over temporary journals.

use std::path::{Path, PathBuf};

use prepaid_host::ledger::Ledger;
use prepaid_host::raw_event::RawEvent;
use prepaid_host::scenario::Scenario;

/// The contract component under test: `PREPAID_COMPONENT`, or what `cargo xtask contract`
/// builds.
pub fn component_path() -> PathBuf {
    std::env::var_os("PREPAID_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/contract/prepaid_contract.wasm"))
}

/// The component's bytes. Panics with the command that builds it when it is missing.
pub fn component_bytes() -> Vec<u8> {
    let path = component_path();
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read the contract component {} ({error}); run `cargo xtask test`, which builds it",
            path.display()
        )
    })
}

/// The misbehaving test component `name` (`panic`, `spin`, `memory`, `recursion`) that
/// `cargo xtask guests` builds into `PREPAID_GUESTS` (default: target/guests).
pub fn guest_bytes(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("PREPAID_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read the test guest {} ({error}); run `cargo xtask test`, which builds it",
            path.display()
        )
    })
}

/// Every scenario file under tests/scenarios/, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// A ledger over a new journal in `dir`, with the component under test installed.
pub fn ledger_in(dir: &Path) -> Ledger {
    let mut ledger = Ledger::open(&dir.join("journal.db")).expect("opening a journal");
    ledger.install(&component_bytes()).expect("installing the component");
    ledger
}

/// The signed `open` of wallet `w1`: alice buys ten sessions from gym for 1000.00 (list
/// price 120.00), approved by city, at 2026-01-05T09:00:00Z.
pub fn sessions_open() -> RawEvent {
    let scenario = Scenario::parse(
        r#"{"name": "open", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}}
        ]}"#,
    )
    .expect("a valid scenario");
    scenario.raw_events().expect("signable events").remove(0)
}

/// A fresh, empty database on the test PostgreSQL server, as a URL. The server's admin URL
/// is `PREPAID_TEST_POSTGRES`, which `cargo xtask test` sets after starting one; without it
/// the test fails, saying so, rather than skipping.
pub fn fresh_postgres() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("PREPAID_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PREPAID_TEST_POSTGRES is not set: run the tests with `cargo xtask test`, which starts a \
             PostgreSQL server for them, or point it at one (postgres://user@host:port/db)"
        )
    });
    let name = format!(
        "prepaid_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    prepaid_host::postgres::create_database(&admin, &name).expect("creating a test database")
}

/// Opens connections to a store: the `PooledLedger`'s way.
pub type Connect = prepaid_host::pooled::Connect;

/// Connections to a new SQLite journal in `dir`.
pub fn sqlite_store(dir: &Path) -> Connect {
    let path = dir.join("journal.db");
    Box::new(move || Ok(Box::new(prepaid_host::journal::Journal::open(&path)?) as Box<dyn prepaid_host::store::Store>))
}

/// Connections to a new PostgreSQL database (see [`fresh_postgres`]).
pub fn postgres_store() -> Connect {
    let url = fresh_postgres();
    Box::new(move || {
        Ok(Box::new(prepaid_host::postgres::PgStore::connect(&url)?) as Box<dyn prepaid_host::store::Store>)
    })
}

/// The raw events of a scenario given as JSON (signed with the actors' dev keys).
pub fn scenario_events(json: &str) -> Vec<RawEvent> {
    Scenario::parse(json)
        .expect("a valid scenario")
        .raw_events()
        .expect("signable events")
}
