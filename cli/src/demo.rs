//! `prepaid demo`: the bundled example, run into a SQLite journal and shown for a person:
//! each step's outcome, the wallets' figures, and the verification of the journal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use prepaid_host::alerts::AlertRules;
use prepaid_host::envelope::timestamp;
use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::registry::{Action, Actor, Industry, ListingDecision, MerchantDecision, Record};
use prepaid_host::stats::{GroupBy, Query};
use prepaid_host::testkit::scenario::{self, Scenario, StepReport};
use prepaid_host::{Clock, ContractEngine, Ledger, StoreConfig};

use crate::verify::print_report;
use crate::ComponentArg;

/// The demo's scenario: a gym, a tea house, an orthodontist and a pool, and their customers.
const SCENARIO: &str = include_str!("demo.json");

/// A ledger over a new journal at `db` (an old one is replaced).
pub fn fresh_ledger(db: &Path, component: &ComponentArg, engine: ContractEngine) -> Result<Ledger> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| format!("removing the old {}", file.display()))?;
        }
    }
    // Written in advance as the platform would have lived it: every wallet's money comes
    // from the rail's `funded`.
    component.ledger(StoreConfig::Sqlite(db.to_path_buf()), engine, Clock::Scripted)
}

/// The demo's merchants as they register: name, industry, district (and the regulator
/// that reviews them). The clinic comes first, so that its listing is `L3`.
const MERCHANTS: [(&str, Industry, &str, &str); 6] = [
    ("clinic", Industry::Dental, "Gusu", "suzhou"),
    ("gym", Industry::Fitness, "Chaoyang", "beijing"),
    ("teahouse", Industry::Other, "Gusu", "suzhou"),
    ("salon", Industry::Beauty, "Gusu", "suzhou"),
    ("school", Industry::Education, "Xihu", "zhejiang"),
    ("pool", Industry::Fitness, "Xuhui", "shanghai"),
];

/// When the orthodontics listing's approval lapses (2027-03-01T00:00:00Z), as the demo's
/// `open` of it names.
const APPROVED_UNTIL: i64 = 1_803_859_200;

/// The platform before the sales: the merchants register and are approved, the clinic
/// lists its orthodontics plan and the Suzhou regulator approves it. Returns the records.
fn registry(ledger: &Ledger) -> Result<Vec<Record>> {
    let at = |day: u32| timestamp(&format!("2026-03-0{day}T09:00:00Z"));
    let by = |role: &str, name: &str| Actor {
        role: role.into(),
        name: name.into(),
    };
    let mut records = Vec::new();
    for (index, (name, industry, district, regulator)) in MERCHANTS.into_iter().enumerate() {
        let merchant = public_key(&dev_key(name)).to_string();
        let register = Action::RegisterMerchant {
            merchant: merchant.clone(),
            name: name.into(),
            industry,
            district: district.into(),
            licence: format!("9132050{index}MA1DEMO"),
        };
        records.push(ledger.platform().record_at(by("merchant", name), register, at(1)?)?);
        let review = Action::ReviewMerchant {
            merchant,
            decision: MerchantDecision::Approve,
            reason: "licence checked".into(),
        };
        records.push(
            ledger
                .platform()
                .record_at(by("regulator", regulator), review, at(2)?)?,
        );
        if name != "clinic" {
            continue;
        }
        let submit = Action::SubmitListing {
            listing: String::new(),
            merchant: public_key(&dev_key(name)).to_string(),
            name: "Orthodontics, full course".into(),
            category: "orthodontics".into(),
            product: serde_json::json!({"kind": "plan", "stages": [
                {"name": "assessment", "amount": "800.00"}, {"name": "appliance", "amount": "9000.00"},
                {"name": "adjustments", "amount": "6000.00"}, {"name": "retention", "amount": "2200.00"}]}),
            // Jiangsu's cooling-off period (江苏省消费者权益保护条例 Art. 28): 15 days.
            policy: serde_json::json!({"cooling_off_days": 15, "deemed_confirm_days": 0}),
        };
        let submitted = ledger.platform().record_at(by("merchant", name), submit, at(3)?)?;
        let Action::SubmitListing { listing, .. } = &submitted.action else {
            unreachable!("a submission is recorded as one");
        };
        let approval = ledger
            .platform()
            .registry()?
            .listing(listing)
            .context("the listing just submitted")?
            .approve(&dev_key(regulator), APPROVED_UNTIL)?;
        let review = Action::ReviewListing {
            listing: listing.clone(),
            decision: ListingDecision::Approve,
            reason: "terms within the rules".into(),
            approval: Some(approval),
        };
        records.push(submitted);
        records.push(
            ledger
                .platform()
                .record_at(by("regulator", regulator), review, at(4)?)?,
        );
    }
    Ok(records)
}

/// A registry record in a few words.
fn described(record: &Record) -> String {
    match &record.action {
        Action::RegisterMerchant {
            name,
            industry,
            district,
            ..
        } => format!(
            "registers {name} ({}, {district})",
            serde_json::to_value(industry).unwrap_or_default()
        ),
        Action::ReviewMerchant { decision, reason, .. } => {
            format!(
                "{} the merchant: {reason}",
                serde_json::to_value(decision).unwrap_or_default()
            )
        }
        Action::SubmitListing { listing, name, .. } => format!("lists {listing}, {name}"),
        Action::ReviewListing { listing, decision, .. } => {
            format!(
                "{} {listing} until 2027-03-01",
                serde_json::to_value(decision).unwrap_or_default()
            )
        }
        other => format!("{other:?}"),
    }
}

