//! Nobody but the consumer: the attacks on the rules that a merchant (or a relay, or a
//! regulator's key) could make before contract 0.2.0, each through the real component.
//! docs/SECURITY.md names the promise each test holds.

use prepaid_host::engine::FUEL_PER_EVENT;
use prepaid_host::testkit::TestKit;
use serde_json::{json, Value};

/// A plan as large as terms may be: 64 stages of 32-byte names.
fn largest_plan() -> Value {
    let stages: Vec<Value> = (0..64)
        .map(|index| json!({"name": format!("{index:0>32}"), "amount": "100.00"}))
        .collect();
    json!({"kind": "plan", "stages": stages})
}

/// Every policy field set.
fn fullest_policy() -> Value {
    json!({"cooling_off_days": 7, "deemed_confirm_days": 7, "max_price": "9999.00", "valid_days": 3650,
           "supervised_share": 100, "rekey_wait_days": 30})
}

/// Ten sessions for `price`, at `list_price` each before any discount.
fn pack(price: &str, list_price: &str) -> Value {
    json!({"kind": "sessions", "sessions": 10, "price": price, "list_price": list_price})
}

/// Seven days' cooling-off, no deemed confirmation.
fn plain_policy() -> Value {
    json!({"cooling_off_days": 7, "deemed_confirm_days": 0})
}

/// The 64-byte request id number `index`.
fn long_id(index: usize) -> String {
    format!("{index:x>64}")
}

/// Opens `wallet` on the largest plan and fills it as far as a merchant can: 64 requests
/// pending under 64-byte ids, and a re-key under way.
fn largest_wallet(kit: &mut TestKit, wallet: &str) {
    kit.open(wallet, "alice", "clinic", largest_plan(), fullest_policy())
        .assert_ok();
    kit.advance_days(8);
    for index in 0..64 {
        kit.send(
            wallet,
            "clinic",
            json!({"type": "request", "request": long_id(index), "stage": index}),
        )
        .assert_ok();
    }
    kit.send(wallet, "regulator", json!({"type": "rekey", "to": "carol"}))
        .assert_ok();
}

/// Attack 3 of issue 12: requests piled into the state until the consumer's refund, the
/// regulator's `merchant_closed` and `resolve` ran out of fuel. Now the state is bounded and
/// each of them, at the largest state, uses under a fifth of the fuel limit.
#[test]
fn a_merchant_cannot_hold_the_refund_hostage_with_requests() {
    let mut kit = TestKit::new();
    largest_wallet(&mut kit, "w");
    kit.send(
        "w",
        "clinic",
        json!({"type": "request", "request": "one-more", "units": 1}),
    )
    .assert_error("too_many_pending");
    let state = kit.ledger().head("w").unwrap().unwrap().state.unwrap();
    println!("the largest state a merchant can build: {} bytes", state.len());
    assert!(
        state.len() < 24 << 10,
        "docs/CONTRACT.md states the largest state as under 24 KiB"
    );

    let ceiling = FUEL_PER_EVENT / 5;
    // The refund returns at once all that the 64 requests do not ask; what they ask waits
    // for the regulator, and goes back when the hold ends without a ruling.
    let refund = kit.send("w", "alice", json!({"type": "refund"}));
    refund.assert_ok();
    let held = refund.view().unwrap();
    assert_eq!((held.frozen.as_str(), held.pending.as_str()), ("6400.00", "6400.00"));
    assert_eq!(held.status, "disputed");
    kit.advance_days(14);
    kit.tick("w").assert_effects(&[]);
    kit.advance_days(1);
    kit.tick("w").assert_effects(&[("refund", "alice", "6400.00")]);

    largest_wallet(&mut kit, "closed");
    let closed = kit.send("closed", "regulator", json!({"type": "merchant_closed"}));
    closed.assert_effects(&[("refund", "alice", "6400.00")]);

    largest_wallet(&mut kit, "resolved");
    kit.send("resolved", "alice", prepaid_tests::dispute(&[])).assert_ok();
    let resolve = kit.send("resolved", "regulator", json!({"type": "resolve", "outcome": "refund"}));
    resolve.assert_effects(&[("refund", "alice", "6400.00")]);

    for (name, sent) in [("refund", &refund), ("merchant_closed", &closed), ("resolve", &resolve)] {
        let fuel = sent.fuel().unwrap();
        println!(
            "{name} at the largest state: {fuel} fuel, {:.1}% of the limit",
            fuel as f64 * 100.0 / FUEL_PER_EVENT as f64
        );
        assert!(
            fuel <= ceiling,
            "{name} used {fuel} fuel, over a fifth of the limit ({ceiling})"
        );
    }
    kit.assert_verifies();
}

