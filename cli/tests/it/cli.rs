//! The `prepaid` command line, as SCENARIOS.md and the README describe it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{prepaid, prepaid_with_input, text, workspace};
use prepaid_host::store::Store as _;

fn example() -> PathBuf {
    workspace().join("tests/scenarios/sessions_refund_after_cooling_off.json")
}

/// Runs the example scenario with `from` replaced by `to`, from a file in `dir`.
fn run_altered_example(dir: &Path, from: &str, to: &str) -> Output {
    let file = dir.join("altered.json");
    std::fs::write(&file, std::fs::read_to_string(example()).unwrap().replace(from, to)).unwrap();
    prepaid(&["scenario", "run", file.to_str().unwrap()])
}

#[test]
fn scenario_run_prints_a_json_line_per_step_as_documented() {
    let output = prepaid(&["scenario", "run", example().to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let step = &lines[2];
    assert_eq!(step["step"], 2);
    assert_eq!(step["wallet"], "w1");
    assert_eq!(step["seq"], 3);
    assert_eq!(step["event_id"], "w1-2");
    assert_eq!(step["ok"], true);
    assert_eq!(step["error"], serde_json::Value::Null);
    assert_eq!(step["effects"][0]["kind"], "release");
    assert_eq!(step["effects"][0]["to"], "clinic");
    assert_eq!(step["effects"][0]["amount"], "240.00");
    assert_eq!(step["view"]["status"], "active");
    assert_eq!(step["view"]["frozen"], "2160.00");
    assert_eq!(step["state_hash"].as_str().unwrap().len(), 64);
    assert!(step["fuel"].as_u64().unwrap() > 0);
}

#[test]
fn a_failed_expect_exits_non_zero_naming_the_step_and_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_altered_example(dir.path(), "\"refunded\": \"2100.00\"", "\"refunded\": \"2160.00\"");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("step 3: expect.view.refunded: expected \"2160.00\", got \"2100.00\""),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout).lines().count(), 4, "every step still runs");
}

