//! `prepaid migrate plan`: what moving every live wallet onto a component would change,
//! for the regulator to read before signing the migrations; `prepaid migrate run`: the
//! migrations a plan foresees, signed and handed in.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use prepaid_host::plan::{Plan, Terms};
use prepaid_host::{ContractEngine, Ledger, Migrated, StoreConfig, Trust};

use crate::count;

/// Prints the plan of moving the live wallets of `store` onto the component file `to`.
pub(crate) fn plan(store: StoreConfig, to: &Path, json: bool, engine: ContractEngine) -> Result<ExitCode> {
    if let StoreConfig::Sqlite(db) = &store {
        if !db.exists() {
            bail!("no journal at {}", db.display());
        }
    }
    let bytes = std::fs::read(to).with_context(|| format!("reading the component {}", to.display()))?;
    let plan = Ledger::open(store, engine)?.plan_migration(&bytes)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", text(&plan));
    }
    Ok(ExitCode::SUCCESS)
}

/// Signs, with the regulator's key file `key`, a `migrate` naming the plan in the file
/// `plan` (whose hash must be the one the regulator read) for each wallet it foresees
/// moving onto the component file `to`, and hands each in, the wallets spread over the
/// machine's cores: admitted by `trust`, which must trust `to`.
pub(crate) fn run(
    store: StoreConfig,
    (plan, read): (&Path, &str),
    to: &Path,
    key: &Path,
    trust: Trust,
    engine: ContractEngine,
) -> Result<ExitCode> {
    let planned =
        Plan::read(&std::fs::read_to_string(plan).with_context(|| format!("reading the plan {}", plan.display()))?)?;
    if planned.hash != read {
        bail!(
            "the plan in {} is {}, not the plan {read} the regulator read",
            plan.display(),
            planned.hash
        );
    }
    let bytes = std::fs::read(to).with_context(|| format!("reading the component {}", to.display()))?;
    let code_hash = prepaid_host::outcome::sha256_hex(&bytes);
    if code_hash != planned.to {
        bail!(
            "the plan moves wallets onto component {}, but {} is {code_hash}",
            planned.to,
            to.display()
        );
    }
    if !trust.trusts_component(&code_hash) {
        bail!("component {code_hash} is not in the trust file: no wallet may move onto it");
    }
    let key = prepaid_host::keys::read_key_file(key)?;
    let ledger = Ledger::open(store, engine)?.with_trust(trust);
    ledger.install(&bytes)?;
    let started = std::time::Instant::now();
    let results = ledger.migrate_as_planned(&planned, &key);
    let (mut moved, mut waiting, mut others, mut refused) = (0, 0, 0, 0);
    for (wallet, result) in &results {
        match result {
            None => others += 1,
            Some(Ok(Migrated::Moved(_))) => moved += 1,
            Some(Ok(Migrated::Waiting)) => {
                waiting += 1;
                println!("{wallet}: waits for its consumer's consent");
            }
            Some(Err(error)) => {
                refused += 1;
                println!("{wallet}: refused: {error:#}");
            }
        }
    }
    println!(
        "plan {}: {moved} moved onto {code_hash}, {waiting} waiting for consent, {others} left to their own \
         regulators, {refused} refused, in {:.1} s",
        planned.hash,
        started.elapsed().as_secs_f64()
    );
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The plan for people: every wallet that changes or is refused, path by path, then the
/// totals.
fn text(plan: &Plan) -> String {
    let totals = &plan.totals;
    let mut out = format!(
        "plan {}: {} onto component {}\n",
        plan.hash,
        count(totals.wallets, "live wallet", "live wallets"),
        plan.to
    );
    for wallet in &plan.wallets {
        match (&wallet.new, &wallet.refused) {
            (_, Some(why)) => {
                out += &format!(
                    "{}: stays on {}: the new code refuses it: {why}\n",
                    wallet.wallet, wallet.from
                )
            }
            (Some(new), None) if wallet.changes => {
                let consent = if wallet.consumer_worse {
                    " (the consumer gets less: needs their consent)"
                } else {
                    ""
                };
                out += &format!("{}: changes{consent}\n", wallet.wallet);
                out += &paths(&wallet.old, new);
            }
            _ => {}
        }
    }
    for unplanned in &plan.unplanned {
        out += &format!("{}: could not be planned: {}\n", unplanned.wallet, unplanned.error);
    }
    out += &format!(
        "{} change, {} would give the consumer less, {} refused\n",
        totals.changed, totals.consumer_worse, totals.refused
    );
    for (path, sums) in &totals.paths {
        out += &format!(
            "  {path:<11} consumers {} -> {}, merchants {} -> {}\n",
            sums.consumer_old, sums.consumer_new, sums.merchant_old, sums.merchant_new
        );
    }
    out
}

/// One wallet's paths, old against new, and its figures where they differ.
fn paths(old: &Terms, new: &Terms) -> String {
    let mut out = String::new();
    if old.view != new.view {
        out += &format!(
            "  figures     frozen {} -> {}, pending {} -> {}\n",
            old.view.frozen, new.view.frozen, old.view.pending, new.view.pending
        );
    }
    for (path, before) in &old.paths {
        let after = &new.paths[path];
        out += &format!(
            "  {path:<11} consumer {} -> {}, merchant {} -> {}{}\n",
            before.consumer,
            after.consumer,
            before.merchant,
            after.merchant,
            after
                .refused
                .as_deref()
                .map(|why| format!(" (refused: {why})"))
                .unwrap_or_default()
        );
    }
    out
}
