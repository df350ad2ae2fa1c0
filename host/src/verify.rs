//! Verification by replay: every wallet's entries are re-run, from the first, with the
//! component the wallet is pinned to, and every recorded figure is compared: the outcome
//! (effects or error), fuel, state hash and the hash chain. The outbox is checked against
//! the journal (every effect row is one that its entry's outcome names, none missing, none
//! extra) and each acknowledgement against its wallet's chain of them; rows that no
//! wallet's head accounts for are named. Given [`Checks`], each wallet is also held to a
//! signed checkpoint (it is still there, with the entry the checkpoint names at that seq)
//! and to the code hashes an auditor expects. The first divergence of each wallet is
//! named. Wallets are replayed in parallel, on every core; each wallet in order.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use serde::Serialize;

use crate::claims::{ConsumerClaim, Withheld};
use crate::contracts::Contracts;
use crate::disputes::QueuedDispute;
use crate::engine::{WasmContract, LIMITS_VERSION};
use crate::envelope::{timestamp, Envelope};
use crate::error::Result;
use crate::outcome::{sha256_hex, Verdict};
use crate::rules::Rules;
use crate::signed::{Checkpoint, Leaf, Receipt};
use crate::store::{AckRecord, Entry, OutboxEffect, OutboxRow, Store, WalletHead, GENESIS_HASH};
use crate::trust::{Trust, Untrusted};

/// Where a journal and its replay, or what else it is checked against, disagree.
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
    /// What replay (or recomputation, or what it is checked against) gives.
    pub replayed: String,
    /// What gives `replayed`: `replay`, `the journal` (for outbox rows), `the checkpoint`,
    /// `the expected code`.
    pub against: &'static str,
    /// Whether only fuel differs, the outcome, state and hashes replaying the same: what a
    /// change of engine or limits explains, unlike any other divergence.
    pub fuel_only: bool,
}

/// What the leaves a journal is held to cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Coverage {
    /// Every wallet there was (a checkpoint file): a wallet they list and the journal
    /// lacks is missing; one they do not list is newer.
    #[default]
    Checkpoint,
    /// The journal's wallets (a bundle's proofs): a wallet of the journal without a leaf
    /// cannot be held to the checkpoint, and is named.
    Journal,
}

/// What a verification holds the journal to beyond its own replay.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// Wallets as a signed checkpoint lists them (authenticated by the caller, from a
    /// checkpoint file or a bundle's proofs): each must still be there, with at least the
    /// entries and acknowledgements it had then, the same ones.
    pub checkpoint: Vec<Leaf>,
    /// What `checkpoint` covers.
    pub coverage: Coverage,
    /// The code hashes wallets may run; empty for any.
    pub code_hashes: Vec<String>,
    /// Replay alone: no outbox, acknowledgement or orphan checks. Only for measuring what
    /// those cost (`prepaid bench`); an auditor never wants it.
    pub replay_only: bool,
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
            "{}: {} differs: recorded {}, {} gives {}",
            printable(&place),
            self.field,
            printable(&self.recorded),
            self.against,
            printable(&self.replayed)
        )?;
        if self.fuel_only {
            write!(
                f,
                " (fuel only: the outcome and state replay the same, as after an engine change)"
            )?;
        }
        Ok(())
    }
}

pub use crate::text::printable;

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
    verify_with_progress(store, contracts, &Checks::default(), |_, _| {})
}

