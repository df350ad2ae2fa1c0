//! A test kit for contract authors: drive the real component from Rust tests in a few
//! lines, with named dev actors, a controllable clock, and assertions on effects, views,
//! errors and fuel whose failures say what happened.
//!
//! ```no_run
//! use prepaid_host::testkit::TestKit;
//! use serde_json::json;
//!
//! let mut kit = TestKit::new(); // the component under test, a temporary journal
//! kit.open("w1", "alice", "clinic",
//!     json!({"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"}),
//!     json!({"cooling_off_days": 15, "deemed_confirm_days": 0}))
//!     .assert_ok();
//! kit.advance_days(7);
//! kit.send("w1", "clinic", json!({"type": "request", "request": "r1", "units": 1})).assert_ok();
//! kit.send("w1", "clinic", json!({"type": "authorize", "request": "r1", "units": 1})).assert_error("bad_signature");
//! kit.send("w1", "alice", json!({"type": "authorize", "request": "r1", "units": 1}))
//!     .assert_effects(&[("release", "clinic", "240.00")]);
//! assert_eq!(kit.view("w1").frozen, "2160.00");
//! kit.assert_verifies();
//! ```
//!
//! Also here: [`scenario`] files, their golden traces ([`snapshot`]) and the standard
//! [`workload`] the benchmarks measure.

pub mod scenario;
pub mod snapshot;
pub mod workload;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::clock::Clock;
use crate::engine::ContractEngine;
use crate::keys::{dev_key, public_key};
use crate::ledger::Funding;
use crate::ledger::Ledger;
use crate::outcome::WalletView;
use crate::store::StoreConfig;
use crate::testkit::scenario::{submit_step, Step, StepReport};

/// The regulator whose approval [`TestKit::open`] adds.
pub const REGULATOR: &str = "regulator";

/// Wallets on the real component over a temporary journal, with a clock the test moves.
pub struct TestKit {
    ledger: Ledger,
    now: i64,
    actors: BTreeMap<String, String>,
    events: BTreeMap<String, usize>,
    steps: usize,
    _journal: TempDir,
}

/// What one event did, with assertions that fail readably.
#[derive(Clone, Debug)]
pub struct Sent(pub StepReport);

