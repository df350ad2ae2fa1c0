//! Verification by replay: every wallet's entries are re-run, from the first, with the
//! component the wallet is pinned to, and every recorded figure is compared: the outcome
//! (effects or error), fuel, state hash and the hash chain. The first divergence of each
//! wallet is named. Wallets are replayed in parallel, on every core; each wallet in order.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use serde::Serialize;

use crate::engine::{WasmContract, LIMITS_VERSION};
use crate::envelope::Envelope;
use crate::error::Result;
use crate::ledger::Contracts;
use crate::outcome::sha256_hex;
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
        // Recorded values are whatever the journal holds: control characters are shown
        // escaped, so that a crafted value cannot redraw the auditor's terminal.
        write!(
            f,
            "{}: {} differs: recorded {}, replay gives {}",
            printable(&place),
            self.field,
            printable(&self.recorded),
            printable(&self.replayed)
        )
    }
}

/// `text` with control characters escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c.is_control() {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
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

/// Replays every wallet of `store`, compiling components through `contracts`.
pub fn verify(store: &dyn Store, contracts: &Contracts) -> Result<Report> {
    verify_with_progress(store, contracts, |_, _| {})
}

/// Replays every wallet of `store`, calling `progress(done, total)` after each wallet.
/// Every stored component is checked against its code hash, pinned or not.
pub fn verify_with_progress(
    store: &dyn Store,
    contracts: &Contracts,
    progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let components = store
        .components()?
        .into_iter()
        .map(|(code_hash, _)| code_hash)
        .collect();
    replay(store, contracts, components, &store.wallets()?, progress)
}

/// Replays `wallets` of `store` (and checks the components they pin against their code
/// hashes), calling `progress(done, total)` after each wallet. A wallet the store does
/// not hold is an error.
pub fn verify_wallets(
    store: &dyn Store,
    contracts: &Contracts,
    wallets: &[String],
    progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let mut pinned = Vec::new();
    for wallet in wallets {
        let code_hash = read_head(store, wallet)?.code_hash;
        if !pinned.contains(&code_hash) {
            pinned.push(code_hash);
        }
    }
    pinned.sort();
    replay(store, contracts, pinned, wallets, progress)
}

/// Checks `components` against their code hashes, then replays `wallets`.
fn replay(
    store: &dyn Store,
    contracts: &Contracts,
    components: Vec<String>,
    wallets: &[String],
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let mut report = Report::default();
    let mut verified = HashMap::new();
    for code_hash in components {
        let bytes = store.component(&code_hash)?;
        let actual = bytes
            .as_deref()
            .map_or_else(|| "no stored component".into(), sha256_hex);
        let Some(bytes) = bytes.filter(|_| actual == code_hash) else {
            report.divergences.push(Divergence {
                wallet: String::new(),
                seq: 0,
                field: "code_hash".into(),
                recorded: code_hash,
                replayed: actual,
            });
            continue;
        };
        verified.insert(code_hash.clone(), contracts.load(&bytes)?);
        report.components.push(code_hash);
    }
    // Wallets are independent: read a batch (the store is one connection), replay it on
    // every core, report in wallet order.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    for batch in wallets.chunks(VERIFY_BATCH) {
        let loaded = batch
            .iter()
            .map(|wallet| Ok((read_head(store, wallet)?, store.entries(wallet)?)))
            .collect::<Result<Vec<_>>>()?;
        let replayed: Vec<Result<(usize, Option<Divergence>)>> = std::thread::scope(|scope| {
            let verified = &verified;
            let handles: Vec<_> = loaded
                .chunks(loaded.len().div_ceil(workers))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(head, entries)| replay_wallet(head, entries, verified))
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

/// The head of `wallet`.
fn read_head(store: &dyn Store, wallet: &str) -> Result<WalletHead> {
    Ok(store
        .wallet(wallet)?
        .with_context(|| format!("wallet {wallet} is not in the journal"))?)
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
            Err((field, recorded, replayed)) => return Ok((index, Some(diverge(field, &recorded, &replayed)))),
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

/// A field whose recorded and replayed values differ.
type Differs = (&'static str, String, String);

/// Re-runs `entry`'s event on `state`. The inner error is why the recorded event cannot
/// be replayed at all (a divergence, not a fault): the field, the entry's value and the
/// value replay found.
fn replay_entry(
    contract: &WasmContract,
    entry: &Entry,
    state: Option<&[u8]>,
) -> anyhow::Result<Result<Replay, Differs>> {
    let envelope = match Envelope::parse(&entry.event) {
        Ok(envelope) => envelope,
        Err(error) => {
            return Ok(Err((
                "event",
                entry.event.clone(),
                format!("an unreadable event ({error:#})"),
            )))
        }
    };
    // The entry's columns must be the event's own: an entry re-timed (or re-keyed) after
    // the fact names both times, the entry's as recorded and the event's as replayed.
    let at = envelope.at.clone().unwrap_or_default();
    let columns = [
        ("wallet", &entry.wallet, &envelope.wallet),
        ("event_id", &entry.event_id, &envelope.id),
        ("at", &entry.at, &at),
    ];
    if let Some((field, recorded, in_event)) = columns.into_iter().find(|(_, recorded, in_event)| recorded != in_event)
    {
        return Ok(Err((
            field,
            recorded.clone(),
            format!("{in_event} (the recorded event's own)"),
        )));
    }
    let outcome = contract.apply(state, &envelope.context()?, &envelope.body())?;
    Ok(Ok(Replay {
        outcome: outcome.verdict.to_json(),
        fuel: outcome.fuel,
        state: outcome.state,
    }))
}