/// Runs the demo on `ledger` (journaling into `db`) and prints it.
pub fn run(ledger: &Ledger, db: &Path) -> Result<ExitCode> {
    let scenario = Scenario::parse(SCENARIO).context("the bundled demo scenario")?;
    let records = registry(ledger)?;
    let run = scenario::run(&scenario, ledger, &mut std::io::sink())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\njournal: {}\n", scenario.name, db.display())?;
    writeln!(out, "{:<3} {:<11} {:<10} {:<10} change", "n", "day", "by", "role")?;
    // The clinic's own records come first.
    for record in records.iter().take(4) {
        writeln!(
            out,
            "{:<3} {:<11} {:<10} {:<10} {}",
            record.n,
            &record.at[..10],
            record.by.name,
            record.by.role,
            described(record).replace('"', "")
        )?;
    }
    writeln!(
        out,
        "(and {} more: five merchants registered and approved)\n",
        records.len() - 4
    )?;
    writeln!(
        out,
        "{:<4} {:<12} {:<15} {:<9} outcome",
        "step", "wallet", "event", "by"
    )?;
    for (step, report) in scenario.steps.iter().zip(&run.steps) {
        let kind = step.event["type"].as_str().unwrap_or("?");
        writeln!(
            out,
            "{:<4} {:<12} {kind:<15} {:<9} {}",
            report.step,
            report.wallet,
            step.signer().unwrap_or("-"),
            outcome(report)
        )?;
    }
    writeln!(
        out,
        "\n{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "wallet", "product", "status", "paid", "frozen", "released", "refunded", "pending"
    )?;
    for wallet in ledger.wallets()? {
        if let Some(view) = ledger.view(&wallet)? {
            writeln!(
                out,
                "{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                wallet, view.product, view.status, view.paid, view.frozen, view.released, view.refunded, view.pending
            )?;
        }
    }
    // What a merchant owes beyond the wallets (a supervised share it was paid outside
    // them), and what its later releases paid of it.
    writeln!(
        out,
        "\nclaims: what a merchant owes beyond the wallet, paid first from its next releases"
    )?;
    let names = scenario.actors();
    let name = |key: &str| names.get(key).cloned().unwrap_or_else(|| key.to_owned());
    for wallet in ledger.wallets()? {
        for claim in ledger.claims_of(&wallet)? {
            writeln!(
                out,
                "  {wallet}: {} owes {} {} ({}); {} paid from its releases, {} outstanding",
                name(&claim.merchant),
                name(&claim.consumer),
                claim.amount,
                claim.reason,
                claim.paid,
                claim.remaining
            )?;
        }
    }
    // What the regulator reads: the supervised funds by industry, and an alert.
    let by_industry = Query {
        group_by: GroupBy::Industry,
        ..Query::default()
    };
    writeln!(
        out,
        "\n{:<12} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "industry", "paid", "frozen", "released", "refunded", "wallets", "pending"
    )?;
    for line in ledger.platform().stats(&by_industry)? {
        writeln!(
            out,
            "{:<12} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            line.group, line.paid, line.frozen, line.released, line.refunded, line.wallets, line.pending_requests
        )?;
    }
    let rules = AlertRules {
        frozen_over: Some("5000.00".into()),
        claims_outstanding_over: Some("500.00".into()),
        ..AlertRules::default()
    };
    let last = timestamp("2026-06-10T00:00:00Z")?;
    ledger.platform().record_at(
        Actor {
            role: "regulator".into(),
            name: "suzhou".into(),
        },
        Action::ConfigureAlerts { rules },
        last,
    )?;
    writeln!(
        out,
        "\nalerts with frozen_over 5000.00 and claims_outstanding_over 500.00:"
    )?;
    for alert in ledger.platform().alerts_at(last)? {
        writeln!(
            out,
            "  {} {}: {}",
            alert.kind.as_str(),
            alert.name.as_deref().unwrap_or(&alert.merchant),
            alert.message
        )?;
    }
    writeln!(out)?;
    drop(out);
    let report = ledger.verify()?;
    print_report(&report);
    for mismatch in &run.mismatches {
        eprintln!("expect failed: {mismatch}");
    }
    Ok(if report.is_clean() && run.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A step's outcome in a few words: the money it moved and why, or why it was rejected.
fn outcome(report: &StepReport) -> String {
    match (&report.error, report.seq) {
        // Refused before it was shown to come from a party of the wallet: not recorded.
        (Some(error), None) => return format!("refused, not recorded: {}", error.code),
        (Some(error), Some(_)) => return format!("rejected: {}", error.code),
        (None, _) => {}
    }
    let effects: Vec<String> = report
        .effects
        .iter()
        .map(|effect| format!("{} {} to {} ({})", effect.kind, effect.amount, effect.to, effect.reason))
        .collect();
    if effects.is_empty() {
        "ok".into()
    } else {
        format!("ok: {}", effects.join(", "))
    }
}
