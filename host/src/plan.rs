//! A migration's plan: what moving every live wallet onto a component would change, read
//! before anyone signs the `migrate` events.
//!
//! For each wallet that is not closed and runs other code, the plan moves its state onto
//! the new component (its `migrate`, as the regulator's event would) and asks both the old
//! and the new rules the same questions at the same moment: the wallet's figures, and what
//! the consumer and the merchant would get from a refund now, from the rules of time if no
//! one acts again (expiry's refund, where the terms have one), and from a closure of the
//! merchant now. The questions are events no one has signed, so they run with every
//! signature taken as good, on copies of the state: nothing of a plan is journaled. A
//! wallet whose consumer would get less on any path is marked: its migration should wait
//! for the consumer's consent.

use std::collections::BTreeMap;

use prepaid_contract::keys::HexBytes;
use prepaid_contract::money::Amount;
use prepaid_contract::Context;
use serde::Serialize;

use crate::engine::WasmContract;
use crate::error::{Error, Result};
use crate::outcome::{sha256_hex, Outcome, WalletView};
use crate::rules::Rules;
use crate::store::Store;
use crate::Contracts;

/// How far past the plan's time the rules of time are asked about: beyond every term the
/// policy caps allow, so that expiry, accrual and deemed confirmations have all come.
const LONG_AFTER: i64 = 50 * 366 * prepaid_contract::policy::DAY_SECONDS;

/// The paths a plan compares, by name.
const PATHS: [&str; 3] = ["refund_now", "at_expiry", "at_closure"];

/// What moving every live wallet onto `to` would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The SHA-256 (hex) of `[to, at, wallets, unplanned]` as JSON with every object's keys
    /// in order ([`Plan::read`] checks it on the plan as printed): what a regulator's signed
    /// `migrate` names as `plan`.
    pub hash: String,
    /// The component the wallets would move to.
    pub to: String,
    /// When the plan asked the rules (seconds since the Unix epoch).
    pub at: i64,
    /// Each live wallet on other code, by id.
    pub wallets: Vec<WalletPlan>,
    /// The sums over the wallets the new code takes.
    pub totals: Totals,
    /// The wallets the plan could not ask about, and why (their code failed to answer):
    /// one wallet's failure does not hide the others.
    pub unplanned: Vec<Unplanned>,
}

/// A wallet a plan could not ask about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unplanned {
    /// The wallet.
    pub wallet: String,
    /// Why.
    pub error: String,
}

/// One wallet's part of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalletPlan {
    /// The wallet.
    pub wallet: String,
    /// The code it runs now.
    pub from: String,
    /// Its terms under the code it runs.
    pub old: Terms,
    /// Its terms once moved, unless the new code refuses to take it.
    pub new: Option<Terms>,
    /// Why the new code refuses to take it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Whether anything of its terms changes.
    pub changes: bool,
    /// Whether the consumer would get less on any path: the migration waits for their
    /// consent.
    pub consumer_worse: bool,
}

/// A wallet's figures and what each party gets on each path, under one code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Terms {
    /// The wallet's figures.
    pub view: WalletView,
    /// Each path (`refund_now`, `at_expiry`, `at_closure`): what it gives.
    pub paths: BTreeMap<&'static str, Split>,
}

/// What one path moves: to the consumer and to the merchant, or why the rules refuse it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    /// What goes back to the consumer.
    pub consumer: Amount,
    /// What the merchant owes the consumer besides, outside the wallet (a claim): weighed
    /// apart, since it is paid only as the merchant's releases pay it.
    #[serde(skip_serializing_if = "nothing")]
    pub owed: Amount,
    /// What goes to the merchant.
    pub merchant: Amount,
    /// The rules' refusal of the path (a wallet in dispute may refuse a refund), with
    /// nothing moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

fn nothing(amount: &Amount) -> bool {
    amount.is_zero()
}

/// A plan's sums.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Live wallets on other code.
    pub wallets: usize,
    /// Those whose terms change.
    pub changed: usize,
    /// Those whose consumer would get less on some path.
    pub consumer_worse: usize,
    /// Those the new code refuses to take.
    pub refused: usize,
    /// Each path: the sums under the old code and the new, over the wallets the new code
    /// takes.
    pub paths: BTreeMap<&'static str, PathTotals>,
}