#[test]
fn request_ids_are_short_plain_and_unique_among_pending_requests() {
    let mut kit = TestKit::new();
    let sessions = pack("1000.00", "100.00");
    kit.open("w", "alice", "gym", sessions, plain_policy()).assert_ok();
    // Nothing JSON must escape, nothing that displays as something else.
    for bad in [
        String::new(),
        format!("{:x>65}", ""),
        "line\nbreak".into(),
        "a\"quote".into(),
        "r\u{202e}1".into(),
    ] {
        kit.send("w", "gym", json!({"type": "request", "request": bad, "units": 1}))
            .assert_error("bad_request_id");
    }
    kit.send(
        "w",
        "gym",
        json!({"type": "request", "request": long_id(0), "units": 1}),
    )
    .assert_ok();
    kit.send(
        "w",
        "gym",
        json!({"type": "request", "request": long_id(0), "units": 2}),
    )
    .assert_error("duplicate_request");
    kit.send(
        "w",
        "alice",
        json!({"type": "authorize", "request": long_id(0), "units": 1}),
    )
    .assert_effects(&[("release", "gym", "100.00")]);
    // Settled, the id left the state; an old authorization cannot come back under a new
    // event id without the consumer signing it again, and it names its quantity.
    kit.send(
        "w",
        "gym",
        json!({"type": "request", "request": long_id(0), "units": 2}),
    )
    .assert_ok();
    assert_eq!(kit.view("w").pending, "200.00");
    // Stage names, which live in every state too: short, and nothing JSON must escape.
    for name in ["\"quoted\"", "back\\slash", "", "x".repeat(33).as_str()] {
        let plan = json!({"kind": "plan", "stages": [{"name": name, "amount": "100.00"}]});
        kit.open("p", "alice", "clinic", plan, plain_policy())
            .assert_error("invalid_terms");
    }
}

/// Attack 4 of issue 12: the consumer signed "authorize r1" believing r1 was one session;
/// the merchant had recorded ten.
#[test]
fn an_authorization_releases_only_the_quantity_the_consumer_signed() {
    let mut kit = TestKit::new();
    let sessions = pack("2400.00", "300.00");
    kit.open("w", "alice", "gym", sessions, plain_policy()).assert_ok();
    kit.send("w", "gym", json!({"type": "request", "request": "r1", "units": 10}))
        .assert_ok();
    for signed in [
        json!({"units": 1}),
        json!({}),
        json!({"amount": "2400.00"}),
        json!({"stage": 0}),
    ] {
        let mut event = json!({"type": "authorize", "request": "r1"});
        event
            .as_object_mut()
            .unwrap()
            .extend(signed.as_object().unwrap().clone());
        let sent = kit.send("w", "alice", event);
        sent.assert_error("authorization_mismatch");
        assert_eq!(sent.view().unwrap().released, "0.00");
    }
    kit.send("w", "alice", json!({"type": "authorize", "request": "r1", "units": 10}))
        .assert_effects(&[("release", "gym", "2400.00")]);
}

/// Attack 1 of issue 12, the part a clock alone cannot stop: a relay holding a consumer's
/// refund until after the cooling-off period. The consumer signs a deadline with it.
#[test]
fn a_signed_deadline_stops_a_relay_holding_an_event_back() {
    let mut kit = TestKit::new();
    let sessions = pack("2400.00", "300.00");
    kit.set_time("2026-01-05T09:00:00Z");
    kit.open("w", "alice", "gym", sessions, plain_policy()).assert_ok();
    let end_of_cooling_off = prepaid_host::envelope::timestamp("2026-01-12T09:00:00Z").unwrap() - 1;
    let refund = json!({"type": "refund", "not_after": end_of_cooling_off});
    // The relay submits it a second late.
    kit.set_time("2026-01-12T09:00:00Z");
    let late = kit.send("w", "alice", refund);
    late.assert_error("too_late");
    assert_eq!(late.view().unwrap().frozen, "2400.00");
    // Signed in time, the same refund goes through with the cooling-off terms.
    let mut kit = TestKit::new();
    kit.set_time("2026-01-05T09:00:00Z");
    let sessions = pack("2400.00", "300.00");
    kit.open("w", "alice", "gym", sessions, plain_policy()).assert_ok();
    kit.set_time("2026-01-12T08:59:59Z");
    kit.send("w", "alice", json!({"type": "refund", "not_after": end_of_cooling_off}))
        .assert_effects(&[("refund", "alice", "2400.00")]);
}

