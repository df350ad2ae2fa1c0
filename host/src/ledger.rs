//! The ledger: applies events to wallets through the component each wallet is pinned to,
//! and journals every outcome.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context as _, Result};

use crate::engine::{ContractEngine, WasmContract, LIMITS_VERSION};
use crate::journal::Journal;
use crate::outcome::{sha256_hex, Verdict, WalletView};
use crate::raw_event::RawEvent;
use crate::rules::Rules;
use crate::store::{Entry, Store, WalletHead, GENESIS_HASH};

/// Why an event was refused before it reached the contract. Nothing is recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `bad_envelope`, `unknown_wallet` or `event_id_reused`.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}

fn refuse<T>(code: &'static str, message: String) -> Result<T> {
    Err(Refusal { code, message }.into())
}

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

/// Wallets over a journal, run by pinned contract components.
pub struct Ledger {
    journal: Journal,
    engine: ContractEngine,
    contracts: HashMap<String, Arc<WasmContract>>,
    current: Option<String>,
}

impl Ledger {
    /// A ledger over the journal at `path` (created if missing).
    pub fn open(path: &Path) -> Result<Ledger> {
        Ledger::with_engine(path, ContractEngine::new()?)
    }

    /// A ledger over the journal at `path` running components on `engine` (for example
    /// one with an artifact cache).
    pub fn with_engine(path: &Path, engine: ContractEngine) -> Result<Ledger> {
        Ok(Ledger {
            journal: Journal::open(path)?,
            engine,
            contracts: HashMap::new(),
            current: None,
        })
    }

    /// The engine that runs the components.
    pub fn engine(&self) -> &ContractEngine {
        &self.engine
    }

    /// The journal underneath.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Registers a component (checking its imports) and makes it the code that new
    /// wallets are opened with. Returns its code hash. Existing wallets keep theirs.
    pub fn install(&mut self, bytes: &[u8]) -> Result<String> {
        let contract = self.engine.load(bytes)?;
        let code_hash = contract.code_hash().to_owned();
        self.journal.put_component(&code_hash, bytes)?;
        self.contracts.insert(code_hash.clone(), Arc::new(contract));
        self.current = Some(code_hash.clone());
        Ok(code_hash)
    }

    /// The compiled component with `code_hash`, loaded from the journal on first use.
    fn contract(&mut self, code_hash: &str) -> Result<Arc<WasmContract>> {
        cached_contract(&self.engine, &mut self.contracts, &self.journal, code_hash)
    }

    /// Applies one event and journals its outcome. A malformed envelope, an event for an
    /// unknown wallet other than `open`, or a reused event id with different content is
    /// an error and records nothing; a re-submitted event returns its recorded outcome.
    pub fn submit(&mut self, raw: &RawEvent) -> Result<Submitted> {
        let (engine, contracts) = (&self.engine, &mut self.contracts);
        submit_to(
            &mut self.journal,
            self.current.as_deref(),
            raw,
            &mut |journal, code_hash| cached_contract(engine, contracts, journal, code_hash),
        )
    }

    /// Applies `events` in order as [`Ledger::submit`] does, committing them together
    /// (group commit): a refused event gets its refusal and the others go on; a host fault
    /// rolls the whole batch back.
    pub fn submit_batch(&mut self, events: &[RawEvent]) -> Result<Vec<Result<Submitted>>> {
        let (engine, contracts, current) = (&self.engine, &mut self.contracts, self.current.as_deref());
        self.journal.batch(|journal| {
            let mut results = Vec::with_capacity(events.len());
            for raw in events {
                let result = submit_to(journal, current, raw, &mut |journal, code_hash| {
                    cached_contract(engine, contracts, journal, code_hash)
                });
                match result {
                    Err(error) if error.downcast_ref::<Refusal>().is_none() => return Err(error),
                    result => results.push(result),
                }
            }
            Ok(results)
        })
    }

    /// The figures of `wallet`, through its pinned component; none before it is open.
    pub fn view(&mut self, wallet: &str) -> Result<Option<WalletView>> {
        let Some(head) = self.journal.wallet(wallet)? else {
            bail!("wallet {wallet} does not exist");
        };
        match &head.state {
            None => Ok(None),
            Some(state) => self.contract(&head.code_hash)?.view(state).map(Some),
        }
    }
}

/// The compiled component with `code_hash` from `contracts`, compiled from `journal` and
/// kept there on first use.
fn cached_contract(
    engine: &ContractEngine,
    contracts: &mut HashMap<String, Arc<WasmContract>>,
    journal: &dyn Store,
    code_hash: &str,
) -> Result<Arc<WasmContract>> {
    if !contracts.contains_key(code_hash) {
        contracts.insert(code_hash.to_owned(), Arc::new(load_stored(engine, journal, code_hash)?));
    }
    Ok(contracts[code_hash].clone())
}