impl TestKit {
    /// A kit on the component in `PREPAID_COMPONENT`, or the one `cargo xtask contract`
    /// builds. Panics, saying how to build it, when there is none.
    pub fn new() -> TestKit {
        let path = crate::component_path();
        let bytes = std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "cannot read the contract component {} ({error}); build it with `cargo xtask contract`",
                path.display()
            )
        });
        TestKit::with_component(&bytes)
    }

    /// A kit on the component `bytes`. The clock starts at 2026-01-01T00:00:00Z. When
    /// `PREPAID_CACHE` names a folder, compiled components are kept there (as `prepaid`
    /// keeps them), so a test run compiles each version of the rules once.
    pub fn with_component(bytes: &[u8]) -> TestKit {
        let journal = tempfile::tempdir().expect("creating a temporary journal");
        let mut engine = ContractEngine::new().expect("configuring the engine");
        if let Some(cache) = std::env::var_os("PREPAID_CACHE") {
            engine = engine
                .with_cache(std::path::Path::new(&cache))
                .unwrap_or_else(|error| panic!("the artifact cache PREPAID_CACHE names: {error:#}"));
        }
        let ledger = Ledger::open(StoreConfig::Sqlite(journal.path().join("journal.db")), engine)
            .expect("opening the journal")
            // The kit's clock: each event carries the time the test set; and its opens say
            // whether they are paid.
            .with_clock(Clock::Scripted)
            .with_funding(Funding::Declared);
        ledger.install(bytes).expect("installing the component");
        TestKit {
            ledger,
            now: 1_767_225_600,
            actors: BTreeMap::new(),
            events: BTreeMap::new(),
            steps: 0,
            _journal: journal,
        }
    }

    /// Sets the clock to an RFC 3339 UTC time.
    #[track_caller]
    pub fn set_time(&mut self, at: &str) -> &mut TestKit {
        self.now = crate::envelope::timestamp(at).unwrap_or_else(|error| panic!("{error:#}"));
        self
    }

    /// Moves the clock forward by `days` days.
    pub fn advance_days(&mut self, days: i64) -> &mut TestKit {
        self.advance_seconds(days * 86_400)
    }

    /// Moves the clock by `seconds` (negative to test time going backwards).
    pub fn advance_seconds(&mut self, seconds: i64) -> &mut TestKit {
        self.now += seconds;
        self
    }

    /// Opens `wallet`: `consumer` buys `product` from `merchant` under `policy`, approved
    /// by [`REGULATOR`].
    #[track_caller]
    pub fn open(&mut self, wallet: &str, consumer: &str, merchant: &str, product: Value, policy: Value) -> Sent {
        let event = json!({"type": "open", "consumer": consumer, "merchant": merchant, "regulator": REGULATOR,
                           "product": product, "policy": policy});
        self.send(wallet, consumer, event)
    }

    /// Sends `event` (actors by name, as in scenario files) to `wallet`, signed by `by`.
    #[track_caller]
    pub fn send(&mut self, wallet: &str, by: &str, event: Value) -> Sent {
        self.submit(wallet, Some(by), event)
    }

    /// Lets time pass on `wallet` at the current clock (an unsigned `tick`).
    #[track_caller]
    pub fn tick(&mut self, wallet: &str) -> Sent {
        self.submit(wallet, None, json!({"type": "tick"}))
    }

    /// The figures of `wallet`; panics if it has no accepted `open`.
    #[track_caller]
    pub fn view(&mut self, wallet: &str) -> WalletView {
        let view = self.ledger.view(wallet).unwrap_or_else(|error| panic!("{error:#}"));
        let view = view.unwrap_or_else(|| panic!("wallet {wallet} is not open"));
        WalletView {
            consumer: self.name_of(view.consumer),
            merchant: self.name_of(view.merchant),
            ..view
        }
    }

    /// Replays the journal with the pinned component; panics naming the first divergence.
    #[track_caller]
    pub fn assert_verifies(&self) {
        let report = self.ledger.verify().unwrap_or_else(|error| panic!("{error:#}"));
        if let Some(divergence) = report.divergences.first() {
            panic!("the journal does not verify: {divergence}");
        }
    }

    /// The ledger underneath, for anything the kit does not cover.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn name_of(&self, key: String) -> String {
        self.actors.get(&key).cloned().unwrap_or(key)
    }

    #[track_caller]
    fn submit(&mut self, wallet: &str, by: Option<&str>, event: Value) -> Sent {
        let count = self.events.entry(wallet.to_owned()).or_default();
        let id = format!("{wallet}-{count}");
        *count += 1;
        let step = Step {
            at: crate::envelope::rfc3339(self.now).expect("the clock is in range"),
            wallet: wallet.to_owned(),
            by: Some(by.map(str::to_owned)),
            event,
            id: Some(id),
            expect: None,
        };
        for name in step.actor_names() {
            self.actors
                .insert(public_key(&dev_key(name)).to_string(), name.to_owned());
        }
        let raw = step.raw_event(self.steps).unwrap_or_else(|error| panic!("{error:#}"));
        let report =
            submit_step(&self.ledger, self.steps, &raw, &self.actors).unwrap_or_else(|error| panic!("{error:#}"));
        self.steps += 1;
        Sent(report)
    }
}

impl Default for TestKit {
    fn default() -> TestKit {
        TestKit::new()
    }
}

impl Sent {
    fn describe(&self) -> String {
        let report = &self.0;
        match &report.error {
            Some(error) => format!(
                "event {} was rejected: {}: {}",
                report.event_id, error.code, error.message
            ),
            None => format!(
                "event {} was accepted with effects {:?}",
                report.event_id, report.effects
            ),
        }
    }

    /// Panics unless the event was accepted.
    #[track_caller]
    pub fn assert_ok(&self) -> &Sent {
        assert!(self.0.ok, "{}", self.describe());
        self
    }

    /// Panics unless the event was rejected with `code`.
    #[track_caller]
    pub fn assert_error(&self, code: &str) -> &Sent {
        let got = self.0.error.as_ref().map(|error| error.code.as_str());
        assert_eq!(got, Some(code), "expected the error {code}, but {}", self.describe());
        self
    }

    /// Panics unless the event was accepted with exactly these effects, as
    /// `(kind, recipient, amount)`.
    #[track_caller]
    pub fn assert_effects(&self, expected: &[(&str, &str, &str)]) -> &Sent {
        self.assert_ok();
        let got: Vec<(&str, &str, &str)> = self
            .0
            .effects
            .iter()
            .map(|effect| (effect.kind.as_str(), effect.to.as_str(), effect.amount.as_str()))
            .collect();
        assert_eq!(got, expected, "the effects of event {} differ", self.0.event_id);
        self
    }

    /// The wallet's figures after the event (none before an accepted `open`).
    pub fn view(&self) -> Option<&WalletView> {
        self.0.view.as_ref()
    }

    /// Fuel the contract used (none for an event refused before the contract).
    pub fn fuel(&self) -> Option<u64> {
        self.0.fuel
    }
}