/// Key recovery: the regulator re-keys a consumer who lost their key. Until the policy's
/// waiting period is over the old key may cancel, and nothing is released but by the old
/// key's authorization; then the new key is the consumer's.
#[test]
fn a_re_key_waits_and_the_old_key_can_cancel_it() {
    let mut kit = TestKit::new();
    let sessions = pack("1000.00", "100.00");
    kit.open(
        "w",
        "alice",
        "gym",
        sessions,
        json!({"cooling_off_days": 7, "deemed_confirm_days": 2, "rekey_wait_days": 5}),
    )
    .assert_ok();
    kit.send("w", "gym", json!({"type": "request", "request": "r1", "units": 1}))
        .assert_ok();
    kit.send("w", "gym", json!({"type": "rekey", "to": "mallory"}))
        .assert_error("bad_signature");
    kit.send("w", "mallory", json!({"type": "rekey", "to": "mallory"}))
        .assert_error("bad_signature");
    kit.send("w", "regulator", json!({"type": "rekey", "to": "alice"}))
        .assert_error("bad_rekey");
    kit.send("w", "regulator", json!({"type": "rekey", "to": "carol"}))
        .assert_ok();
    kit.send("w", "regulator", json!({"type": "rekey", "to": "dave"}))
        .assert_error("bad_rekey");
    // While the re-key waits: the new key signs nothing, no deemed confirmation releases.
    kit.advance_days(3);
    kit.send("w", "carol", json!({"type": "authorize", "request": "r1", "units": 1}))
        .assert_error("bad_signature");
    kit.tick("w").assert_effects(&[]);
    // The old key cancels; the stalled deemed confirmation then goes through.
    kit.send("w", "alice", json!({"type": "cancel_rekey"})).assert_ok();
    kit.send("w", "alice", json!({"type": "cancel_rekey"}))
        .assert_error("bad_rekey");
    kit.tick("w").assert_effects(&[("release", "gym", "100.00")]);

    kit.send("w", "regulator", json!({"type": "rekey", "to": "carol"}))
        .assert_ok();
    kit.advance_days(5);
    kit.send("w", "alice", json!({"type": "refund"}))
        .assert_error("bad_signature");
    // The platform ticks the wallet when the re-key is due (its `next_due`).
    kit.tick("w").assert_ok();
    assert_eq!(kit.view("w").consumer, "carol");
    kit.send("w", "carol", json!({"type": "refund"}))
        .assert_effects(&[("refund", "carol", "900.00")]);
    kit.assert_verifies();
}

/// The view says when the platform must next tick a wallet, so that time-driven rules run
/// on the platform's clock without anyone sending `tick`.
#[test]
fn the_view_says_when_the_wallet_next_needs_the_clock() {
    let day = 86_400;
    let mut kit = TestKit::new();
    let opened = prepaid_host::envelope::timestamp("2026-01-01T00:00:00Z").unwrap();
    let sessions = pack("1000.00", "100.00");
    kit.open("s", "alice", "gym", sessions.clone(), plain_policy())
        .assert_ok();
    assert_eq!(
        kit.view("s").next_due,
        None,
        "nothing happens to a plain session pack by time alone"
    );
    kit.open(
        "d",
        "alice",
        "gym",
        sessions,
        json!({"cooling_off_days": 7, "deemed_confirm_days": 7, "valid_days": 30}),
    )
    .assert_ok();
    assert_eq!(kit.view("d").next_due, Some(opened + 30 * day), "expiry");
    kit.advance_days(1);
    kit.send("d", "gym", json!({"type": "request", "request": "r1", "units": 1}))
        .assert_ok();
    assert_eq!(
        kit.view("d").next_due,
        Some(opened + 8 * day),
        "the request's deemed confirmation"
    );
    kit.send("d", "alice", prepaid_tests::dispute(&["r1"])).assert_ok();
    assert_eq!(
        kit.view("d").next_due,
        Some(opened + 30 * day),
        "a disputed request is not deemed confirmed"
    );

    let membership = json!({"kind": "membership", "price": "365.00", "term_days": 365});
    kit.open(
        "m",
        "bob",
        "gym",
        membership,
        json!({"cooling_off_days": 0, "deemed_confirm_days": 0}),
    )
    .assert_ok();
    let opened = opened + day;
    assert_eq!(kit.view("m").next_due, Some(opened + day), "the membership's next day");
    kit.advance_days(3);
    kit.tick("m").assert_effects(&[("release", "gym", "3.00")]);
    assert_eq!(kit.view("m").next_due, Some(opened + 4 * day));
    kit.send("m", "bob", json!({"type": "refund"})).assert_ok();
    assert_eq!(kit.view("m").next_due, None, "a closed wallet never needs the clock");
}