/// Compiled components by code hash, for ledgers that threads share: each is compiled from
/// the store on first use and kept.
pub(crate) struct Contracts {
    engine: ContractEngine,
    loaded: RwLock<HashMap<String, Arc<WasmContract>>>,
}

impl Contracts {
    /// The cache of `engine`'s components, holding `first` already.
    pub(crate) fn new(engine: ContractEngine, first: WasmContract) -> Contracts {
        let loaded = HashMap::from([(first.code_hash().to_owned(), Arc::new(first))]);
        Contracts {
            engine,
            loaded: RwLock::new(loaded),
        }
    }

    /// The compiled component with `code_hash`, compiled from `store` on first use.
    pub(crate) fn get(&self, store: &dyn Store, code_hash: &str) -> Result<Arc<WasmContract>> {
        let poisoned = || anyhow::anyhow!("the contracts were poisoned");
        if let Some(contract) = self.loaded.read().map_err(|_| poisoned())?.get(code_hash) {
            return Ok(contract.clone());
        }
        let contract = Arc::new(load_stored(&self.engine, store, code_hash)?);
        let mut loaded = self.loaded.write().map_err(|_| poisoned())?;
        Ok(loaded.entry(code_hash.to_owned()).or_insert(contract).clone())
    }
}

/// Compiles the component stored in `journal` under `code_hash`.
pub(crate) fn load_stored(engine: &ContractEngine, journal: &dyn Store, code_hash: &str) -> Result<WasmContract> {
    let bytes = journal
        .component(code_hash)?
        .with_context(|| format!("no component with code hash {code_hash} is stored"))?;
    engine.load(&bytes)
}

/// Gives the compiled component for a code hash, loading it from the store if need be.
pub(crate) type ContractFor<'a> = dyn FnMut(&dyn Store, &str) -> Result<Arc<WasmContract>> + 'a;

/// Applies one event to its wallet through `journal` (see [`prepare`]) and journals it.
/// The caller makes sure no other submission for the same wallet runs meanwhile.
pub(crate) fn submit_to(
    journal: &mut dyn Store,
    current: Option<&str>,
    raw: &RawEvent,
    contract_for: &mut ContractFor<'_>,
) -> Result<Submitted> {
    prepare(journal, current, raw, contract_for)?.record(journal)
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
    /// Journals a new entry (in one transaction, or the open batch's).
    pub(crate) fn record(self, journal: &mut dyn Store) -> Result<Submitted> {
        match self {
            Prepared::Recorded(submitted) => Ok(submitted),
            Prepared::New { entry, state, verdict } => {
                journal.append(&entry, state.as_deref(), &verdict.effects)?;
                Ok(Submitted {
                    entry,
                    verdict,
                    replayed: false,
                })
            }
        }
    }
}

/// Runs one event against its wallet's head in `journal`: the recorded outcome for a
/// re-submitted event, else the outcome of the contract `contract_for` gives for the
/// wallet's pinned code hash (`current` for a new wallet), as the entry to journal.
pub(crate) fn prepare(
    journal: &dyn Store,
    current: Option<&str>,
    raw: &RawEvent,
    contract_for: &mut ContractFor<'_>,
) -> Result<Prepared> {
    let ctx = match raw.context() {
        Ok(ctx) => ctx,
        Err(error) => return refuse("bad_envelope", format!("{error:#}")),
    };
    let event_json = raw.to_json();
    if let Some(entry) = journal.entry_by_event_id(&raw.wallet, &raw.id)? {
        if entry.event != event_json {
            return refuse(
                "event_id_reused",
                format!(
                    "event id {} of wallet {} was already used for a different event; use a new id",
                    raw.id, raw.wallet
                ),
            );
        }
        let verdict = serde_json::from_str(&entry.outcome).context("reading a recorded outcome")?;
        return Ok(Prepared::Recorded(Submitted {
            entry,
            verdict,
            replayed: true,
        }));
    }
    let head = match journal.wallet(&raw.wallet)? {
        Some(head) => head,
        None if raw.event.get("type").and_then(|kind| kind.as_str()) == Some("open") => WalletHead {
            wallet: raw.wallet.clone(),
            code_hash: current.context("no contract component is installed")?.to_owned(),
            seq: 0,
            state: None,
            state_hash: sha256_hex(&[]),
            head_hash: GENESIS_HASH.into(),
        },
        None => {
            return refuse(
                "unknown_wallet",
                format!("wallet {} does not exist; open it first", raw.wallet),
            )
        }
    };
    let outcome = contract_for(journal, &head.code_hash)?.apply(head.state.as_deref(), &ctx, &raw.body())?;
    let state = outcome.state.clone().or(head.state);
    let mut entry = Entry {
        wallet: raw.wallet.clone(),
        seq: head.seq + 1,
        event_id: raw.id.clone(),
        event: event_json,
        at: raw.at.clone(),
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