/// Replays every wallet of `store` and holds it to `checks`, calling
/// `progress(done, total)` after each wallet. Every stored component is checked against
/// its code hash, pinned or not, and rows without a wallet head are named.
pub fn verify_with_progress(
    store: &dyn Store,
    contracts: &Contracts,
    checks: &Checks,
    progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let components = store
        .components()?
        .into_iter()
        .map(|(code_hash, _)| code_hash)
        .collect();
    let wallets = store.wallets()?;
    // The regulator's queue is the wallets' disputes: a row deleted would hide a dispute
    // from the regulator, one added or altered would show one that is not. Each wallet's
    // rows are held to its head as it is replayed; those left name no wallet.
    let mut queued = match !checks.replay_only && store.keeps_queue() {
        true => {
            let mut queued: BTreeMap<String, Vec<QueuedDispute>> = BTreeMap::new();
            for dispute in store.open_disputes()? {
                queued.entry(dispute.wallet.clone()).or_default().push(dispute);
            }
            Some(queued)
        }
        false => None,
    };
    let mut report = replay(
        store,
        contracts,
        components,
        &wallets,
        checks,
        queued.as_mut(),
        progress,
    )?;
    for (wallet, recorded) in queued.into_iter().flatten() {
        report.divergences.push(Divergence {
            wallet,
            seq: 0,
            field: "disputes".into(),
            recorded: shown(&recorded),
            replayed: "no such wallet in the journal".into(),
            against: "the journal",
            fuel_only: false,
        });
    }
    let unheaded = match checks.replay_only {
        true => Vec::new(),
        false => store.unheaded()?,
    };
    for wallet in unheaded {
        report.divergences.push(Divergence {
            wallet,
            seq: 0,
            field: "head".into(),
            recorded: "no head".into(),
            replayed: "journal, outbox or acknowledgement rows".into(),
            against: "the journal",
            fuel_only: false,
        });
    }
    // A claim not yet paid on a wallet the journal does not hold would divert its
    // merchant's next releases: the wallets' own checks never read it.
    if !checks.replay_only && store.claims_books() {
        let held: std::collections::HashSet<&str> = wallets.iter().map(String::as_str).collect();
        for claim in store.open_claims()? {
            if !held.contains(claim.wallet.as_str()) {
                report.divergences.push(Divergence {
                    replayed: "no such wallet in the journal".into(),
                    recorded: format!(
                        "claim {} of {} owed by {} to {}",
                        claim.claim, claim.amount, claim.merchant, claim.consumer
                    ),
                    wallet: claim.wallet,
                    seq: 0,
                    field: "claims".into(),
                    against: "the journal",
                    fuel_only: false,
                });
            }
        }
    }
    if checks.coverage == Coverage::Checkpoint {
        let held: std::collections::HashSet<&str> = wallets.iter().map(String::as_str).collect();
        for leaf in checks
            .checkpoint
            .iter()
            .filter(|leaf| !held.contains(leaf.wallet.as_str()))
        {
            report.divergences.push(Divergence {
                wallet: leaf.wallet.clone(),
                seq: 0,
                field: "checkpoint".into(),
                recorded: "no such wallet".into(),
                replayed: leaf.to_string(),
                against: "the checkpoint",
                fuel_only: false,
            });
        }
    }
    report
        .divergences
        .sort_by(|a, b| (&a.wallet, a.seq).cmp(&(&b.wallet, b.seq)));
    Ok(report)
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
    // Every code a wallet ran, before and after its migrations.
    let mut pinned = Vec::new();
    for wallet in wallets {
        let head = read_head(store, wallet)?.code_hash;
        for code_hash in store
            .entries(wallet)?
            .into_iter()
            .map(|entry| entry.code_hash)
            .chain([head])
        {
            if !pinned.contains(&code_hash) {
                pinned.push(code_hash);
            }
        }
    }
    pinned.sort();
    replay(store, contracts, pinned, wallets, &Checks::default(), None, progress)
}