/// Nobody sends `tick` to a platform: it ticks the wallets whose `next_due` has passed, by
/// its own clock. Wallets made on a scripted clock in January are due by now; a wallet
/// that time does not change is left alone, and a ticked wallet is not due again.
#[test]
fn the_platform_ticks_the_wallets_that_fall_due() {
    let dir = tempfile::tempdir().unwrap();
    let scripted = prepaid_tests::ledger_in(dir.path());
    let events = prepaid_tests::scenario_events(
        r#"{"name": "due", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "deemed", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "school", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "100.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 7}}},
            {"at": "2026-01-05T10:00:00Z", "wallet": "deemed", "by": "school",
             "event": {"type": "request", "request": "r1", "units": 1}},
            {"at": "2026-01-05T09:00:00Z", "wallet": "plain", "by": "bob",
             "event": {"type": "open", "consumer": "bob", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "100.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-05T09:00:00Z", "wallet": "member", "by": "carol",
             "event": {"type": "open", "consumer": "carol", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "membership", "price": "300.00", "term_days": 30},
                       "policy": {"cooling_off_days": 0, "deemed_confirm_days": 0}}}]}"#,
    );
    for event in &events {
        assert!(scripted.submit(event).unwrap().verdict.ok);
    }
    drop(scripted);

    let platform =
        prepaid_tests::ledger(prepaid_tests::sqlite_store(dir.path())).with_clock(prepaid_host::Clock::System);
    let ticked: Vec<_> = platform
        .tick_due(100)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut wallets: Vec<&str> = ticked.iter().map(|tick| tick.entry.wallet.as_str()).collect();
    wallets.sort();
    assert_eq!(wallets, ["deemed", "member"]);
    for tick in &ticked {
        assert!(tick.verdict.ok, "{:?}", tick.verdict);
        assert!(tick.entry.event_id.starts_with("tick-"));
    }
    assert_eq!(platform.view("deemed").unwrap().unwrap().released, "100.00");
    let member = platform.view("member").unwrap().unwrap();
    assert_eq!((member.status.as_str(), member.released.as_str()), ("closed", "300.00"));
    assert_eq!(
        platform.entries("plain").unwrap().len(),
        1,
        "nothing due, nothing ticked"
    );
    assert!(
        platform.tick_due(100).unwrap().is_empty(),
        "a ticked wallet is not due again"
    );
    assert!(platform.verify().unwrap().is_clean());
}

/// Expiry is a rule of time, not of the tick that applies it: a refund after expiry, with
/// no tick in between, gives everything frozen back as expiry does (not on a refund's
/// terms), and a late tick releases nothing that fell due after expiry.
#[test]
fn expiry_holds_whether_or_not_a_tick_came_in_time() {
    let sessions = pack("1000.00", "150.00");
    let policy = json!({"cooling_off_days": 7, "deemed_confirm_days": 7, "valid_days": 30});
    let mut kit = TestKit::new();
    kit.open("refunded", "alice", "gym", sessions.clone(), policy.clone())
        .assert_ok();
    kit.open("ticked", "bob", "gym", sessions, policy).assert_ok();
    kit.advance_days(10);
    for wallet in ["refunded", "ticked"] {
        kit.send(wallet, "gym", json!({"type": "request", "request": "r1", "units": 2}))
            .assert_ok();
    }
    kit.advance_days(15);
    for wallet in ["refunded", "ticked"] {
        kit.send(wallet, "gym", json!({"type": "request", "request": "r2", "units": 1}))
            .assert_ok();
    }
    // Day 40: r1 was deemed confirmed on day 17, before expiry (day 30); r2 would have been
    // on day 32, after it.
    kit.advance_days(15);
    kit.send("refunded", "alice", json!({"type": "refund"}))
        .assert_effects(&[("release", "gym", "200.00"), ("refund", "alice", "800.00")]);
    kit.tick("ticked")
        .assert_effects(&[("release", "gym", "200.00"), ("refund", "bob", "800.00")]);
    kit.assert_verifies();
}

/// The contract parses an event before it knows who signed it, so no event may be big
/// enough to run it out of fuel there: such an event is refused unread, and recorded
/// nowhere, however it arrives.
#[test]
fn an_event_too_big_for_any_party_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = prepaid_tests::ledger_in(dir.path());
    assert!(ledger.submit(&prepaid_tests::sessions_open()).unwrap().verdict.ok);
    let mut huge = prepaid_tests::sessions_open();
    huge.id = "huge".into();
    huge.event = json!({"type": "request", "request": "r1", "units": 1, "padding": "x".repeat(70_000)});
    let error = ledger.submit(&huge).unwrap_err();
    assert!(
        matches!(&error, prepaid_host::Error::Refused(refusal) if refusal.code == prepaid_host::RefusalCode::BadEnvelope),
        "{error}"
    );
    assert_eq!(ledger.entries("w1").unwrap().len(), 1);
}
