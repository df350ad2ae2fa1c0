//! `prepaid verify`: every wallet of a journal or bundle replayed with its pinned code,
//! held to a signed checkpoint, a trust file and the code hashes expected.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use prepaid_host::signed::{note, proven_leaves, Checkpoint, TreeHead};
use prepaid_host::store::Store as _;
use prepaid_host::verify::{printable, untrusted_wallets, verify_with_progress, Checks, Coverage, Divergence, Report};
use prepaid_host::Contracts;
use prepaid_host::Trust;

use crate::args::{self, VerifyArgs};
use crate::{count, open_journal};

/// Runs `prepaid verify` with `args`.
pub(crate) fn run(args: VerifyArgs) -> Result<ExitCode> {
    let VerifyArgs {
        db,
        bundle,
        json,
        trust,
        cache,
        checkpoint,
        platform_key,
        expect_code_hash,
        wallet,
    } = args;
    let journal = open_journal(db.as_deref(), bundle.as_deref())?;
    let mut checks = Checks {
        code_hashes: expect_code_hash,
        ..Checks::default()
    };
    let signed_by = match (checkpoint, platform_key) {
        (Some(path), Some(key)) => {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading the checkpoint {}", path.display()))?;
            let (note, wallets) = note::split(&text).with_context(|| format!("the checkpoint {}", path.display()))?;
            let head = TreeHead::open(note, &key).with_context(|| format!("the checkpoint {}", path.display()))?;
            if wallets.is_empty() && head.size > 0 {
                // The note alone, as GET /v1/checkpoint serves it: a bundle's
                // proofs must lead to it.
                if bundle.is_none() {
                    anyhow::bail!(
                        "{} is a checkpoint's note without its wallets, which can hold a bundle (through \
                     its proofs) but not a journal: get the whole file (GET /v1/checkpoint?leaves=true)",
                        path.display()
                    );
                }
                checks.coverage = Coverage::Journal;
                let (_, leaves) = proven_leaves(journal.proofs()?, &key, Some(&head))?;
                checks.checkpoint = leaves;
            } else {
                // A bundle answers for the wallets it holds, each held to its line.
                if bundle.is_some() {
                    checks.coverage = Coverage::Journal;
                }
                checks.checkpoint = Checkpoint::read(&text, &key)
                    .with_context(|| format!("the checkpoint {}", path.display()))?
                    .leaves;
            }
            vec![head]
        }
        (None, Some(key)) => {
            if bundle.is_none() {
                anyhow::bail!(
                    "--platform-key alone holds a bundle to the proofs it carries; hold a journal to a \
                 checkpoint with --checkpoint FILE"
                );
            }
            checks.coverage = Coverage::Journal;
            let (head, leaves) = proven_leaves(journal.proofs()?, &key, None).context("the bundle's proofs")?;
            checks.checkpoint = leaves;
            vec![head]
        }
        (_, None) => Vec::new(),
    };
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("verifying {bar:40} {pos}/{len} wallets, {eta} left").expect("a valid template"),
    );
    let mut report = verify_with_progress(
        &journal,
        &Contracts::new(args::engine(cache.as_deref())?),
        &checks,
        |done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        },
    )?;
    progress.finish_and_clear();
    // The wallets the auditor asked for must be there: a bundle of another wallet,
    // or of none, verifies clean of nothing.
    for wallet in &wallet {
        if journal.wallet(wallet)?.is_none() {
            report.divergences.push(Divergence {
                wallet: wallet.clone(),
                seq: 0,
                field: "wallet".into(),
                recorded: "no such wallet".into(),
                replayed: "the wallet asked for (--wallet)".into(),
                against: "the request",
                fuel_only: false,
            });
        }
    }
    if report.wallets == 0 && !signed_by.is_empty() {
        anyhow::bail!("the journal holds no wallet to hold to the checkpoint");
    }
    let untrusted = match trust {
        Some(path) => untrusted_wallets(&journal, &Trust::load(&path)?)?,
        None => Vec::new(),
    };
    if json {
        let mut document = serde_json::to_value(&report)?;
        document["untrusted"] = serde_json::to_value(&untrusted)?;
        document["checkpoints"] = signed_by.iter().map(|head| head.note.clone()).collect();
        println!("{document}");
    } else {
        for head in &signed_by {
            println!(
                "checkpoint of {}: {}, signed by the platform key",
                head.time,
                count(head.size as usize, "wallet", "wallets")
            );
        }
        print_report(&report);
        for wallet in &untrusted {
            println!(
                "UNTRUSTED wallet {}: {}",
                printable(&wallet.wallet),
                printable(&wallet.reason)
            );
        }
    }
    Ok(if report.is_clean() && untrusted.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(crate) fn print_report(report: &Report) {
    for code_hash in &report.components {
        println!("component {code_hash}: bytes match the code hash");
    }
    for divergence in &report.divergences {
        println!("DIVERGENCE {divergence}");
    }
    let verdict = if report.is_clean() { "clean" } else { "DIVERGED" };
    println!(
        "verify: {}, {} replayed with their pinned code: {verdict}",
        count(report.wallets, "wallet", "wallets"),
        count(report.entries, "entry", "entries")
    );
}