/// Checks `components` against their code hashes, then replays `wallets` and holds them
/// to `checks`.
fn replay(
    store: &dyn Store,
    contracts: &Contracts,
    components: Vec<String>,
    wallets: &[String],
    checks: &Checks,
    mut queued: Option<&mut BTreeMap<String, Vec<QueuedDispute>>>,
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
                against: "hashing the stored bytes",
                fuel_only: false,
            });
            continue;
        };
        verified.insert(code_hash.clone(), contracts.load(&bytes)?);
        report.components.push(code_hash);
    }
    // Wallets are independent: read a batch (the store is one connection), replay it on
    // every core, report in wallet order.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let leaves: HashMap<&str, &Leaf> = checks
        .checkpoint
        .iter()
        .map(|leaf| (leaf.wallet.as_str(), leaf))
        .collect();
    for batch in wallets.chunks(VERIFY_BATCH) {
        let loaded = batch
            .iter()
            .map(|wallet| {
                let (outbox, acks) = match checks.replay_only {
                    true => (Vec::new(), Vec::new()),
                    false => (store.outbox(wallet)?, store.acks(wallet)?),
                };
                let books = match checks.replay_only || !store.claims_books() {
                    true => None,
                    false => Some(Books::of(store, wallet, &outbox)?),
                };
                Ok(Wallet {
                    head: read_head(store, wallet)?,
                    entries: store.entries(wallet)?,
                    outbox,
                    acks,
                    books,
                    queued: queued.as_mut().map(|queued| queued.remove(wallet).unwrap_or_default()),
                    leaf: leaves.get(wallet.as_str()).copied(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let replayed: Vec<Result<(usize, Vec<Divergence>)>> = std::thread::scope(|scope| {
            let verified = &verified;
            let handles: Vec<_> = loaded
                .chunks(loaded.len().div_ceil(workers))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|wallet| wallet.verify(verified, checks))
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
            let (entries, divergences) = result?;
            report.wallets += 1;
            report.entries += entries;
            report.divergences.extend(divergences);
            progress(report.wallets, wallets.len());
        }
    }
    Ok(report)
}

/// Queue rows as a divergence shows them.
fn shown(disputes: &[QueuedDispute]) -> String {
    match disputes {
        [] => "none".to_owned(),
        _ => serde_json::to_string(disputes).unwrap_or_default(),
    }
}

/// `amount` in fen; none for an amount that does not parse, which matches nothing.
fn fen(amount: &str) -> Option<u64> {
    crate::text::fen(amount).ok()
}

/// The sum of `amounts` in fen; none if one does not parse or the sum overflows.
fn sum_fen(amounts: &mut dyn Iterator<Item = &str>) -> Option<u64> {
    let mut sum = 0u64;
    for amount in amounts {
        sum = sum.checked_add(fen(amount)?)?;
    }
    Some(sum)
}

/// Wallets read, then replayed in parallel, at a time.
const VERIFY_BATCH: usize = 256;

/// The head of `wallet`.
fn read_head(store: &dyn Store, wallet: &str) -> Result<WalletHead> {
    Ok(store
        .wallet(wallet)?
        .with_context(|| format!("wallet {wallet} is not in the journal"))?)
}

/// A wallet's part of the claims' books: the claims its ending recorded, what its
/// releases paid of claims, and the merchant it was opened with.
struct Books {
    claims: Vec<ConsumerClaim>,
    withheld: Vec<Withheld>,
    merchant: Option<String>,
}

impl Books {
    fn of(store: &dyn Store, wallet: &str, outbox: &[OutboxRow]) -> Result<Books> {
        let releases: Vec<String> = outbox
            .iter()
            .filter(|row| row.effect.kind == "release")
            .map(|row| row.effect.effect_id.clone())
            .collect();
        Ok(Books {
            claims: store.claims_of(wallet)?,
            withheld: store.withheld(&releases)?,
            merchant: store.merchant_of(wallet)?,
        })
    }
}

/// One wallet as the store holds it, and what the checkpoint says of it.
struct Wallet<'a> {
    head: WalletHead,
    entries: Vec<Entry>,
    outbox: Vec<OutboxRow>,
    acks: Vec<AckRecord>,
    /// None where the store keeps no claims' books (a bundle), or checks are replay only.
    books: Option<Books>,
    /// The regulator's queue's rows of the wallet; none where the store keeps no queue, or
    /// checks are replay only.
    queued: Option<Vec<QueuedDispute>>,
    leaf: Option<&'a Leaf>,
}

impl Wallet<'_> {
    /// Replays the wallet and checks its outbox, acknowledgements, checkpoint and code;
    /// returns how many entries were replayed and the divergences: the first of its
    /// history, or its first fuel-only one and the first after it that is not.
    fn verify(
        &self,
        contracts: &HashMap<String, Arc<WasmContract>>,
        checks: &Checks,
    ) -> Result<(usize, Vec<Divergence>)> {
        let (replayed, mut divergences) = self.replay(contracts)?;
        if let (false, Some(named)) = (checks.replay_only, self.named_effects()) {
            divergences.extend(self.check_outbox(&named));
            divergences.extend(self.check_acks(&named));
            divergences.extend(self.check_claims(&named));
        }
        divergences.extend(self.check_queue());
        divergences.extend(self.check_leaf(checks.coverage));
        divergences.extend(self.check_code(&checks.code_hashes));
        Ok((replayed, divergences))
    }

    /// Holds the queue's rows of the wallet to the disputes in its head's state.
    fn check_queue(&self) -> Option<Divergence> {
        let mut recorded = self.queued.clone()?;
        let mut expected = self
            .head
            .state
            .as_deref()
            .map_or_else(Vec::new, |state| crate::disputes::of_state(&self.head.wallet, state));
        // The store reads the queue in its own order; a wallet's disputes compare as sets.
        let key = |dispute: &QueuedDispute| dispute.request.clone();
        expected.sort_by_key(key);
        recorded.sort_by_key(key);
        (recorded != expected).then(|| {
            self.divergence(
                self.head.seq,
                "disputes",
                shown(&recorded),
                shown(&expected),
                "the wallet's state",
            )
        })
    }

    fn divergence(
        &self,
        seq: u64,
        field: &str,
        recorded: String,
        replayed: String,
        against: &'static str,
    ) -> Divergence {
        Divergence {
            wallet: self.head.wallet.clone(),
            seq,
            field: field.into(),
            recorded,
            replayed,
            against,
            fuel_only: false,
        }
    }

    /// Replays the entries and checks the head.
    fn replay(&self, contracts: &HashMap<String, Arc<WasmContract>>) -> Result<(usize, Vec<Divergence>)> {
        let (head, entries) = (&self.head, &self.entries);
        let mut fuel_only: Option<Divergence> = None;
        let mut state: Option<Vec<u8>> = None;
        let mut state_hash = sha256_hex(&[]);
        let mut prev_hash = GENESIS_HASH.to_string();
        // The code the wallet runs: its first entry's, changing only at a `migrate` that
        // names it as `from` (and then the one the migration names as `to`).
        let mut code = entries
            .first()
            .map_or_else(|| head.code_hash.clone(), |entry| entry.code_hash.clone());
        // An event id is taken once in a wallet: the host answers a second submission with
        // the recorded outcome. One journaled twice was appended behind the host, and
        // could replay a signed event (a migration back, an authorization) at a new time.
        let mut ids = std::collections::HashSet::new();
        for (index, entry) in entries.iter().enumerate() {
            let diverge = |field: &str, recorded: &dyn ToString, replayed: &dyn ToString| {
                let divergence =
                    self.divergence(entry.seq, field, recorded.to_string(), replayed.to_string(), "replay");
                (index, fuel_only.iter().cloned().chain([divergence]).collect())
            };
            let checks = [
                // A bundle's schema is the platform's: a collation could file another
                // wallet's entries under this one.
                ("wallet", entry.wallet.clone(), head.wallet.clone()),
                ("seq", entry.seq.to_string(), (index as u64 + 1).to_string()),
                // Fuel and traps depend on the limits: replay needs the version it was run under.
                ("limits", entry.limits.to_string(), LIMITS_VERSION.to_string()),
                ("prev_hash", entry.prev_hash.clone(), prev_hash.clone()),
            ];
            if let Some((field, recorded, replayed)) =
                checks.into_iter().find(|(_, recorded, replayed)| recorded != replayed)
            {
                return Ok(diverge(field, &recorded, &replayed));
            }
            if !ids.insert(entry.event_id.as_str()) {
                return Ok(diverge(
                    "event_id",
                    &entry.event_id,
                    &"an event id this wallet journaled before",
                ));
            }
            let (from, to) = migration(entry).unwrap_or_else(|| (code.clone(), code.clone()));
            if from != code {
                return Ok(diverge("migrate.from", &from, &code));
            }
            if entry.code_hash != to {
                return Ok(diverge("code_hash", &entry.code_hash, &to));
            }
            let (Some(contract), Some(previous)) = (contracts.get(&entry.code_hash), contracts.get(&code)) else {
                return Ok(diverge(
                    "code_hash",
                    &entry.code_hash,
                    &"no stored component with this hash",
                ));
            };
            let replay = match replay_entry(contract, previous, entry, state.as_deref())? {
                Ok(replay) => replay,
                Err((field, recorded, replayed)) => return Ok(diverge(field, &recorded, &replayed)),
            };
            let new_state = replay.state.or(state);
            let new_hash = new_state.as_deref().map_or(state_hash, sha256_hex);
            let checks = [
                ("outcome", &entry.outcome, &replay.outcome),
                ("state_hash", &entry.state_hash, &new_hash),
                ("entry_hash", &entry.entry_hash, &entry.compute_hash()),
            ];
            if let Some((field, recorded, replayed)) =
                checks.into_iter().find(|(_, recorded, replayed)| recorded != replayed)
            {
                return Ok(diverge(field, recorded, replayed));
            }
            // Everything else the same, fuel is what an engine change moves: named, and
            // replay goes on to look for a divergence that is not.
            if entry.fuel != replay.fuel && fuel_only.is_none() {
                fuel_only = Some(Divergence {
                    fuel_only: true,
                    ..self.divergence(
                        entry.seq,
                        "fuel",
                        entry.fuel.to_string(),
                        replay.fuel.to_string(),
                        "replay",
                    )
                });
            }
            state = new_state;
            state_hash = new_hash;
            prev_hash = entry.entry_hash.clone();
            code = entry.code_hash.clone();
        }
        let head_checks = [
            ("code_hash", head.code_hash.clone(), code),
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
            .map(|(field, recorded, replayed)| self.divergence(0, field, recorded, replayed, "replay"));
        Ok((entries.len(), fuel_only.into_iter().chain(divergence).collect()))
    }

    /// The effects the entries' outcomes name, by effect id; none if an outcome is
    /// unreadable (replay's divergence to name).
    fn named_effects(&self) -> Option<Vec<OutboxEffect>> {
        let mut named = Vec::new();
        for entry in &self.entries {
            let verdict = serde_json::from_str::<Verdict>(&entry.outcome).ok()?;
            named.extend(
                verdict
                    .effects
                    .into_iter()
                    .enumerate()
                    .map(|(index, effect)| OutboxEffect {
                        effect_id: entry.effect_id(index),
                        wallet: entry.wallet.clone(),
                        seq: entry.seq,
                        kind: effect.kind,
                        to: effect.to,
                        amount: effect.amount,
                        reason: effect.reason,
                    }),
            );
        }
        named.sort_by(|a, b| a.effect_id.cmp(&b.effect_id));
        Some(named)
    }

    /// The outbox against the journal: the rows must be exactly the effects that move money
    /// the entries' outcomes name (`named`), field for field.
    fn check_outbox(&self, named: &[OutboxEffect]) -> Option<Divergence> {
        let mut rows: Vec<&OutboxEffect> = self.outbox.iter().map(|row| &row.effect).collect();
        rows.sort_by(|a, b| a.effect_id.cmp(&b.effect_id));
        let describe = |effect: Option<&OutboxEffect>| match effect {
            Some(effect) => format!(
                "{} {} {} to {} ({}), entry {}",
                effect.effect_id, effect.kind, effect.amount, effect.to, effect.reason, effect.seq
            ),
            None => "no such effect".into(),
        };
        // Claims are not the rail's to pay: they are held to the claims' books instead.
        let named = named.iter().filter(|effect| effect.kind != "claim");
        let (mut rows, mut named) = (rows.into_iter().peekable(), named.peekable());
        loop {
            let (row, effect) = match (rows.peek(), named.peek()) {
                (None, None) => return None,
                (Some(row), Some(effect)) if row.effect_id == effect.effect_id => (rows.next(), named.next()),
                (Some(row), Some(effect)) if row.effect_id < effect.effect_id => (rows.next(), None),
                (Some(_), None) => (rows.next(), None),
                _ => (None, named.next()),
            };
            if row != effect {
                let seq = row.or(effect).map_or(0, |effect| effect.seq);
                return Some(self.divergence(seq, "outbox", describe(row), describe(effect), "the journal"));
            }
        }
    }

    /// The acknowledgements: a chain from the first, each of one of the wallet's effects
    /// as the journal names it (`named`), exactly the effects marked acknowledged, ending
    /// at the head's count and hash.
    fn check_acks(&self, named: &[OutboxEffect]) -> Option<Divergence> {
        let acked: Vec<&str> = self
            .outbox
            .iter()
            .filter(|row| row.acked)
            .map(|row| row.effect.effect_id.as_str())
            .collect();
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut seen = std::collections::HashSet::new();
        for (index, record) in self.acks.iter().enumerate() {
            let once = match seen.insert(record.effect_id.as_str()) {
                true => record.effect_id.clone(),
                false => "an effect acknowledged once".into(),
            };
            // What the rail was shown when it acknowledged, against what the entry ordered.
            let ordered = named
                .binary_search_by(|effect| effect.effect_id.cmp(&record.effect_id))
                .map_or_else(
                    |_| "no effect the journal names".into(),
                    |index| named[index].content_hash(),
                );
            let checks = [
                ("wallet", record.wallet.clone(), self.head.wallet.clone()),
                ("n", record.n.to_string(), (index + 1).to_string()),
                ("prev_hash", record.prev_hash.clone(), prev_hash.clone()),
                ("ack_hash", record.ack_hash.clone(), record.compute_hash()),
                ("effect_hash", record.effect_hash.clone(), ordered),
                (
                    "effect_id",
                    record.effect_id.clone(),
                    match acked.contains(&record.effect_id.as_str()) {
                        true => once,
                        false => "no acknowledged effect of the wallet with this id".into(),
                    },
                ),
            ];
            if let Some((field, recorded, expected)) =
                checks.into_iter().find(|(_, recorded, expected)| recorded != expected)
            {
                let against = match field {
                    "effect_hash" => "the effect the journal names",
                    _ => "the chain of acknowledgements",
                };
                return Some(self.divergence(
                    0,
                    &format!("acknowledgement {} {field}", index + 1),
                    recorded,
                    expected,
                    against,
                ));
            }
            prev_hash = record.ack_hash.clone();
        }
        let recorded: Vec<&str> = self.acks.iter().map(|record| record.effect_id.as_str()).collect();
        if let Some(effect) = acked.iter().find(|effect| !recorded.contains(effect)) {
            return Some(self.divergence(
                0,
                "acknowledged",
                format!("effect {effect} marked acknowledged"),
                "no acknowledgement of it".into(),
                "the chain of acknowledgements",
            ));
        }
        let head = (self.head.acks.to_string(), self.head.ack_hash.clone());
        let chain = (self.acks.len().to_string(), prev_hash);
        (head != chain).then(|| {
            self.divergence(
                0,
                "acks",
                format!("{} ending {}", head.0, head.1),
                format!("{} ending {}", chain.0, chain.1),
                "the chain of acknowledgements",
            )
        })
    }

    /// The claims' books against the journal: the claims recorded are exactly the `claim`
    /// effects the entries name (`named`), owed by the wallet's merchant to the consumer
    /// the effect names; each claim's paid is the sum of its payments, at most its amount;
    /// and what each of the wallet's releases pays of claims is at most the release, every
    /// claim it pays owed by the release's recipient. An operator who edits the tables to
    /// redirect a merchant's releases, or to cancel what it owes, is named here.
    fn check_claims(&self, named: &[OutboxEffect]) -> Option<Divergence> {
        let books = self.books.as_ref()?;
        let sum = |amounts: &mut dyn Iterator<Item = &str>| sum_fen(amounts);
        let mut recorded: Vec<String> = books
            .claims
            .iter()
            .map(|claim| {
                format!(
                    "{} {} owed by {} to {}",
                    claim.claim, claim.amount, claim.merchant, claim.consumer
                )
            })
            .collect();
        let merchant = books.merchant.as_deref().unwrap_or("");
        let mut journaled: Vec<String> = named
            .iter()
            .filter(|effect| effect.kind == "claim")
            .map(|effect| {
                format!(
                    "{} {} owed by {merchant} to {}",
                    effect.effect_id, effect.amount, effect.to
                )
            })
            .collect();
        // By claim id on both sides: the books list them by time.
        recorded.sort();
        journaled.sort();
        if recorded != journaled {
            return Some(self.divergence(0, "claims", recorded.join("; "), journaled.join("; "), "the journal"));
        }
        for claim in &books.claims {
            let payments = sum(&mut claim.payments.iter().map(|payment| payment.amount.as_str()));
            let paid = fen(&claim.paid);
            if payments.is_none() || payments != paid || paid > fen(&claim.amount) {
                return Some(self.divergence(
                    0,
                    "claim payments",
                    format!("{} of {} paid of claim {}", claim.paid, claim.amount, claim.claim),
                    format!(
                        "{} in its payments",
                        payments.map_or("an unreadable sum".into(), crate::text::yuan)
                    ),
                    "the claims' books",
                ));
            }
        }
        for release in named.iter().filter(|effect| effect.kind == "release") {
            let legs: Vec<&Withheld> = books
                .withheld
                .iter()
                .filter(|leg| leg.release == release.effect_id)
                .collect();
            let paid = sum(&mut legs.iter().map(|leg| leg.amount.as_str()));
            let foreign = legs.iter().find(|leg| leg.merchant != release.to);
            if paid.is_none() || paid > fen(&release.amount) || foreign.is_some() {
                return Some(
                    self.divergence(
                        release.seq,
                        "claim payments",
                        legs.iter()
                            .map(|leg| format!("{} of claim {} owed by {}", leg.amount, leg.claim, leg.merchant))
                            .collect::<Vec<_>>()
                            .join("; "),
                        format!("at most {} of claims owed by {}", release.amount, release.to),
                        "the journal",
                    ),
                );
            }
        }
        None
    }

    /// The wallet against the checkpoint's leaf for it: still at least as long, with the
    /// same entry at the checkpoint's seq and the same acknowledgement at its count.
    fn check_leaf(&self, coverage: Coverage) -> Option<Divergence> {
        let Some(leaf) = self.leaf else {
            return (coverage == Coverage::Journal).then(|| {
                let why = "no proof of this wallet (newer than the checkpoint, or withheld)".to_owned();
                self.divergence(0, "checkpoint", "a wallet".into(), why, "the checkpoint")
            });
        };
        let entry = match leaf.seq {
            0 => Some(GENESIS_HASH.to_string()),
            seq => self.entries.get(seq as usize - 1).map(|entry| entry.entry_hash.clone()),
        };
        let ack = match leaf.acks {
            0 => Some(GENESIS_HASH.to_string()),
            n => self.acks.get(n as usize - 1).map(|record| record.ack_hash.clone()),
        };
        let found = |hash: Option<String>, what: &str, count: usize| match hash {
            Some(hash) => format!("{what} {hash}"),
            None => format!("{count} in all"),
        };
        if entry.as_deref() != Some(&leaf.head_hash) {
            let recorded = found(entry, "entry", self.entries.len());
            return Some(self.divergence(
                leaf.seq,
                "checkpoint",
                recorded,
                format!("entry {}", leaf.head_hash),
                "the checkpoint",
            ));
        }
        if ack.as_deref() != Some(&leaf.ack_hash) {
            let recorded = found(ack, "acknowledgement", self.acks.len());
            let expected = format!("acknowledgement {} {}", leaf.acks, leaf.ack_hash);
            return Some(self.divergence(0, "checkpoint", recorded, expected, "the checkpoint"));
        }
        None
    }

    /// The first code the wallet ran (before or after a migration) that is not among
    /// `code_hashes`, if any are expected.
    fn check_code(&self, code_hashes: &[String]) -> Option<Divergence> {
        if code_hashes.is_empty() {
            return None;
        }
        let (seq, ran) = self
            .entries
            .iter()
            .map(|entry| (entry.seq, &entry.code_hash))
            .chain([(0, &self.head.code_hash)])
            .find(|(_, code_hash)| !code_hashes.contains(code_hash))?;
        Some(self.divergence(
            seq,
            "code_hash",
            ran.clone(),
            code_hashes.join(" or "),
            "the expected code",
        ))
    }
}

/// What replaying one entry gives.
struct Replay {
    outcome: String,
    fuel: u64,
    state: Option<Vec<u8>>,
}

/// A field whose recorded and replayed values differ.
type Differs = (&'static str, String, String);

/// The code hashes an accepted `migrate` entry's event moves its wallet from and to;
/// `None` for any other entry. Only a migration recorded as accepted, moving nothing, moves
/// a wallet's code: the host records no other.
fn migration(entry: &Entry) -> Option<(String, String)> {
    // Most entries are no migration: spare them two JSON parses on replay's hot path.
    if !entry.event.contains("migrate") {
        return None;
    }
    let verdict: crate::outcome::Verdict = serde_json::from_str(&entry.outcome).ok()?;
    if !verdict.ok || !verdict.effects.is_empty() {
        return None;
    }
    let event: serde_json::Value = serde_json::from_str(&entry.event).ok()?;
    let event = event.get("event")?;
    if event.get("type")?.as_str()? != "migrate" {
        return None;
    }
    let hash = |name: &str| {
        event
            .get(name)
            .and_then(|hash| hash.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Some((hash("from"), hash("to")))
}

/// Re-runs `entry`'s event on `state` (a `migrate` on the component it moves to, which is
/// told the ABI of the one before, `previous`). The inner error is why the recorded event cannot
/// be replayed at all (a divergence, not a fault): the field, the entry's value and the
/// value replay found.
fn replay_entry(
    contract: &WasmContract,
    previous: &WasmContract,
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
    // A migration is the regulator's, whatever the code it names says: the host checks that
    // before recording one, so one journaled without it was not recorded by the host.
    let before = state.unwrap_or_default();
    let migration = envelope.kind() == Some("migrate");
    if migration {
        if let Err(why) = envelope.migration_signed(before) {
            return Ok(Err((
                "signature",
                envelope.signature.clone().unwrap_or_default(),
                format!("not the wallet's regulator's: {why}"),
            )));
        }
    }
    let outcome = match migration {
        true => contract.migrate(before, previous.abi(), &envelope.context()?, &envelope.body())?,
        false => contract.apply(state, &envelope.context()?, &envelope.body())?,
    };
    // And one that gives the consumer less on some path carries their consent: the plan
    // that decides it is deterministic, so replay asks it again. (Only for a migration
    // that moved the wallet: a refused one replays as refused.)
    if let (true, true, Some(moved)) = (
        migration,
        contract.code_hash() != previous.code_hash(),
        outcome.state.as_deref(),
    ) {
        let asked = crate::plan::consent(
            &envelope,
            &entry.wallet,
            (previous, before),
            (contract, moved),
            envelope.context()?.timestamp,
        )?;
        let why = match asked {
            crate::plan::Consent::Holds => None,
            crate::plan::Consent::Missing => Some("it carries no `consent`".to_owned()),
            crate::plan::Consent::NotTheirs(why) => Some(why),
        };
        if let Some(why) = why {
            return Ok(Err((
                "consent",
                entry.event.clone(),
                format!("the consent is not the consumer's: {why}"),
            )));
        }
    }
    Ok(Ok(Replay {
        outcome: outcome.verdict.to_json(),
        fuel: outcome.fuel,
        state: outcome.state,
    }))
}

/// Whether checkpoint `new` extends `old`, as `store`'s journal shows: every wallet `old`
/// lists is in `new`, and its entries and acknowledgements at `old` lie, unchanged, in its
/// hash chains up to `new`. Names each wallet where not. With [`Coverage::Journal`] (a
/// bundle), only the wallets the store holds are followed.
pub fn extends(store: &dyn Store, old: &Checkpoint, new: &Checkpoint, coverage: Coverage) -> Result<Vec<Divergence>> {
    if timestamp(&new.head.time)? < timestamp(&old.head.time)? {
        return Err(anyhow::anyhow!(
            "the later checkpoint ({}) is older than the earlier ({}); give them in order",
            new.head.time,
            old.head.time
        )
        .into());
    }
    let mut divergences = Vec::new();
    for before in &old.leaves {
        let diverge = |field: &str, recorded: String, replayed: String| Divergence {
            wallet: before.wallet.clone(),
            seq: 0,
            field: field.into(),
            recorded,
            replayed,
            against: "the earlier checkpoint",
            fuel_only: false,
        };
        let Some(after) = new.leaf(&before.wallet) else {
            divergences.push(diverge(
                "checkpoint",
                "not in the later checkpoint".into(),
                before.to_string(),
            ));
            continue;
        };
        // A bundle answers for the wallets it holds.
        if coverage == Coverage::Journal && store.wallet(&before.wallet)?.is_none() {
            continue;
        }
        let entries = store.entries(&before.wallet)?;
        let entry_hashes: Vec<(String, String, String)> = entries
            .iter()
            .map(|entry| (entry.prev_hash.clone(), entry.entry_hash.clone(), entry.compute_hash()))
            .collect();
        let acks: Vec<(String, String, String)> = store
            .acks(&before.wallet)?
            .iter()
            .map(|record| (record.prev_hash.clone(), record.ack_hash.clone(), record.compute_hash()))
            .collect();
        let problem = chain_links(
            &entry_hashes,
            before.seq,
            &before.head_hash,
            after.seq,
            &after.head_hash,
            "entry",
        )
        .or_else(|| {
            chain_links(
                &acks,
                before.acks,
                &before.ack_hash,
                after.acks,
                &after.ack_hash,
                "acknowledgement",
            )
        });
        if let Some(problem) = problem {
            divergences.push(diverge("history", problem, after.to_string()));
        }
    }
    Ok(divergences)
}

/// Why `chain` (each link's previous hash, own hash and recomputed hash, from the first)
/// does not lead from link `from` hashing to `from_hash` on to link `to` hashing to
/// `to_hash`, if it does not.
fn chain_links(
    chain: &[(String, String, String)],
    from: u64,
    from_hash: &str,
    to: u64,
    to_hash: &str,
    what: &str,
) -> Option<String> {
    if to < from {
        return Some(format!("{what} {to} at the later checkpoint, {from} at the earlier"));
    }
    if (to as usize) > chain.len() {
        return Some(format!(
            "{} {what} links in the journal, {to} at the later checkpoint",
            chain.len()
        ));
    }
    let hash_at = |n: u64| match n {
        0 => GENESIS_HASH.to_string(),
        n => chain[n as usize - 1].1.clone(),
    };
    if hash_at(from) != from_hash {
        return Some(format!(
            "{what} {from} is {}, not the earlier checkpoint's {from_hash}",
            hash_at(from)
        ));
    }
    for n in from + 1..=to {
        let (prev, own, recomputed) = &chain[n as usize - 1];
        if *prev != hash_at(n - 1) || own != recomputed {
            return Some(format!("{what} {n} does not chain to the one before it"));
        }
    }
    (hash_at(to) != to_hash).then(|| format!("{what} {to} is {}, not the later checkpoint's {to_hash}", hash_at(to)))
}

/// The entry of `store` that `receipt` is for, if it holds exactly that entry, its hash
/// chain intact up to it; otherwise why not.
pub fn receipt_entry(store: &dyn Store, receipt: &Receipt) -> Result<Result<Entry, String>> {
    let entries = store.entries(&receipt.wallet)?;
    let Some(entry) = usize::try_from(receipt.seq)
        .ok()
        .and_then(|seq| seq.checked_sub(1))
        .and_then(|index| entries.get(index))
    else {
        return Ok(Err(format!("the wallet has {} in the journal", entries.len())));
    };
    if !receipt.matches(entry) {
        return Ok(Err(format!(
            "the journal's entry {} is event {} at {}, hash {} (recomputed {})",
            entry.seq,
            entry.event_id,
            entry.at,
            entry.entry_hash,
            entry.compute_hash()
        )));
    }
    let mut prev_hash = GENESIS_HASH;
    for earlier in &entries[..receipt.seq as usize] {
        if earlier.prev_hash != prev_hash || earlier.compute_hash() != earlier.entry_hash {
            return Ok(Err(format!("entry {} breaks the hash chain before it", earlier.seq)));
        }
        prev_hash = &earlier.entry_hash;
    }
    Ok(Ok(entry.clone()))
}

/// The wallets of `store` outside `trust`: pinned to a component it does not list, or
/// opened with the approval of a regulator it does not list (read from the wallet's
/// accepted `open`).
pub fn untrusted_wallets(store: &dyn Store, trust: &Trust) -> Result<Vec<Untrusted>> {
    let mut untrusted = Vec::new();
    for wallet in store.wallets()? {
        let Some(head) = store.wallet(&wallet)? else { continue };
        if !trust.trusts_component(&head.code_hash) {
            let why = match trust.is_revoked(&head.code_hash) {
                true => "revokes: it pays no merchant until its regulator migrates it",
                false => "does not list",
            };
            untrusted.push(Untrusted {
                wallet: wallet.clone(),
                reason: format!("runs component {}, which the trust file {why}", head.code_hash),
            });
            continue;
        }
        let entries = store.entries(&wallet)?;
        // Code it ran before a migration counts if the platform trusts it or once did (and
        // has revoked it since).
        if let Some(entry) = entries
            .iter()
            .find(|entry| !trust.trusts_component(&entry.code_hash) && !trust.is_revoked(&entry.code_hash))
        {
            untrusted.push(Untrusted {
                wallet: wallet.clone(),
                reason: format!(
                    "ran component {} at entry {}, which the trust file does not list",
                    entry.code_hash, entry.seq
                ),
            });
            continue;
        }
        // The accepted open is the entry that first gave the wallet a state.
        let opened = entries.into_iter().find(|entry| {
            serde_json::from_str::<serde_json::Value>(&entry.outcome).is_ok_and(|outcome| outcome["ok"] == true)
        });
        let Some(opened) = opened else { continue };
        let regulator = Envelope::parse(&opened.event)
            .ok()
            .and_then(|envelope| envelope.event.get("regulator")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        if trust.regulator(&regulator).is_none() {
            untrusted.push(Untrusted {
                wallet,
                reason: format!(
                    "opened with the approval of regulator {regulator:?}, which the trust file does not list"
                ),
            });
        }
    }
    Ok(untrusted)
}
