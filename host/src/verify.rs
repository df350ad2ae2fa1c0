//! Verification by replay: every wallet's entries are re-run, from the first, with the
//! component the wallet is pinned to, and every recorded figure is compared: the outcome
//! (effects or error), fuel, state hash and the hash chain. The first divergence of each
//! wallet is named. Wallets are replayed in parallel, on every core; each wallet in order.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::engine::{ContractEngine, WasmContract, LIMITS_VERSION};
use crate::outcome::sha256_hex;
use crate::raw_event::RawEvent;
use crate::rules::Rules;
use crate::store::{Entry, Store, WalletHead, GENESIS_HASH};

/// Where a journal and its replay disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The wallet (empty for a stored component).
    pub wallet: String,
    /// The entry's seq (0 for the wallet's head or a component).
    pub seq: u64,
    /// Which field differs.
    pub field: String,
    /// What the journal records.
    pub recorded: String,
    /// What replay (or recomputation) gives.
    pub replayed: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match (self.wallet.as_str(), self.seq) {
            ("", _) => "component".to_string(),
            (wallet, 0) => format!("wallet {wallet}, head"),
            (wallet, seq) => format!("wallet {wallet}, seq {seq}"),
        };
        write!(
            f,
            "{place}: {} differs: recorded {}, replay gives {}",
            self.field, self.recorded, self.replayed
        )
    }
}

/// What a verification found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The code hashes of the components the journal holds, each checked against its bytes.
    pub components: Vec<String>,
    /// Wallets replayed.
    pub wallets: usize,
    /// Entries replayed.
    pub entries: usize,
    /// The first divergence of each wallet that has one (and any bad component).
    pub divergences: Vec<Divergence>,
}

impl Report {
    /// Whether everything matched.
    pub fn is_clean(&self) -> bool {
        self.divergences.is_empty()
    }
}

/// Replays every wallet of `journal`.
pub fn verify(journal: &dyn Store) -> Result<Report> {
    verify_with_progress(journal, &ContractEngine::new()?, |_, _| {})
}

/// Replays every wallet of `journal` on `engine`, calling `progress(done, total)` after
/// each wallet.
pub fn verify_with_progress(
    journal: &dyn Store,
    engine: &ContractEngine,
    progress: impl FnMut(usize, usize),
) -> Result<Report> {
    verify_wallets(journal, engine, &journal.wallets()?, progress)
}

/// Replays `wallets` of `journal` on `engine` (and checks every stored component against
/// its code hash), calling `progress(done, total)` after each wallet. A wallet the journal
/// does not hold is an error.
pub fn verify_wallets(
    journal: &dyn Store,
    engine: &ContractEngine,
    wallets: &[String],
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let mut report = Report::default();
    let mut contracts = HashMap::new();
    for (code_hash, bytes) in journal.components()? {
        let actual = sha256_hex(&bytes);
        if actual != code_hash {
            report.divergences.push(Divergence {
                wallet: String::new(),
                seq: 0,
                field: "code_hash".into(),
                recorded: code_hash,
                replayed: actual,
            });
            continue;
        }
        contracts.insert(code_hash.clone(), Arc::new(engine.load(&bytes)?));
        report.components.push(code_hash);
    }
    // Wallets are independent: read a batch (the store is one connection), replay it on
    // every core, report in wallet order.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    for batch in wallets.chunks(VERIFY_BATCH) {
        let loaded = batch
            .iter()
            .map(|wallet| read_wallet(journal, wallet))
            .collect::<Result<Vec<_>>>()?;
        let replayed: Vec<Result<(usize, Option<Divergence>)>> = std::thread::scope(|scope| {
            let contracts = &contracts;
            let handles: Vec<_> = loaded
                .chunks(loaded.len().div_ceil(workers))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(head, entries)| replay_wallet(head, entries, contracts))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().expect("a verify worker panicked"))
                .collect()
        });
        for result in replayed {
            let (entries, divergence) = result?;
            report.wallets += 1;
            report.entries += entries;
            report.divergences.extend(divergence);
            progress(report.wallets, wallets.len());
        }
    }
    Ok(report)
}

/// Wallets read, then replayed in parallel, at a time.
const VERIFY_BATCH: usize = 256;

/// The head and entries of `wallet`.
fn read_wallet(journal: &dyn Store, wallet: &str) -> Result<(WalletHead, Vec<Entry>)> {
    let head = journal
        .wallet(wallet)?
        .with_context(|| format!("wallet {wallet} is not in the journal"))?;
    Ok((head, journal.entries(wallet)?))
}