#[test]
fn a_malformed_scenario_file_exits_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content, says) in [
        ("bad.json", "{\"name\": \"x\", \"steps\": [", "is not a valid scenario file"),
        ("unknown.json", "{\"name\": \"x\", \"steps\": [], \"stpes\": []}", "unknown field `stpes`"),
        ("notype.json", "{\"name\": \"x\", \"steps\": [{\"at\": \"2026-01-01T00:00:00Z\", \"wallet\": \"w\", \"event\": {}}]}", "step 0"),
        ("badtime.json", "{\"name\": \"x\", \"steps\": [{\"at\": \"yesterday\", \"wallet\": \"w\", \"by\": \"alice\", \"event\": {\"type\": \"refund\"}}]}", "RFC 3339"),
        ("unsigned.json", "{\"name\": \"x\", \"steps\": [{\"at\": \"2026-01-01T00:00:00Z\", \"wallet\": \"w\", \"event\": {\"type\": \"refund\"}}]}", "step 0: `by` is missing"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let output = prepaid(&["scenario", "run", file.to_str().unwrap()]);
        assert!(!output.status.success(), "{name}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    let output = prepaid(&["scenario", "run", "/nonexistent.json"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("reading /nonexistent.json"));
}

#[test]
fn verify_passes_on_a_scenario_journal_and_names_a_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let db = db.to_str().unwrap();
    assert!(prepaid(&["scenario", "run", example().to_str().unwrap(), "--db", db])
        .status
        .success());
    let output = prepaid(&["verify", "--db", db]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("1 wallet, 4 entries replayed with their pinned code: clean"));

    // Fuel as an engine upgrade would record it: the entry's hash and every later one
    // recomputed, so only fuel differs. Verify names it as what an engine change explains.
    let mut entries = prepaid_host::store::sqlite::SqliteStore::open_read_only(Path::new(db))
        .unwrap()
        .entries("w1")
        .unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    entries[2].fuel += 1;
    for index in 2..entries.len() {
        entries[index].prev_hash = entries[index - 1].entry_hash.clone();
        entries[index].entry_hash = entries[index].compute_hash();
        let entry = &entries[index];
        conn.execute(
            "UPDATE journal SET fuel = ?1, prev_hash = ?2, entry_hash = ?3 WHERE wallet = 'w1' AND seq = ?4",
            rusqlite::params![entry.fuel, entry.prev_hash, entry.entry_hash, entry.seq],
        )
        .unwrap();
    }
    let head = &entries.last().unwrap().entry_hash;
    conn.execute("UPDATE wallets SET head_hash = ?1 WHERE wallet = 'w1'", [head])
        .unwrap();
    let output = prepaid(&["verify", "--db", db]);
    assert!(!output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("DIVERGENCE wallet w1, seq 3: fuel differs"), "{stdout}");
    assert!(
        stdout.contains("(fuel only: the outcome and state replay the same"),
        "{stdout}"
    );
    let output = prepaid(&["verify", "--db", db, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["divergences"][0]["field"], "fuel");
    assert_eq!(report["divergences"][0]["fuel_only"], true);
    assert_eq!(report["divergences"].as_array().unwrap().len(), 1, "{report}");

    // Fuel changed by hand, the hash left: that no engine explains.
    conn.execute("UPDATE journal SET fuel = fuel + 1 WHERE wallet = 'w1' AND seq = 4", [])
        .unwrap();
    drop(conn);
    let output = prepaid(&["verify", "--db", db, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["divergences"][1]["field"], "entry_hash", "{report}");
    assert_eq!(report["divergences"][1]["fuel_only"], false);

    let output = prepaid(&["verify", "--db", dir.path().join("missing.db").to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("no journal at"));
}

#[test]
fn contract_hash_prints_the_sha256_of_the_component() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bytes.wasm");
    std::fs::write(&file, b"abc").unwrap();
    let output = prepaid(&["contract", "hash", file.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout).trim(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn the_demo_runs_and_verifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let output = prepaid(&["demo", "--db", db.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("gym-alice    sessions      closed     2400.00      0.00    300.00   2100.00"),
        "{stdout}"
    );
    assert!(stdout.contains(": clean"), "{stdout}");
}

#[test]
fn an_exported_bundle_verifies_alone_and_names_a_tampered_entry_or_missing_component() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    assert!(prepaid(&["demo", "--db", db.to_str().unwrap()]).status.success());
    let bundle = dir.path().join("gym.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--wallet",
        "gym-alice",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("1 wallet, 5 entries, their outbox"),
        "{}",
        text(&output.stdout)
    );
    std::fs::remove_file(&db).unwrap();

    let output = prepaid(&["verify", "--bundle", bundle.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("bytes match the code hash"), "{stdout}");
    assert!(
        stdout.contains("1 wallet, 5 entries replayed with their pinned code: clean"),
        "{stdout}"
    );

    let again = prepaid(&[
        "journal",
        "export",
        "--db",
        bundle.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(text(&again.stderr).contains("already exists"));

    let tampered = dir.path().join("tampered.bundle");
    std::fs::copy(&bundle, &tampered).unwrap();
    let conn = rusqlite::Connection::open(&tampered).unwrap();
    conn.execute("UPDATE journal SET at = '2026-03-03T18:11:00Z' WHERE seq = 5", [])
        .unwrap();
    drop(conn);
    let output = prepaid(&["verify", "--bundle", tampered.to_str().unwrap(), "--json"]);
    assert!(!output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["divergences"][0]["wallet"], "gym-alice");
    assert_eq!(report["divergences"][0]["seq"], 5);

    let stripped = dir.path().join("stripped.bundle");
    std::fs::copy(&bundle, &stripped).unwrap();
    let conn = rusqlite::Connection::open(&stripped).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM components;")
        .unwrap();
    drop(conn);
    let output = prepaid(&["verify", "--bundle", stripped.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        text(&output.stdout).contains("no stored component with this hash"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn verify_needs_a_journal_or_a_bundle() {
    let output = prepaid(&["verify"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--db <DB>|--bundle <BUNDLE>"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn real_keys_sign_apply_and_the_outbox_hands_effects_to_the_rail_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let mut keys = Vec::new();
    for actor in ["consumer", "merchant", "regulator"] {
        let output = prepaid(&["keygen", "--out", &path(&format!("{actor}.key"))]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        keys.push(text(&output.stdout).trim().to_owned());
    }
    let again = prepaid(&["keygen", "--out", &path("consumer.key")]);
    assert!(!again.status.success(), "keygen overwrote a key");

    let open = serde_json::json!({"wallet": "w1", "id": "open", "event": {
        "type": "open", "consumer": keys[0], "merchant": keys[1], "regulator": keys[2],
        "product": {"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"},
        "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}, "awaiting_funding": true}});
    let approved = prepaid_with_input(
        &["sign", "--key", &path("regulator.key"), "--approve"],
        &format!("{open}\n"),
    );
    assert!(approved.status.success(), "{}", text(&approved.stderr));
    let open = prepaid_with_input(&["sign", "--key", &path("consumer.key")], &text(&approved.stdout));
    let request = prepaid_with_input(
        &["sign", "--key", &path("merchant.key")],
        r#"{"wallet": "w1", "id": "r1", "event": {"type": "request", "request": "r1", "units": 2}}"#,
    );
    let authorize = prepaid_with_input(
        &["sign", "--key", &path("consumer.key")],
        r#"{"wallet": "w1", "id": "a1", "event": {"type": "authorize", "request": "r1", "units": 2}}"#,
    );
    // The payment adapter's report that the consumer paid: unsigned.
    let funded = serde_json::json!({"wallet": "w1", "id": "f1", "event": {
        "type": "funded", "reference": "RAIL-0001", "amount": "2400.00", "payer": keys[0]}});
    let events = [&open, &request, &authorize]
        .iter()
        .map(|output| text(&output.stdout))
        .collect::<Vec<_>>();
    let events = [
        events[0].clone(),
        format!("{funded}\n"),
        events[1].clone(),
        events[2].clone(),
    ]
    .concat();
    let db = path("journal.db");

    // Admitted by a trust file, or not at all.
    let untrusted = prepaid_with_input(&["apply", "--db", &db], &events);
    assert!(!untrusted.status.success());
    assert!(
        text(&untrusted.stderr).contains("give --trust FILE"),
        "{}",
        text(&untrusted.stderr)
    );
    assert!(
        !dir.path().join("journal.db").exists(),
        "a refused apply opened the journal"
    );
    let trust = crate::trust_file(dir.path(), &keys[2]);
    let trust = trust.to_str().unwrap();
    let apply = ["apply", "--db", &db, "--trust", trust];

    let applied = prepaid_with_input(&apply, &events);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let lines: Vec<serde_json::Value> = text(&applied.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|line| line["ok"] == true), "{lines:?}");
    assert_eq!(lines[3]["effects"][0]["amount"], "480.00");

    let replayed = prepaid_with_input(&apply, &events);
    assert!(text(&replayed.stdout)
        .lines()
        .all(|line| line.contains(r#""replayed":true"#)));
    let refused = prepaid_with_input(&apply, "not json\n");
    assert!(!refused.status.success());
    assert!(text(&refused.stdout).contains("bad_envelope"));

    let pending = prepaid(&["outbox", "list", "--db", &db]);
    let effects: Vec<serde_json::Value> = text(&pending.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0]["effect_id"], "w1:4:0");
    assert_eq!(effects[0]["to"], keys[1].as_str());
    assert!(prepaid(&["outbox", "ack", "--db", &db, "w1:4:0"]).status.success());
    assert!(!prepaid(&["outbox", "ack", "--db", &db, "w1:9:9"]).status.success());
    assert_eq!(text(&prepaid(&["outbox", "list", "--db", &db]).stdout), "");

    let wallet = prepaid(&["wallet", "w1", "--db", &db]);
    assert!(
        text(&wallet.stdout).contains("frozen 1920.00, released 480.00"),
        "{}",
        text(&wallet.stdout)
    );
    assert!(prepaid(&["verify", "--db", &db]).status.success());
}

/// SIGKILL `prepaid apply` again and again while it works through a batch of events,
/// one at a time or in group commits, re-running the whole batch each time (as a client
/// retries): every event it acknowledged is in the
/// journal exactly once, no effect is queued twice, and the journal verifies.
#[test]
fn killing_apply_repeatedly_loses_nothing_and_duplicates_nothing() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let events: Vec<prepaid_host::envelope::Envelope> = prepaid_host::testkit::workload::standard_mix(40).unwrap();
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(
        &batch,
        // As clients send them: without times, which `apply` stamps.
        events
            .iter()
            .map(|raw| raw.untimed().to_json() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let db = dir.path().join("journal.db");
    let cache = dir.path().join("cache");
    let trust = crate::trust_file(
        dir.path(),
        &prepaid_host::keys::public_key(&prepaid_host::keys::dev_key("regulator")).to_string(),
    );

    let mut acknowledged = std::collections::HashSet::new();
    let mut kills = 0;
    for round in 0.. {
        // Odd rounds commit in groups, so kills also land inside a group commit.
        let group = if round % 2 == 0 { "1" } else { "16" };
        let args = [
            "apply",
            "--db",
            db.to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
            "--batch",
            group,
            "--trust",
            trust.to_str().unwrap(),
        ];
        let mut child = Command::new(env!("CARGO_BIN_EXE_prepaid"))
            .args(args)
            .arg(&batch)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a varying number of acknowledgements in the first rounds; then let a
        // round finish.
        let kill_after = if round < 8 { Some(5 + round * 7) } else { None };
        let mut seen = 0;
        for line in lines {
            let Ok(line) = line else { break };
            let report: serde_json::Value = serde_json::from_str(&line).unwrap();
            acknowledged.insert((
                report["wallet"].as_str().unwrap().to_owned(),
                report["id"].as_str().unwrap().to_owned(),
            ));
            seen += 1;
            if Some(seen) == kill_after {
                child.kill().unwrap();
                kills += 1;
                break;
            }
        }
        let status = child.wait().unwrap();
        if kill_after.is_none() {
            assert!(status.success());
            break;
        }
    }
    assert!(kills >= 8);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let entries: i64 = conn
        .query_row("SELECT COUNT(*) FROM journal", [], |row| row.get(0))
        .unwrap();
    assert_eq!(entries as usize, events.len(), "every event once");
    for (wallet, id) in &acknowledged {
        let found: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM journal WHERE wallet = ?1 AND event_id = ?2",
                [wallet, id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "acknowledged event {wallet}/{id}");
    }
    let queued: i64 = conn
        .query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))
        .unwrap();
    let mut produced = 0;
    let mut statement = conn.prepare("SELECT outcome FROM journal").unwrap();
    for outcome in statement.query_map([], |row| row.get::<_, String>(0)).unwrap() {
        let outcome: serde_json::Value = serde_json::from_str(&outcome.unwrap()).unwrap();
        produced += outcome["effects"].as_array().unwrap().len() as i64;
    }
    assert_eq!(queued, produced, "each effect queued exactly once");
    drop(statement);
    drop(conn);
    let output = prepaid(&["verify", "--db", db.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stdout));
}

/// Running a scenario again on the same journal changes nothing and says so: every step
/// is reported replayed, with the figures recorded at that step (not the wallet's latest),
/// so the file's `expect`s still hold and the run passes.
#[test]
fn a_scenario_run_again_on_its_journal_reports_each_step_replayed_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let file = example();
    let args = ["scenario", "run", file.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let first = prepaid(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let again = prepaid(&args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let lines = |output: &Output| -> Vec<serde_json::Value> {
        text(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    for (first, again) in lines(&first).into_iter().zip(lines(&again)) {
        assert_eq!(first["replayed"], false);
        assert_eq!(again["replayed"], true);
        for field in ["seq", "ok", "effects", "view", "state_hash", "fuel"] {
            assert_eq!(first[field], again[field], "step {}: {field}", first["step"]);
        }
    }
}

/// An `expect` naming a key the output does not have says so, rather than reporting that
/// the value differs from null.
#[test]
fn a_misspelt_expect_key_is_named_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_altered_example(dir.path(), "\"refunded\": \"2100.00\"", "\"refundd\": \"2100.00\"");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("expect.view.refundd: expected \"2100.00\", got no such key (the output has "),
        "{stderr}"
    );
    assert!(stderr.contains("`refunded`"), "{stderr}");
}

/// A rejected step is an outcome, so the run passes; with no `expect` saying it was meant,
/// the runner points it out.
#[test]
fn a_rejection_no_expect_checks_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("priced_plan.json");
    std::fs::write(
        &file,
        r#"{"name": "a plan with a price", "steps": [
        {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "carol", "event": {"type": "open",
         "consumer": "carol", "merchant": "clinic", "regulator": "city",
         "product": {"kind": "plan", "price": "100.00", "stages": [{"name": "a", "amount": "100.00"}]},
         "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}}]}"#,
    )
    .unwrap();
    let output = prepaid(&["scenario", "run", file.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(
        text(&output.stderr).contains("note: step 0 was rejected (bad_event) and has no `expect`"),
        "{}",
        text(&output.stderr)
    );
}

/// Verifying a bundle writes nothing: no lock or WAL files beside it, and its bytes stay
/// what the platform sent.
#[test]
fn verifying_a_bundle_leaves_it_and_its_folder_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let run = prepaid(&[
        "scenario",
        "run",
        example().to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    let bundles = dir.path().join("bundles");
    std::fs::create_dir(&bundles).unwrap();
    let bundle = bundles.join("audit bundle?#%.bundle");
    let export = prepaid(&[
        "journal",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let before = std::fs::read(&bundle).unwrap();
    let verify = prepaid(&["verify", "--bundle", bundle.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    let files: Vec<_> = std::fs::read_dir(&bundles)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(files, [bundle.file_name().unwrap()], "only the bundle is in its folder");
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
}

/// `prepaid sign` on an `open` without the regulator's approval names the step missing.
#[test]
fn signing_an_unapproved_open_names_approve() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("consumer.key");
    assert!(prepaid(&["keygen", "--out", key.to_str().unwrap()]).status.success());
    let open = r#"{"wallet": "w1", "id": "open", "at": "2026-01-05T09:00:00Z", "event": {"type": "open"}}"#;
    let output = prepaid_with_input(&["sign", "--key", key.to_str().unwrap()], open);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("--approve"), "{}", text(&output.stderr));
}

/// `--cache` is offered only where a contract runs.
#[test]
fn cache_is_an_option_only_of_commands_that_run_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    let output = prepaid(&[
        "keygen",
        "--out",
        key.to_str().unwrap(),
        "--cache",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("unexpected argument '--cache'"),
        "{}",
        text(&output.stderr)
    );
}

/// The attack of "Nobody but the consumer" (6): compiled components in a cache are native
/// code. Someone who can write to the folder `PREPAID_CACHE` names plants another
/// component's compiled form under the contract's name. `verify` compiles afresh unless
/// given `--cache` itself, so the planted code does not run and the journal verifies as
/// what it is; given `--cache` on purpose, the planted code runs and replay says so.
#[test]
fn verify_does_not_run_a_planted_artifact_from_the_environments_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let (cache, other) = (dir.path().join("cache"), dir.path().join("other"));
    let run = prepaid(&[
        "scenario",
        "run",
        example().to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    // The same folder layout for another component: a test guest that panics on every event.
    let guests = std::env::var_os("PREPAID_GUESTS").map_or_else(|| workspace().join("target/guests"), PathBuf::from);
    let guest = guests.join("panic.wasm");
    // Its run fails the file's expects (it panics); what matters is the artifact it leaves.
    prepaid(&[
        "scenario",
        "run",
        example().to_str().unwrap(),
        "--component",
        guest.to_str().unwrap(),
        "--cache",
        other.to_str().unwrap(),
    ]);
    let artifact = |folder: &Path| -> PathBuf {
        let entries: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    };
    std::fs::copy(artifact(&other), artifact(&cache)).unwrap();

    let from_env = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args(["verify", "--db", db.to_str().unwrap()])
        .env("PREPAID_CACHE", &cache)
        .output()
        .unwrap();
    assert!(from_env.status.success(), "{}", text(&from_env.stdout));
    assert!(text(&from_env.stdout).contains(": clean"));

    let given = prepaid(&[
        "verify",
        "--db",
        db.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
    ]);
    assert!(
        !given.status.success(),
        "the planted code ran and replay said so: {}",
        text(&given.stdout)
    );
}

/// A cache folder other users may write to is refused, with the reason; a new one is
/// created private.
#[test]
fn a_cache_folder_others_may_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = prepaid(&[
        "scenario",
        "run",
        example().to_str().unwrap(),
        "--cache",
        shared.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("may be written by other users (mode 777)"),
        "{}",
        text(&output.stderr)
    );
    let fresh = dir.path().join("fresh");
    assert!(prepaid(&[
        "scenario",
        "run",
        example().to_str().unwrap(),
        "--cache",
        fresh.to_str().unwrap()
    ])
    .status
    .success());
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
}

/// Inside a private cache folder, an artifact others may write to (planted, or left from
/// when the folder was open) is refused with the reason, not run.
#[test]
fn a_cached_artifact_others_may_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let run = || {
        prepaid(&[
            "scenario",
            "run",
            example().to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
        ])
    };
    assert!(run().status.success());
    let artifact = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        std::fs::metadata(&artifact).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(run().status.success(), "its own artifact is loaded again");
    std::fs::set_permissions(&artifact, std::fs::Permissions::from_mode(0o666)).unwrap();
    let output = run();
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("the cached artifact")
            && text(&output.stderr).contains("may be written by other users"),
        "{}",
        text(&output.stderr)
    );
}

/// `prepaid reconcile`: a statement that matches the journal and outbox exits 0 saying so;
/// one with a funding the journal lacks, a funding and a payment missing, wrong amounts, a
/// payment made twice, a payment not acknowledged, one for no effect and one under another
/// reference than its acknowledgement's exits 1 naming each; a malformed line is named by
/// its number.
#[test]
fn reconcile_names_every_difference_between_the_rail_and_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let scenario = workspace().join("tests/scenarios/funding_from_the_rail_activates_the_wallet.json");
    let run = prepaid(&[
        "scenario",
        "run",
        scenario.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let store = prepaid_host::store::sqlite::SqliteStore::open_read_only(&db).unwrap();
    let effects: Vec<_> = ["f1", "f3"]
        .iter()
        .flat_map(|wallet| store.outbox(wallet).unwrap())
        .map(|row| row.effect)
        .collect();
    assert_eq!(effects.len(), 3, "{effects:?}");
    let ids: Vec<&str> = effects.iter().map(|effect| effect.effect_id.as_str()).collect();
    // The rail has paid the first two; the third is still on its way. The first is
    // acknowledged with the rail's reference, the second as adapters did before references.
    let ack = |args: &[&str]| prepaid(&[&["outbox", "ack", "--db", db.to_str().unwrap()], args].concat());
    for args in [&["--reference", "P1", ids[0]][..], &[ids[1]]] {
        let acked = ack(args);
        assert!(acked.status.success(), "{}", text(&acked.stderr));
    }
    let payment = |effect: &prepaid_host::store::OutboxEffect, amount: &str, reference: &str| {
        serde_json::json!({"kind": effect.kind, "effect_id": effect.effect_id, "to": effect.to,
                           "amount": amount, "reference": reference})
    };
    let funding = |wallet: &str, amount: &str, reference: &str| serde_json::json!({"kind": "funding", "wallet": wallet, "reference": reference, "amount": amount});
    let statement = dir.path().join("statement.jsonl");
    let reconcile = |lines: &[serde_json::Value]| {
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        std::fs::write(&statement, text.join("\n")).unwrap();
        prepaid(&["reconcile", "--db", db.to_str().unwrap(), statement.to_str().unwrap()])
    };

    // Every funding as the rail took it, then `payments`.
    let after_fundings = |payments: &[serde_json::Value]| {
        // f2 and f5 were paid after they ended, and f6's top-up after its card was refunded:
        // the rail took their money too, and their refunds are still on their way.
        let fundings = [
            funding("f1", "1000.00", "RAIL-2026-0001"),
            funding("f2", "1000.00", "RAIL-2026-0002"),
            funding("f3", "1000.00", "RAIL-2026-0003"),
            funding("f5", "300.00", "RAIL-2026-0005"),
            funding("f6", "200.00", "RAIL-2026-0006"),
        ];
        reconcile(&[&fundings[..], payments].concat())
    };

    let clean = after_fundings(&[
        payment(&effects[0], &effects[0].amount, "P1"),
        payment(&effects[1], &effects[1].amount, "P2"),
    ]);
    // Every funding and payment matches; what differs is the money of the wallets the
    // scenario opened saying they were paid (f4, f6), which no rail brought in.
    assert_eq!(clean.status.code(), Some(1), "{}", text(&clean.stderr));
    assert_eq!(
        text(&clean.stdout),
        "paid_not_funded f4: the journal counts 1000.00 paid; the rail's fundings it journals come to 0.00\n\
         paid_not_funded f6: the journal counts 700.00 paid; the rail's fundings it journals come to 200.00\n\
         out_without_in f6: its effects pay out 700.00; the rail's statement brings 200.00 in\n\
         7 lines of the statement against 5 fundings and 7 effects: 3 differences\n"
    );

    // The rail's statement pays the first under another reference than its acknowledgement
    // records: that acknowledgement was of another payment, or one side is wrong.
    let elsewhere = after_fundings(&[
        payment(&effects[0], &effects[0].amount, "P7"),
        payment(&effects[1], &effects[1].amount, "P2"),
    ]);
    assert_eq!(elsewhere.status.code(), Some(1), "{}", text(&elsewhere.stderr));
    let out = text(&elsewhere.stdout);
    assert!(
        out.contains(&format!(
            "reference_differs {}: the rail paid it under P7; its acknowledgement records P1",
            ids[0]
        )) && out.ends_with("7 effects: 4 differences\n"),
        "{out}"
    );

    let mut unknown = payment(&effects[0], "1.00", "P9");
    unknown["effect_id"] = "f9:1:0".into();
    let differing = reconcile(&[
        funding("f1", "999.00", "RAIL-2026-0001"),
        funding("ghost", "10.00", "RAIL-X"),
        payment(&effects[0], &effects[0].amount, "P1"),
        payment(&effects[0], &effects[0].amount, "P1-again"),
        payment(&effects[2], "1.00", "P3"),
        unknown,
    ]);
    assert_eq!(differing.status.code(), Some(1), "{}", text(&differing.stderr));
    let out = text(&differing.stdout);
    for (kind, subject) in [
        ("funding_not_journaled", "ghost"),
        ("funding_not_on_rail", "f3"),
        ("amount_differs", "f1"),
        ("amount_differs", effects[2].effect_id.as_str()),
        ("paid_not_acknowledged", effects[2].effect_id.as_str()),
        ("payment_not_in_outbox", "f9:1:0"),
        ("paid_twice", effects[0].effect_id.as_str()),
        ("acknowledged_not_paid", effects[1].effect_id.as_str()),
    ] {
        assert!(
            out.contains(&format!("{kind} {subject}: ")),
            "{kind} {subject} in:\n{out}"
        );
    }

    // A top-up is a funding of its own, of the top-up's amount, under its own reference.
    let topped = dir.path().join("topped.db");
    let scenario = workspace().join("tests/scenarios/stored_value_top_up_spent_at_par_after_the_face_value.json");
    let run = prepaid(&[
        "scenario",
        "run",
        scenario.to_str().unwrap(),
        "--db",
        topped.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    std::fs::write(&statement, funding("t1", "200.00", "RAIL-T1").to_string()).unwrap();
    let top_up = prepaid(&[
        "reconcile",
        "--db",
        topped.to_str().unwrap(),
        statement.to_str().unwrap(),
    ]);
    // The top-up reconciles; what is named is the cards' prices, which the scenario's
    // opens said were paid, and what they paid out of them.
    assert_eq!(top_up.status.code(), Some(1), "{}", text(&top_up.stderr));
    let out = text(&top_up.stdout);
    assert_eq!(
        out,
        "paid_not_funded t1: the journal counts 1100.00 paid; the rail's fundings it journals come to 200.00\n\
         paid_not_funded t2: the journal counts 1000.00 paid; the rail's fundings it journals come to 0.00\n\
         out_without_in t1: its effects pay out 1100.00; the rail's statement brings 200.00 in\n\
         1 line of the statement against 1 funding and 3 effects: 3 differences\n"
    );

    // One rail reference funding two wallets is the same money counted twice.
    let twice = dir.path().join("twice.json");
    let open = |wallet: &str| {
        serde_json::json!({"at": "2026-05-01T09:00:00Z", "wallet": wallet, "by": "alice",
            "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city", "awaiting_funding": true,
                      "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                      "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}})
    };
    let fund = |wallet: &str| {
        serde_json::json!({"at": "2026-05-02T09:00:00Z", "wallet": wallet,
            "event": {"type": "funded", "reference": "RAIL-SAME", "amount": "1000.00", "payer": "alice"}})
    };
    let steps = serde_json::json!({"name": "twice", "steps": [open("d1"), open("d2"), fund("d1"), fund("d2")]});
    std::fs::write(&twice, steps.to_string()).unwrap();
    let doubled = dir.path().join("doubled.db");
    let run = prepaid(&[
        "scenario",
        "run",
        twice.to_str().unwrap(),
        "--db",
        doubled.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    std::fs::write(&statement, funding("d1", "1000.00", "RAIL-SAME").to_string()).unwrap();
    let counted_twice = prepaid(&[
        "reconcile",
        "--db",
        doubled.to_str().unwrap(),
        statement.to_str().unwrap(),
    ]);
    assert_eq!(counted_twice.status.code(), Some(1));
    let out = text(&counted_twice.stdout);
    assert!(
        out.contains("paid_twice d2: ") && out.contains("funding_not_on_rail d2: "),
        "{out}"
    );

    // One reference for two effects is refused by hand; acknowledged one at a time, the
    // second acknowledgement under the first's reference is named.
    let batch = ack(&["--reference", "P1", ids[1], ids[2]]);
    assert!(!batch.status.success());
    assert!(text(&batch.stderr).contains("one payment"), "{}", text(&batch.stderr));
    let reused = ack(&["--reference", "P1", ids[2]]);
    assert!(reused.status.success(), "{}", text(&reused.stderr));
    let again = after_fundings(&[
        payment(&effects[0], &effects[0].amount, "P1"),
        payment(&effects[1], &effects[1].amount, "P2"),
        payment(&effects[2], &effects[2].amount, "P3"),
    ]);
    assert_eq!(again.status.code(), Some(1));
    let out = text(&again.stdout);
    assert!(
        out.contains(&format!(
            "reference_differs {}: its acknowledgement records P1, which also acknowledges {}",
            ids[2], ids[0]
        )),
        "{out}"
    );

    std::fs::write(
        &statement,
        "{\"kind\": \"funding\", \"wallet\": \"f1\", \"reference\": \"R 1\", \"amount\": \"1.00\"}\n",
    )
    .unwrap();
    let bad_reference = prepaid(&["reconcile", "--db", db.to_str().unwrap(), statement.to_str().unwrap()]);
    assert!(!bad_reference.status.success());
    assert!(
        text(&bad_reference.stderr).contains("statement line 1: reference"),
        "{}",
        text(&bad_reference.stderr)
    );

    std::fs::write(&statement, "{\"kind\": \"funding\"}\n").unwrap();
    let malformed = prepaid(&["reconcile", "--db", db.to_str().unwrap(), statement.to_str().unwrap()]);
    assert!(!malformed.status.success());
    assert!(
        text(&malformed.stderr).contains("statement line 1"),
        "{}",
        text(&malformed.stderr)
    );
}

/// `prepaid migrate plan` on a journal: the wallet a changed rule would treat otherwise,
/// what each party would get old against new, the totals, and nothing written. Then
/// `prepaid migrate run` on the plan as printed: refused if the plan was edited, else the
/// wallet moves under the regulator's signature naming the plan, and replays clean.
#[test]
fn migrate_plan_prints_what_a_changed_rule_moves_and_run_moves_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("used.json");
    std::fs::write(
        &scenario,
        r#"{"name": "two used", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
             "event": {"type": "request", "request": "r1", "units": 2}},
            {"at": "2026-01-06T09:05:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "authorize", "request": "r1", "units": 2}}
        ]}"#,
    )
    .unwrap();
    let db = dir.path().join("journal.db");
    let (scenario, db_path) = (scenario.to_str().unwrap(), db.to_str().unwrap());
    assert!(prepaid(&["scenario", "run", scenario, "--db", db_path])
        .status
        .success());
    let changed = dir.path().join("changed.wasm");
    std::fs::write(&changed, prepaid_tests::guest_bytes("paid-rate-sessions")).unwrap();
    let before = std::fs::read(&db).unwrap();

    let output = prepaid(&["migrate", "plan", "--db", db_path, "--to", changed.to_str().unwrap()]);
    let printed = text(&output.stdout);
    assert!(output.status.success(), "{printed}{}", text(&output.stderr));
    // Long past its cooling-off period, two used sessions are worth 240.00 at the list
    // price today and 200.00 at the paid rate under the changed rule.
    for line in [
        "w1: changes\n",
        "  refund_now  consumer 760.00 -> 800.00, merchant 40.00 -> 0.00\n",
        "1 change, 0 would give the consumer less, 0 refused\n",
        "  refund_now  consumers 760.00 -> 800.00, merchants 40.00 -> 0.00\n",
    ] {
        assert!(printed.contains(line), "{line:?} in:\n{printed}");
    }
    assert!(printed.starts_with("plan "), "{printed}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "a plan writes nothing");

    let missing = prepaid(&["migrate", "plan", "--db", "no.db", "--to", changed.to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no journal at no.db"),
        "{}",
        text(&missing.stderr)
    );

    // The plan as JSON, and a copy a hand has changed to move less to the merchant.
    let to = changed.to_str().unwrap();
    let json = prepaid(&["migrate", "plan", "--db", db_path, "--to", to, "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let (plan, edited) = (dir.path().join("plan.json"), dir.path().join("edited.json"));
    std::fs::write(&plan, &json.stdout).unwrap();
    std::fs::write(&edited, text(&json.stdout).replacen("\"40.00\"", "\"4.00\"", 1)).unwrap();
    let city = dir.path().join("city.key");
    prepaid_host::keys::write_key_file(&city, &prepaid_host::keys::dev_key("city")).unwrap();
    let trust = crate::trust_file(
        dir.path(),
        &prepaid_host::keys::public_key(&prepaid_host::keys::dev_key("city")).to_string(),
    );
    let mut listed: serde_json::Value = serde_json::from_slice(&std::fs::read(&trust).unwrap()).unwrap();
    listed["components"]
        .as_array_mut()
        .unwrap()
        .push(prepaid_host::outcome::sha256_hex(&std::fs::read(&changed).unwrap()).into());
    std::fs::write(&trust, listed.to_string()).unwrap();
    let hash = serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let run_as = |plan: &std::path::Path, hash: &str, key: &std::path::Path| {
        prepaid(&[
            "migrate",
            "run",
            "--db",
            db_path,
            "--plan",
            plan.to_str().unwrap(),
            "--hash",
            hash,
            "--to",
            to,
            "--key",
            key.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ])
    };
    let run = |plan: &std::path::Path, hash: &str| run_as(plan, hash, &city);
    // An edited plan, whether its hash was left or made again, moves nothing.
    let refused = run(&edited, &hash);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("changed after it was made"),
        "{}",
        text(&refused.stderr)
    );
    let other = run(&plan, &"0".repeat(64));
    assert!(
        text(&other.stderr).contains("not the plan 0000"),
        "{}",
        text(&other.stderr)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "a refused plan moves nothing");
    // Another regulator's key signs nothing for city's wallet.
    let other_key = dir.path().join("other.key");
    prepaid_host::keys::write_key_file(&other_key, &prepaid_host::keys::dev_key("beijing")).unwrap();
    let left = run_as(&plan, &hash, &other_key);
    assert!(
        text(&left.stdout).contains(": 0 moved onto ") && text(&left.stdout).contains("1 left to their own regulators"),
        "{}{}",
        text(&left.stdout),
        text(&left.stderr)
    );
    let moved = run(&plan, &hash);
    let printed = text(&moved.stdout);
    assert!(moved.status.success(), "{printed}{}", text(&moved.stderr));
    assert!(printed.contains(": 1 moved onto "), "{printed}");
    assert!(
        printed.contains("0 waiting for consent, 0 left to their own regulators, 0 refused"),
        "{printed}"
    );
    let verified = prepaid(&["verify", "--db", db_path]);
    assert!(verified.status.success(), "{}", text(&verified.stdout));
}