/// One path's sums.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PathTotals {
    /// To consumers, under the old code.
    pub consumer_old: Amount,
    /// To consumers, under the new.
    pub consumer_new: Amount,
    /// To merchants, under the old code.
    pub merchant_old: Amount,
    /// To merchants, under the new.
    pub merchant_new: Amount,
}

/// The plan of moving every live wallet of `store` onto the component `new`, asked at `at`,
/// the wallets spread over the machine's cores. `contracts` gives the code they run now.
pub fn plan(store: &dyn Store, contracts: &Contracts, new: &WasmContract, at: i64) -> Result<Plan> {
    let to = new.code_hash();
    let mut live = Vec::new();
    for wallet in store.wallets()? {
        let Some(head) = store.wallet(&wallet)? else { continue };
        let Some(state) = head.state else { continue };
        if head.code_hash == to {
            continue;
        }
        let old = contracts.get(store, &head.code_hash)?;
        live.push((wallet, old, state));
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = live.len().div_ceil(threads).max(1);
    let planned = std::thread::scope(|scope| {
        let workers: Vec<_> = live
            .chunks(chunk)
            .map(|wallets| {
                scope.spawn(move || {
                    wallets
                        .iter()
                        .filter_map(|(wallet, old, state)| match plan_wallet(wallet, old, new, state, at) {
                            Ok(planned) => planned.map(Ok),
                            Err(error) => Some(Err(Unplanned {
                                wallet: wallet.clone(),
                                error: format!("{error:#}"),
                            })),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().map_err(|_| Error::fault("a plan's worker panicked")))
            .collect::<Result<Vec<_>>>()
    })?
    .concat();
    let (wallets, unplanned): (Vec<_>, Vec<_>) = planned.into_iter().partition(std::result::Result::is_ok);
    let wallets: Vec<WalletPlan> = wallets.into_iter().flatten().collect();
    let unplanned: Vec<Unplanned> = unplanned.into_iter().filter_map(std::result::Result::err).collect();
    let totals = Totals::of(&wallets)?;
    let hash = hash_of(serde_json::to_value((to, at, &wallets, &unplanned)).map_err(anyhow::Error::from)?);
    Ok(Plan {
        hash,
        to: to.to_owned(),
        at,
        wallets,
        totals,
        unplanned,
    })
}

/// The plan's hash of its `[to, at, wallets, unplanned]`, as JSON values: objects' keys in
/// order, whatever order they were read in.
fn hash_of(content: serde_json::Value) -> String {
    sha256_hex(content.to_string().as_bytes())
}

/// A plan read back from its JSON (as `prepaid migrate plan --json` or the API gave it),
/// its hash checked: what the migrations it foresees act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The plan's hash, which each migration names.
    pub hash: String,
    /// The component the wallets move to.
    pub to: String,
    /// The wallets the new code takes.
    pub wallets: Vec<PlannedWallet>,
}

/// A wallet a plan foresees moving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedWallet {
    /// The wallet.
    pub wallet: String,
    /// The code it ran when planned.
    pub from: String,
    /// Whether the plan found its consumer would get less: its migration asks for their
    /// consent.
    pub consumer_worse: bool,
}

impl Plan {
    /// Reads a plan's JSON back, refusing one whose content is not what its hash says (a
    /// plan edited after it was made, or cut short).
    pub fn read(json: &str) -> Result<Planned> {
        let bad = |why: String| Error::fault(format!("not a plan as `prepaid migrate plan --json` prints one: {why}"));
        let plan: serde_json::Value = serde_json::from_str(json).map_err(|error| bad(error.to_string()))?;
        let field = |name: &str| plan.get(name).cloned().ok_or_else(|| bad(format!("no `{name}`")));
        let hash = field("hash")?;
        let content =
            serde_json::Value::Array(vec![field("to")?, field("at")?, field("wallets")?, field("unplanned")?]);
        if hash.as_str() != Some(hash_of(content).as_str()) {
            return Err(bad(
                "its content is not what its hash says: it was changed after it was made".into(),
            ));
        }
        let text = |value: &serde_json::Value, name: &str| {
            value
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("a wallet with no `{name}`")))
        };
        let wallets = plan["wallets"]
            .as_array()
            .ok_or_else(|| bad("`wallets` is not a list".into()))?
            .iter()
            .filter(|wallet| !wallet["new"].is_null())
            .map(|wallet| {
                Ok(PlannedWallet {
                    wallet: text(wallet, "wallet")?,
                    from: text(wallet, "from")?,
                    consumer_worse: wallet["consumer_worse"].as_bool() == Some(true),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Planned {
            hash: text(&plan, "hash")?,
            to: text(&plan, "to")?,
            wallets,
        })
    }
}

/// One wallet: its terms under `old`, then under `new` once `new` has migrated its state;
/// `None` for a closed wallet, which nothing moves any more.
pub(crate) fn plan_wallet(
    wallet: &str,
    old: &WasmContract,
    new: &WasmContract,
    state: &[u8],
    at: i64,
) -> Result<Option<WalletPlan>> {
    if old.view(state)?.status == "closed" {
        return Ok(None);
    }
    let ctx = asking(wallet);
    let moved = serde_json::json!({"type": "migrate", "from": old.code_hash(), "to": new.code_hash()}).to_string();
    let migrated = new.unsigned().migrate(state, old.abi(), &ctx(at, "migrate"), &moved)?;
    let old_terms = terms(&old.unsigned(), state, &ctx, at)?;
    let (new_terms, refused) = match (&migrated.verdict.error, &migrated.state) {
        (None, Some(_)) if !migrated.verdict.effects.is_empty() => (
            None,
            Some("the new code would move money in a migration, which moves none".to_owned()),
        ),
        (None, Some(state)) => {
            let new_terms = terms(&new.unsigned(), state, &ctx, at)?;
            match new_terms.view.same_figures(&old_terms.view) {
                true => (Some(new_terms), None),
                false => (
                    None,
                    Some("the new code would change the wallet's figures or parties".to_owned()),
                ),
            }
        }
        (None, None) => (
            None,
            Some("the new code accepted the migration with no state".to_owned()),
        ),
        (Some(error), _) => (None, Some(format!("{}: {}", error.code, error.message))),
    };
    let (changes, consumer_worse) = match &new_terms {
        Some(new_terms) => (*new_terms != old_terms, worse(&old_terms, new_terms)),
        None => (false, false),
    };
    Ok(Some(WalletPlan {
        wallet: wallet.to_owned(),
        from: old.code_hash().to_owned(),
        old: old_terms,
        new: new_terms,
        refused,
        changes,
        consumer_worse,
    }))
}

/// The context a plan asks `wallet`'s rules with, at a time, for a question.
fn asking(wallet: &str) -> impl Fn(i64, &str) -> Context + '_ {
    move |timestamp, question| Context {
        wallet: wallet.to_owned(),
        event_id: format!("plan:{question}"),
        timestamp,
        // Taken as good by the unsigned rules: a plan asks what a party's event would do.
        signature: Some(HexBytes([0; 64])),
    }
}

/// Whether the consumer gets less on some path under `new` than under `old`: less back
/// from the wallet (a claim on the merchant is no money in hand), or less in all.
fn worse(old: &Terms, new: &Terms) -> bool {
    PATHS.iter().any(|path| {
        let (old, new) = (&old.paths[path], &new.paths[path]);
        let all = |split: &Split| split.consumer.checked_add(split.owed);
        new.consumer < old.consumer || all(new) < all(old)
    })
}

/// Where a migration stands with its consumer's consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Consent {
    /// None is needed, or the one it carries is the consumer's.
    Holds,
    /// The regulator asked for it, or the new rules give the consumer less on some path
    /// now, and it carries none.
    Missing,
    /// It carries one that is not the consumer's, and why (checked whether needed or not:
    /// the journal shows no consent the consumer did not give).
    NotTheirs(String),
}

/// Where `migration` of `wallet` from `old` (its `state`) to `new` (the state it `moved`
/// into) at `at` stands with the consumer's consent: the one question the host asks
/// before recording a migration and `verify` asks again on replay.
pub(crate) fn consent(
    migration: &crate::envelope::Envelope,
    wallet: &str,
    (old, state): (&WasmContract, &[u8]),
    (new, moved): (&WasmContract, &[u8]),
    at: i64,
) -> Result<Consent> {
    if migration.event.get("consent").is_some() {
        return Ok(match migration.migration_consented(state) {
            Ok(()) => Consent::Holds,
            Err(why) => Consent::NotTheirs(why),
        });
    }
    let asked = migration.event.get("ask_consent") == Some(&serde_json::Value::Bool(true));
    let ctx = asking(wallet);
    Ok(
        match asked
            || worse(
                &terms(&old.unsigned(), state, &ctx, at)?,
                &terms(&new.unsigned(), moved, &ctx, at)?,
            ) {
            true => Consent::Missing,
            false => Consent::Holds,
        },
    )
}

/// What `rules` give on `state` at `at`: the figures and each path.
fn terms(rules: &dyn Rules, state: &[u8], ctx: &dyn Fn(i64, &str) -> Context, at: i64) -> Result<Terms> {
    let asked = [
        ("refund_now", at, r#"{"type": "refund"}"#),
        ("at_expiry", at.saturating_add(LONG_AFTER), r#"{"type": "tick"}"#),
        ("at_closure", at, r#"{"type": "merchant_closed"}"#),
    ];
    let view = rules.view(state)?;
    let mut paths = BTreeMap::new();
    for (path, timestamp, event) in asked {
        let outcome = rules.apply(Some(state), &ctx(timestamp, path), event)?;
        paths.insert(path, Split::of(&outcome, &view)?);
    }
    Ok(Terms { view, paths })
}

impl Split {
    /// What `outcome` moves to the consumer and the merchant of `view`.
    fn of(outcome: &Outcome, view: &WalletView) -> Result<Split> {
        let mut split = Split {
            consumer: Amount::ZERO,
            owed: Amount::ZERO,
            merchant: Amount::ZERO,
            refused: outcome
                .verdict
                .error
                .as_ref()
                .map(|error| format!("{}: {}", error.code, error.message)),
        };
        for effect in &outcome.verdict.effects {
            let amount =
                Amount::parse(&effect.amount).map_err(|error| Error::fault(format!("a planned effect: {error}")))?;
            let to = match effect.kind.as_str() {
                "refund" if effect.to == view.consumer => &mut split.consumer,
                "claim" if effect.to == view.consumer => &mut split.owed,
                "release" if effect.to == view.merchant => &mut split.merchant,
                _ => {
                    return Err(Error::fault(format!(
                        "a planned {} of {} goes to {}, neither the wallet's consumer nor its merchant",
                        effect.kind, effect.amount, effect.to
                    )))
                }
            };
            *to = sum(*to, amount)?;
        }
        Ok(split)
    }
}

impl Totals {
    fn of(wallets: &[WalletPlan]) -> Result<Totals> {
        let mut totals = Totals {
            wallets: wallets.len(),
            ..Totals::default()
        };
        for wallet in wallets {
            totals.changed += usize::from(wallet.changes);
            totals.consumer_worse += usize::from(wallet.consumer_worse);
            let Some(new) = &wallet.new else {
                totals.refused += 1;
                continue;
            };
            for path in PATHS {
                let (old, new) = (&wallet.old.paths[path], &new.paths[path]);
                let sums = totals.paths.entry(path).or_default();
                sums.consumer_old = sum(sums.consumer_old, old.consumer)?;
                sums.consumer_new = sum(sums.consumer_new, new.consumer)?;
                sums.merchant_old = sum(sums.merchant_old, old.merchant)?;
                sums.merchant_new = sum(sums.merchant_new, new.merchant)?;
            }
        }
        Ok(totals)
    }
}

fn sum(a: Amount, b: Amount) -> Result<Amount> {
    a.checked_add(b).ok_or_else(|| Error::fault("a plan's sum overflowed"))
}