/// Replays `wallet` of `journal` with `contract`, the component it is pinned to (already
/// compiled, as a server keeps it), after checking the stored bytes against its code hash.
pub fn verify_pinned(journal: &dyn Store, wallet: &str, contract: Arc<WasmContract>) -> Result<Report> {
    let code_hash = contract.code_hash().to_owned();
    let stored = journal.component(&code_hash)?.map(|bytes| sha256_hex(&bytes));
    let mut report = Report {
        wallets: 1,
        ..Report::default()
    };
    if stored.as_deref() != Some(code_hash.as_str()) {
        report.divergences.push(Divergence {
            wallet: String::new(),
            seq: 0,
            field: "code_hash".into(),
            recorded: code_hash,
            replayed: stored.unwrap_or_else(|| "no stored component".into()),
        });
        return Ok(report);
    }
    report.components.push(code_hash.clone());
    let (head, entries) = read_wallet(journal, wallet)?;
    let (entries, divergence) = replay_wallet(&head, &entries, &HashMap::from([(code_hash, contract)]))?;
    report.entries = entries;
    report.divergences.extend(divergence);
    Ok(report)
}

/// Replays one wallet; returns how many entries were replayed and the first divergence.
fn replay_wallet(
    head: &WalletHead,
    entries: &[Entry],
    contracts: &HashMap<String, Arc<WasmContract>>,
) -> Result<(usize, Option<Divergence>)> {
    let wallet = head.wallet.as_str();
    let mut state: Option<Vec<u8>> = None;
    let mut state_hash = sha256_hex(&[]);
    let mut prev_hash = GENESIS_HASH.to_string();
    for (index, entry) in entries.iter().enumerate() {
        let diverge = |field: &str, recorded: &dyn ToString, replayed: &dyn ToString| Divergence {
            wallet: wallet.into(),
            seq: entry.seq,
            field: field.into(),
            recorded: recorded.to_string(),
            replayed: replayed.to_string(),
        };
        let checks = [
            ("seq", entry.seq.to_string(), (index as u64 + 1).to_string()),
            // Fuel and traps depend on the limits: replay needs the version it was run under.
            ("limits", entry.limits.to_string(), LIMITS_VERSION.to_string()),
            ("prev_hash", entry.prev_hash.clone(), prev_hash.clone()),
            ("code_hash", entry.code_hash.clone(), head.code_hash.clone()),
        ];
        if let Some((field, recorded, replayed)) =
            checks.into_iter().find(|(_, recorded, replayed)| recorded != replayed)
        {
            return Ok((index, Some(diverge(field, &recorded, &replayed))));
        }
        let Some(contract) = contracts.get(&entry.code_hash) else {
            return Ok((
                index,
                Some(diverge(
                    "code_hash",
                    &entry.code_hash,
                    &"no stored component with this hash",
                )),
            ));
        };
        let replay = match replay_entry(contract, entry, state.as_deref())? {
            Ok(replay) => replay,
            Err(why) => return Ok((index, Some(diverge("event", &entry.event, &why)))),
        };
        let new_state = replay.state.or(state);
        let new_hash = new_state.as_deref().map_or(state_hash, sha256_hex);
        let checks = [
            ("outcome", &entry.outcome, &replay.outcome),
            ("fuel", &entry.fuel.to_string(), &replay.fuel.to_string()),
            ("state_hash", &entry.state_hash, &new_hash),
            ("entry_hash", &entry.entry_hash, &entry.compute_hash()),
        ];
        if let Some((field, recorded, replayed)) =
            checks.into_iter().find(|(_, recorded, replayed)| recorded != replayed)
        {
            return Ok((index, Some(diverge(field, recorded, replayed))));
        }
        state = new_state;
        state_hash = new_hash;
        prev_hash = entry.entry_hash.clone();
    }
    let head_checks = [
        ("seq", head.seq.to_string(), entries.len().to_string()),
        ("head_hash", head.head_hash.clone(), prev_hash),
        ("state_hash", head.state_hash.clone(), state_hash),
        (
            "state",
            head.state.as_deref().map_or_else(|| "none".into(), sha256_hex),
            state.as_deref().map_or_else(|| "none".into(), sha256_hex),
        ),
    ];
    let divergence = head_checks
        .into_iter()
        .find(|(_, recorded, replayed)| recorded != replayed)
        .map(|(field, recorded, replayed)| Divergence {
            wallet: wallet.into(),
            seq: 0,
            field: field.into(),
            recorded,
            replayed,
        });
    Ok((entries.len(), divergence))
}

/// What replaying one entry gives.
struct Replay {
    outcome: String,
    fuel: u64,
    state: Option<Vec<u8>>,
}

/// Re-runs `entry`'s event on `state`. The inner error says why the recorded event cannot
/// be replayed at all (a divergence, not a fault).
fn replay_entry(contract: &WasmContract, entry: &Entry, state: Option<&[u8]>) -> Result<Result<Replay, String>> {
    let raw = match RawEvent::parse(&entry.event) {
        Ok(raw) => raw,
        Err(error) => return Ok(Err(format!("an unreadable event ({error:#})"))),
    };
    if raw.wallet != entry.wallet || raw.id != entry.event_id || raw.at != entry.at {
        return Ok(Err("an event whose wallet, id or time differ from the entry's".into()));
    }
    let outcome = contract.apply(state, &raw.context()?, &raw.body())?;
    Ok(Ok(Replay {
        outcome: outcome.verdict.to_json(),
        fuel: outcome.fuel,
        state: outcome.state,
    }))
}
