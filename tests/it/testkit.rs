//! The contract author's test kit, used as an author would: a few lines per rule, through
//! the real component.

use prepaid_host::testkit::TestKit;
use serde_json::json;

fn sessions() -> serde_json::Value {
    json!({"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"})
}

#[test]
fn a_refund_after_the_cooling_off_period_keeps_consumption_at_list_price() {
    let mut kit = TestKit::new();
    kit.open(
        "w1",
        "alice",
        "clinic",
        sessions(),
        json!({"cooling_off_days": 15, "deemed_confirm_days": 0}),
    )
    .assert_ok();
    kit.advance_days(7);
    kit.send("w1", "clinic", json!({"type": "request", "request": "r1", "units": 1}))
        .assert_ok();
    kit.send(
        "w1",
        "clinic",
        json!({"type": "authorize", "request": "r1", "units": 1}),
    )
    .assert_error("bad_signature");
    kit.send("w1", "alice", json!({"type": "authorize", "request": "r1", "units": 1}))
        .assert_effects(&[("release", "clinic", "240.00")]);
    kit.advance_days(50);
    let refund = kit.send("w1", "alice", json!({"type": "refund"}));
    refund.assert_effects(&[("release", "clinic", "60.00"), ("refund", "alice", "2100.00")]);
    assert!(refund.fuel().unwrap() > 0);
    let view = kit.view("w1");
    assert_eq!(
        (view.status.as_str(), view.released.as_str(), view.refunded.as_str()),
        ("closed", "300.00", "2100.00")
    );
    kit.assert_verifies();
}

#[test]
fn the_clock_drives_deemed_confirmation() {
    let mut kit = TestKit::new();
    kit.open(
        "w1",
        "bob",
        "school",
        sessions(),
        json!({"cooling_off_days": 7, "deemed_confirm_days": 7}),
    )
    .assert_ok();
    kit.send(
        "w1",
        "school",
        json!({"type": "request", "request": "lesson", "units": 1}),
    )
    .assert_ok();
    kit.advance_days(6);
    kit.tick("w1").assert_effects(&[]);
    kit.advance_days(1);
    kit.tick("w1").assert_effects(&[("release", "school", "240.00")]);
    kit.advance_seconds(-1);
    kit.tick("w1").assert_error("time_backwards");
}

#[test]
#[should_panic(expected = "expected the error bad_signature, but event w1-0 was accepted")]
fn a_failed_assertion_says_what_happened() {
    let mut kit = TestKit::new();
    kit.open(
        "w1",
        "alice",
        "clinic",
        sessions(),
        json!({"cooling_off_days": 7, "deemed_confirm_days": 0}),
    )
    .assert_error("bad_signature");
}
