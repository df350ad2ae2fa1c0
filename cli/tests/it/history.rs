//! History that cannot be rewritten unnoticed: each alteration an insider with write access
//! to the journal could make, made to the demo's journal, and caught by the command an
//! auditor runs — `prepaid verify` with a signed checkpoint for rewrites of history,
//! `prepaid verify` alone for the outbox and rows without a head, `--expect-code-hash` for
//! code, `prepaid checkpoint check` for a checkpoint that does not extend the last.

use std::path::{Path, PathBuf};

use super::{prepaid, text};
use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store as _;
use prepaid_host::{Clock, Envelope, Funding, Ledger, StoreConfig};

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The demo's journal, a platform key, and a checkpoint of the journal it signed.
struct Platform {
    dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
    public: String,
    checkpoint: PathBuf,
}

impl Platform {
    fn new() -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("journal.db");
        let output = prepaid(&["demo", "--db", path(&db)]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let key = dir.path().join("platform.key");
        let output = prepaid(&["keygen", "--out", path(&key)]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let public = text(&output.stdout).trim().to_owned();
        let platform = Platform {
            checkpoint: dir.path().join("first.checkpoint"),
            dir,
            db,
            key,
            public,
        };
        platform.sign(&platform.db, &platform.checkpoint);
        platform
    }

    /// Signs a checkpoint of `db` into `out`.
    fn sign(&self, db: &Path, out: &Path) {
        let output = prepaid(&[
            "checkpoint",
            "--db",
            path(db),
            "--key",
            path(&self.key),
            "--out",
            path(out),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(
            text(&output.stdout).contains("the checkpoint of"),
            "{}",
            text(&output.stdout)
        );
    }

    /// A copy of the journal with `sql` run on it.
    fn altered(&self, name: &str, sql: &str) -> PathBuf {
        let copy = self.dir.path().join(format!("{name}.db"));
        std::fs::copy(&self.db, &copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        conn.execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
            .unwrap();
        copy
    }

    /// A copy of the journal where `wallet` is rebuilt, as an insider would, by running
    /// its recorded (signed) events, changed by `change`, through `component` afresh.
    fn rebuilt(
        &self,
        name: &str,
        wallet: &str,
        component: &[u8],
        change: impl Fn(Vec<Envelope>) -> Vec<Envelope>,
    ) -> PathBuf {
        let events: Vec<Envelope> = SqliteStore::open_read_only(&self.db)
            .unwrap()
            .entries(wallet)
            .unwrap()
            .iter()
            .map(|entry| Envelope::parse(&entry.event).unwrap())
            .collect();
        let events = change(events);
        let rebuilt = self.dir.path().join(format!("{name}-rebuilt.db"));
        // The history is rewritten as it was written: its events' times and payments.
        let ledger = Ledger::open(StoreConfig::Sqlite(rebuilt.clone()), prepaid_tests::engine())
            .unwrap()
            .with_clock(Clock::Scripted)
            .with_funding(Funding::Declared);
        ledger.install(component).unwrap();
        for event in &events {
            ledger.submit(event).unwrap();
        }
        drop(ledger);
        self.altered(
            name,
            &format!(
                "ATTACH DATABASE '{rebuilt}' AS rebuilt;
                 INSERT OR IGNORE INTO components SELECT * FROM rebuilt.components;
                 DELETE FROM acks WHERE wallet = '{wallet}';
                 DELETE FROM outbox WHERE wallet = '{wallet}';
                 DELETE FROM journal WHERE wallet = '{wallet}';
                 DELETE FROM wallets WHERE wallet = '{wallet}';
                 INSERT INTO journal SELECT * FROM rebuilt.journal;
                 INSERT INTO outbox SELECT * FROM rebuilt.outbox;
                 INSERT INTO wallets SELECT * FROM rebuilt.wallets;",
                rebuilt = path(&rebuilt)
            ),
        )
    }

    /// `prepaid verify --db db` with `extra`: whether it passed, and what it printed.
    fn verify(&self, db: &Path, extra: &[&str]) -> (bool, String) {
        let mut args = vec!["verify", "--db", path(db)];
        args.extend(extra);
        let output = prepaid(&args);
        let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
        (output.status.success(), printed)
    }

    /// `prepaid verify --db db --checkpoint … --platform-key …`.
    fn verify_against_checkpoint(&self, db: &Path) -> (bool, String) {
        self.verify(
            db,
            &["--checkpoint", path(&self.checkpoint), "--platform-key", &self.public],
        )
    }
}

fn component() -> Vec<u8> {
    std::fs::read(prepaid_host::component_path()).expect("the component under test")
}

/// The recorded events of a wallet without its refund.
fn without_refund(events: Vec<Envelope>) -> Vec<Envelope> {
    events
        .into_iter()
        .filter(|event| event.event["type"] != "refund")
        .collect()
}

/// The recorded events of a wallet with its refund ten days earlier.
fn refund_retimed(events: Vec<Envelope>) -> Vec<Envelope> {
    events
        .into_iter()
        .map(|event| match event.event["type"] == "refund" {
            true => Envelope {
                at: Some("2026-04-10T08:00:00Z".into()),
                ..event
            },
            false => event,
        })
        .collect()
}

#[test]
fn verify_against_a_signed_checkpoint_names_each_wallet_whose_history_was_rewritten() {
    let platform = Platform::new();
    let (clean, printed) = platform.verify_against_checkpoint(&platform.db);
    assert!(clean, "{printed}");
    assert!(printed.contains("checkpoint of 20"), "{printed}");
    assert!(printed.contains("signed by the platform key"), "{printed}");

    let deleted = platform.altered(
        "deleted",
        "DELETE FROM acks WHERE wallet = 'tea-bob'; DELETE FROM outbox WHERE wallet = 'tea-bob';
         DELETE FROM journal WHERE wallet = 'tea-bob'; DELETE FROM wallets WHERE wallet = 'tea-bob';",
    );
    let shortened = platform.rebuilt("shortened", "gym-alice", &component(), without_refund);
    let retimed = platform.rebuilt("retimed", "gym-alice", &component(), refund_retimed);
    for (db, wallet, says) in [
        (&deleted, "tea-bob", "recorded no such wallet"),
        (&shortened, "gym-alice", "recorded 4 in all, the checkpoint gives entry"),
        (&retimed, "gym-alice", "checkpoint differs: recorded entry"),
    ] {
        // Each rewrite agrees with itself: replay alone cannot tell.
        let (clean, printed) = platform.verify(db, &[]);
        assert!(clean, "{printed}");
        let (clean, printed) = platform.verify_against_checkpoint(db);
        assert!(!clean, "{printed}");
        assert!(printed.contains(&format!("DIVERGENCE wallet {wallet}")), "{printed}");
        assert!(printed.contains(says), "{printed}");
    }

    // Deleting a wallet's head row hides nothing: its entries are rows without a head.
    let headless = platform.altered("headless", "DELETE FROM wallets WHERE wallet = 'tea-bob';");
    let (clean, printed) = platform.verify(&headless, &[]);
    assert!(!clean, "{printed}");
    assert!(
        printed.contains("DIVERGENCE wallet tea-bob, head: head differs: recorded no head"),
        "{printed}"
    );

    // A head without its entries is no more hidden.
    let emptied = platform.altered("emptied", "DELETE FROM journal WHERE wallet = 'pool-dan';");
    let (clean, printed) = platform.verify(&emptied, &[]);
    assert!(!clean, "{printed}");
    assert!(
        printed.contains("DIVERGENCE wallet pool-dan, head: seq differs: recorded 4, replay gives 0"),
        "{printed}"
    );

    // A checkpoint counts only under the platform's key, and only as signed.
    let other = public_key(&dev_key("someone else")).to_string();
    let (clean, printed) = platform.verify(
        &platform.db,
        &["--checkpoint", path(&platform.checkpoint), "--platform-key", &other],
    );
    assert!(!clean);
    assert!(printed.contains("not signed by the platform key given"), "{printed}");
    let forged = platform.dir.path().join("forged.checkpoint");
    let file = std::fs::read_to_string(&platform.checkpoint).unwrap();
    let line = file.lines().find(|line| line.starts_with("\"gym-alice\"")).unwrap();
    std::fs::write(&forged, file.replace(line, &line.replacen(" 5 ", " 4 ", 1))).unwrap();
    let (clean, printed) = platform.verify(
        &platform.db,
        &["--checkpoint", path(&forged), "--platform-key", &platform.public],
    );
    assert!(!clean);
    assert!(printed.contains("do not give the root it signs"), "{printed}");
}

#[test]
fn verify_alone_holds_the_outbox_to_the_journal_and_acknowledgements_to_their_chain() {
    let platform = Platform::new();
    let pending = prepaid(&["outbox", "list", "--db", path(&platform.db)]);
    let effects: Vec<serde_json::Value> = text(&pending.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let refund = effects.iter().find(|effect| effect["kind"] == "refund").unwrap();
    let release = effects.iter().find(|effect| effect["kind"] == "release").unwrap();
    // The rail pays one release, as it does: an acknowledgement with the rail's
    // reference, chained.
    let paid = effects
        .iter()
        .filter(|effect| effect["kind"] == "release")
        .nth(1)
        .unwrap();
    let output = prepaid(&[
        "outbox",
        "ack",
        "--db",
        path(&platform.db),
        "--reference",
        "RAIL-0042",
        paid["effect_id"].as_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (clean, printed) = platform.verify(&platform.db, &[]);
    assert!(clean, "{printed}");

    let merchant = release["to"].as_str().unwrap();
    let cases = [
        (
            "redirected",
            format!(
                "UPDATE outbox SET kind = 'release', recipient = '{merchant}' WHERE effect_id = '{}'",
                refund["effect_id"].as_str().unwrap()
            ),
            refund["wallet"].as_str().unwrap().to_owned(),
            "outbox differs".to_owned(),
        ),
        (
            "inserted",
            format!(
                "INSERT INTO outbox (effect_id, wallet, seq, kind, recipient, amount, reason)
                 VALUES ('{wallet}:1:9', '{wallet}', 1, 'release', '{merchant}', '999.00', 'consumption')",
                wallet = release["wallet"].as_str().unwrap()
            ),
            release["wallet"].as_str().unwrap().to_owned(),
            "999.00".to_owned(),
        ),
        (
            "marked-paid",
            format!(
                "UPDATE outbox SET acked = 1 WHERE effect_id = '{}'",
                release["effect_id"].as_str().unwrap()
            ),
            release["wallet"].as_str().unwrap().to_owned(),
            "no acknowledgement of it".to_owned(),
        ),
        (
            "ack-rewritten",
            "UPDATE acks SET at = '2026-01-01T00:00:00Z'".to_owned(),
            paid["wallet"].as_str().unwrap().to_owned(),
            "ack_hash differs".to_owned(),
        ),
        // The reference an insider would change to hide a second payment, or erase so that
        // the acknowledgement hashes as one from before references.
        (
            "reference-rewritten",
            "UPDATE acks SET reference = 'RAIL-0043'".to_owned(),
            paid["wallet"].as_str().unwrap().to_owned(),
            "ack_hash differs".to_owned(),
        ),
        (
            "reference-erased",
            "UPDATE acks SET reference = NULL".to_owned(),
            paid["wallet"].as_str().unwrap().to_owned(),
            "ack_hash differs".to_owned(),
        ),
        (
            "orphan-effect",
            "INSERT INTO outbox (effect_id, wallet, seq, kind, recipient, amount, reason)
             VALUES ('ghost:1:0', 'ghost', 1, 'release', 'x', '999.00', 'consumption')"
                .to_owned(),
            "ghost".to_owned(),
            "recorded no head".to_owned(),
        ),
    ];
    // An insider redirects a pending refund to the merchant, the rail pays and
    // acknowledges it, and the row is put back: the acknowledgement still names the row it
    // acknowledged. (Put back before the acknowledgement, it would not: SECURITY.md.)
    let redirected_and_restored = platform.altered(
        "redirected-and-restored",
        &format!(
            "UPDATE outbox SET kind = 'release', recipient = '{merchant}' WHERE effect_id = '{}'",
            refund["effect_id"].as_str().unwrap()
        ),
    );
    let output = prepaid(&[
        "outbox",
        "ack",
        "--db",
        path(&redirected_and_restored),
        refund["effect_id"].as_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let conn = rusqlite::Connection::open(&redirected_and_restored).unwrap();
    conn.execute(
        "UPDATE outbox SET kind = 'refund', recipient = ?1 WHERE effect_id = ?2",
        [refund["to"].as_str().unwrap(), refund["effect_id"].as_str().unwrap()],
    )
    .unwrap();
    drop(conn);
    let (clean, printed) = platform.verify(&redirected_and_restored, &[]);
    assert!(!clean, "{printed}");
    assert!(
        printed.contains(&format!(
            "DIVERGENCE wallet {}, head: acknowledgement 2 effect_hash differs",
            refund["wallet"].as_str().unwrap()
        )),
        "{printed}"
    );

    for (name, sql, wallet, says) in cases {
        let altered = platform.altered(name, &sql);
        let (clean, printed) = platform.verify(&altered, &[]);
        assert!(!clean, "{name}: {printed}");
        assert!(
            printed.contains(&format!("DIVERGENCE wallet {wallet}")),
            "{name}: {printed}"
        );
        assert!(printed.contains(&says), "{name}: {printed}");
    }
}

#[test]
fn checkpoint_check_confirms_each_checkpoint_extends_the_last_and_names_a_rewrite() {
    let platform = Platform::new();
    // The journal grows: a payment is acknowledged, and the platform signs again.
    let pending = text(&prepaid(&["outbox", "list", "--db", path(&platform.db)]).stdout);
    let first: serde_json::Value = serde_json::from_str(pending.lines().next().unwrap()).unwrap();
    assert!(prepaid(&[
        "outbox",
        "ack",
        "--db",
        path(&platform.db),
        first["effect_id"].as_str().unwrap()
    ])
    .status
    .success());
    let later = platform.dir.path().join("later.checkpoint");
    platform.sign(&platform.db, &later);
    let check = |old: &Path, new: &Path, db: &Path| {
        let output = prepaid(&[
            "checkpoint",
            "check",
            path(old),
            path(new),
            "--platform-key",
            &platform.public,
            "--db",
            path(db),
        ]);
        (
            output.status.success(),
            format!("{}{}", text(&output.stdout), text(&output.stderr)),
        )
    };
    let (extends, printed) = check(&platform.checkpoint, &later, &platform.db);
    assert!(extends, "{printed}");
    assert!(printed.contains(": extends it"), "{printed}");

    // An insider re-times a refund, then the platform signs what it finds.
    let retimed = platform.rebuilt("retimed", "gym-alice", &component(), refund_retimed);
    let rewritten = platform.dir.path().join("rewritten.checkpoint");
    platform.sign(&retimed, &rewritten);
    let (extends, printed) = check(&platform.checkpoint, &rewritten, &retimed);
    assert!(!extends, "{printed}");
    assert!(printed.contains("DIVERGENCE wallet gym-alice"), "{printed}");
    assert!(printed.contains("DOES NOT EXTEND"), "{printed}");
    // A deleted wallet is not in the later checkpoint.
    let deleted = platform.altered("deleted", "DELETE FROM journal WHERE wallet = 'pool-dan'; DELETE FROM outbox WHERE wallet = 'pool-dan'; DELETE FROM wallets WHERE wallet = 'pool-dan';");
    let without = platform.dir.path().join("without.checkpoint");
    platform.sign(&deleted, &without);
    let (extends, printed) = check(&platform.checkpoint, &without, &deleted);
    assert!(!extends, "{printed}");
    assert!(
        printed.contains("wallet pool-dan, head: checkpoint differs: recorded not in the later checkpoint"),
        "{printed}"
    );
    // Given in the wrong order, they are refused.
    let (extends, printed) = check(&later, &platform.checkpoint, &platform.db);
    assert!(!extends);
    assert!(
        printed.contains("give them in order") || printed.contains("DOES NOT EXTEND"),
        "{printed}"
    );
}

#[test]
fn a_wallet_that_ran_other_code_is_named_by_expect_code_hash_in_a_journal_and_in_a_bundle() {
    let platform = Platform::new();
    let genuine = prepaid_host::outcome::sha256_hex(&component());
    // The same contract with one custom section more: other code, which runs as the
    // original does, so the wallet rebuilt on it replays clean.
    let mut modified = component();
    modified.extend_from_slice(&[0, 5, 4, b'n', b'o', b't', b'e']);
    let other = prepaid_host::outcome::sha256_hex(&modified);
    let swapped = platform.rebuilt("swapped", "gym-alice", &modified, |events| events);
    let (clean, printed) = platform.verify(&swapped, &[]);
    assert!(clean, "{printed}");
    let (clean, printed) = platform.verify(&swapped, &["--expect-code-hash", &genuine]);
    assert!(!clean, "{printed}");
    assert!(
        printed.contains(&format!(
            "DIVERGENCE wallet gym-alice, seq 1: code_hash differs: recorded {other}"
        )),
        "{printed}"
    );
    assert_eq!(printed.matches("DIVERGENCE").count(), 1, "{printed}");

    // In a bundle of that wallet, both components are there, and verify checks both.
    let bundle = platform.dir.path().join("gym.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        path(&swapped),
        "--wallet",
        "gym-alice",
        "--out",
        path(&bundle),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = prepaid(&["verify", "--bundle", path(&bundle), "--expect-code-hash", &genuine]);
    assert!(!output.status.success());
    let printed = text(&output.stdout);
    assert!(
        printed.contains(&format!("component {other}: bytes match")),
        "{printed}"
    );
    assert!(printed.contains("DIVERGENCE wallet gym-alice"), "{printed}");
}

#[test]
fn a_bundle_carries_its_outbox_and_proofs_and_verifies_against_them_alone() {
    let platform = Platform::new();
    let bundle = platform.dir.path().join("gym.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        path(&platform.db),
        "--wallet",
        "gym-alice",
        "--out",
        path(&bundle),
        "--checkpoint",
        path(&platform.checkpoint),
        "--platform-key",
        &platform.public,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("with their proofs from the checkpoint of"),
        "{}",
        text(&output.stdout)
    );
    let output = prepaid(&["verify", "--bundle", path(&bundle), "--platform-key", &platform.public]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("signed by the platform key"));

    // A bundle of every wallet whose rewritten wallet's proof was withheld cannot pass as
    // held to the checkpoint.
    let everything = platform.dir.path().join("everything.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        path(&platform.db),
        "--out",
        path(&everything),
        "--checkpoint",
        path(&platform.checkpoint),
        "--platform-key",
        &platform.public,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let conn = rusqlite::Connection::open(&everything).unwrap();
    conn.execute("DELETE FROM proofs WHERE wallet = 'tea-bob'", []).unwrap();
    drop(conn);
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&everything),
        "--platform-key",
        &platform.public,
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stdout).contains(
            "DIVERGENCE wallet tea-bob, head: checkpoint differs: recorded a wallet, the checkpoint gives no proof"
        ),
        "{}",
        text(&output.stdout)
    );

    // A bundle of another wallet is not the one asked for.
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&bundle),
        "--platform-key",
        &platform.public,
        "--wallet",
        "tea-bob",
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stdout).contains("DIVERGENCE wallet tea-bob, head: wallet differs: recorded no such wallet"),
        "{}",
        text(&output.stdout)
    );
    // A whole checkpoint file holds a one-wallet bundle to that wallet's line only.
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&bundle),
        "--checkpoint",
        path(&platform.checkpoint),
        "--platform-key",
        &platform.public,
        "--wallet",
        "gym-alice",
    ]);
    assert!(output.status.success(), "{}", text(&output.stdout));

    // The note alone, as GET /v1/checkpoint serves it, holds the bundle through its proofs
    // (not a journal, which needs the wallets).
    let file = std::fs::read_to_string(&platform.checkpoint).unwrap();
    let note_only = platform.dir.path().join("note.checkpoint");
    std::fs::write(&note_only, prepaid_host::signed::note::split(&file).unwrap().0).unwrap();
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&bundle),
        "--checkpoint",
        path(&note_only),
        "--platform-key",
        &platform.public,
    ]);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let (clean, printed) = platform.verify(
        &platform.db,
        &["--checkpoint", path(&note_only), "--platform-key", &platform.public],
    );
    assert!(!clean);
    assert!(printed.contains("without its wallets"), "{printed}");

    // Proofs from an older checkpoint mixed in, or a wallet proved twice, are refused: a
    // bundle is held to one checkpoint, once per wallet.
    assert!(prepaid(&["outbox", "ack", "--db", path(&platform.db), "gym-alice:4:0"])
        .status
        .success());
    let later = platform.dir.path().join("later.checkpoint");
    platform.sign(&platform.db, &later);
    let newer = platform.dir.path().join("newer.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        path(&platform.db),
        "--out",
        path(&newer),
        "--checkpoint",
        path(&later),
        "--platform-key",
        &platform.public,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for (name, sql) in [
        (
            "mixed",
            "UPDATE proofs SET proof = (SELECT proof FROM old.proofs) WHERE wallet = 'gym-alice'",
        ),
        (
            "twice",
            "CREATE TABLE plain AS SELECT * FROM proofs; DROP TABLE proofs;
             CREATE TABLE proofs AS SELECT * FROM plain UNION ALL SELECT * FROM old.proofs; DROP TABLE plain",
        ),
    ] {
        let copy = platform.dir.path().join(format!("{name}.bundle"));
        std::fs::copy(&newer, &copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        conn.execute_batch(&format!("ATTACH DATABASE '{}' AS old; {sql}", path(&bundle)))
            .unwrap();
        drop(conn);
        let output = prepaid(&["verify", "--bundle", path(&copy), "--platform-key", &platform.public]);
        assert!(!output.status.success(), "{name}");
        let printed = text(&output.stderr);
        assert!(
            printed.contains("more than one proof") || printed.contains("is from the checkpoint of"),
            "{name}: {printed}"
        );
    }
    // Proofs from an old checkpoint, all of them, agree with each other: held to the
    // checkpoint the auditor kept last, they are refused.
    let later_note = platform.dir.path().join("later-note.checkpoint");
    let file = std::fs::read_to_string(&later).unwrap();
    std::fs::write(&later_note, prepaid_host::signed::note::split(&file).unwrap().0).unwrap();
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&bundle),
        "--checkpoint",
        path(&later_note),
        "--platform-key",
        &platform.public,
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("is from the checkpoint of"),
        "{}",
        text(&output.stderr)
    );

    // The bundle's own outbox is checked: a redirected refund in it is caught.
    let tampered = platform.dir.path().join("tampered.bundle");
    std::fs::copy(&bundle, &tampered).unwrap();
    let conn = rusqlite::Connection::open(&tampered).unwrap();
    conn.execute("UPDATE outbox SET amount = '9999.00' WHERE kind = 'refund'", [])
        .unwrap();
    drop(conn);
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&tampered),
        "--platform-key",
        &platform.public,
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stdout).contains("outbox differs"),
        "{}",
        text(&output.stdout)
    );

    // A bundle rebuilt with the refund re-timed fails its own proof.
    let retimed = platform.rebuilt("retimed", "gym-alice", &component(), refund_retimed);
    let rebundled = platform.dir.path().join("rebundled.bundle");
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        path(&retimed),
        "--wallet",
        "gym-alice",
        "--out",
        path(&rebundled),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let conn = rusqlite::Connection::open(&rebundled).unwrap();
    conn.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS old; CREATE TABLE proofs AS SELECT * FROM old.proofs;",
        path(&bundle)
    ))
    .unwrap();
    drop(conn);
    let output = prepaid(&[
        "verify",
        "--bundle",
        path(&rebundled),
        "--platform-key",
        &platform.public,
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stdout).contains("DIVERGENCE wallet gym-alice, seq 5: checkpoint differs"),
        "{}",
        text(&output.stdout)
    );
}
