//! A catalogue of bad input: every kind of malformed, unauthorized, out-of-order or
//! disallowed event a client, a relay or a party could send, each with the exact code it
//! must be answered with, and proof that it changed nothing.
//!
//! docs/CONTRACT.md promises that a rejected event changes nothing, and docs/SECURITY.md
//! that only an event a party of the wallet signed is ever recorded. So for each case:
//! - an event the host refuses (a malformed envelope, an event that never reaches the
//!   contract, or a contract rejection that does not show a party sent it: `bad_event`,
//!   `bad_amount`, `bad_signature`, `already_open`, `not_open`, any rejected `open` of a new
//!   wallet) leaves every wallet's head, view, journal and the outbox exactly as they were;
//! - any other contract rejection is journaled with its code, no effects and the wallet's
//!   state (and its hash) unchanged, and nothing else changes.
//!
//! A body that is not an envelope at all is answered `bad_request` by the service, which
//! parses it with `serde_json`; the cases check that parse the same way.
//!
//! The cases are one table and one runner: each case gets its own wallet (named after the
//! case), built from a fixture of accepted events, then the bad input. Every failing case is
//! reported, not only the first.

use std::collections::{BTreeMap, BTreeSet};

use prepaid_host::keys::dev_key;
use prepaid_host::store::{OutboxEffect, WalletHead};
use prepaid_host::testkit::scenario::Step;
use prepaid_host::{Clock, Envelope, Error, Funding, Ledger, Submitted};
use prepaid_tests::{dispute, ledger_in, EVIDENCE};
use serde_json::{json, Value};

/// When every fixture's wallet is opened.
const OPENED: &str = "2026-01-05T09:00:00Z";
/// When fixtures make their first request.
const REQUESTED: &str = "2026-01-05T10:00:00Z";
/// When fixtures take their last step.
const SETTLED: &str = "2026-01-05T11:00:00Z";
/// When a case's bad input arrives, unless it says otherwise: inside the cooling-off
/// period, before a re-key started at [`SETTLED`] takes effect.
const LATER: &str = "2026-01-10T09:00:00Z";

/// The "code" of a control: an input just inside a boundary a case crosses, accepted.
const ACCEPTED: &str = "accepted";

/// The host's own refusals, and the contract's rejections that do not show the event came
/// from a party of the wallet: recorded nowhere (the rest are journaled).
const UNRECORDED: [&str; 12] = [
    "bad_request",
    "bad_envelope",
    "unknown_wallet",
    "event_id_reused",
    "client_time",
    "platform_only",
    "unfunded_open",
    "bad_event",
    "bad_amount",
    "bad_signature",
    "already_open",
    "not_open",
];

/// The wallet a case's bad input is sent to, as accepted events build it. Actors: alice
/// the consumer, gym the merchant, city the regulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fixture {
    /// No wallet at all.
    Fresh,
    /// 100 sessions for 1000.00 (list price 12.00, 7 days' cooling-off, re-keys wait 5
    /// days), and gym's request r1 for 2 sessions pending.
    Sessions,
    /// [`Fixture::Sessions`] with 63 more requests: 64 pending, as many as may be.
    Full,
    /// [`Fixture::Sessions`], r1 disputed by alice.
    Disputed,
    /// [`Fixture::Sessions`], refunded by alice: closed.
    Closed,
    /// [`Fixture::Sessions`], city re-keying it to carol (in effect 5 days later).
    Rekeying,
    /// A stored-value card: 120.00 of face value for 100.00.
    StoredValue,
    /// A plan of two stages (100.00 and 200.00), stage 0 requested as r1 and authorized.
    Plan,
    /// A year's membership for 365.00.
    Membership,
    /// [`Fixture::Sessions`]' terms opened awaiting funding: nothing paid in yet.
    Unfunded,
}

/// How a case's bad input is made. Steps are scenario steps (`by`, `event` and optionally
/// `at`; actors by name): the runner adds the wallet, the id `<wallet>-bad` and, unless the
/// step has one, the time [`LATER`], and signs it as `by` says (`null`: unsigned).
enum Input {
    /// A step as it is.
    Step(Value),
    /// A step, signed, then changed.
    Altered(Value, fn(&mut Envelope)),
    /// A step, signed, then changed as JSON text and parsed as the service parses a body.
    Json(Value, fn(&mut Value)),
    /// A body as it is.
    Text(&'static str),
}

/// One kind of bad input.
struct Case {
    /// `family.kind`: the family before the dot. Also the wallet's name.
    name: &'static str,
    /// The code it must be answered with.
    code: &'static str,
    /// The wallet it is sent to.
    fixture: Fixture,
    /// What is sent.
    input: Input,
    /// The ledger's clock.
    clock: Clock,
    /// Where the ledger takes wallets' money to come from.
    funding: Funding,
}

fn case(name: &'static str, code: &'static str, fixture: Fixture, input: Input) -> Case {
    Case {
        name,
        code,
        fixture,
        input,
        clock: Clock::Scripted,
        funding: Funding::Declared,
    }
}

impl Case {
    /// The case on a ledger with the system clock (the platform's, as `prepaid serve` runs).
    fn on_system_clock(self) -> Case {
        Case {
            clock: Clock::System,
            ..self
        }
    }

    /// The case on the platform's ledger: the system clock, and money only from the rail.
    fn on_the_rail(self) -> Case {
        Case {
            clock: Clock::System,
            funding: Funding::Rail,
            ..self
        }
    }

    /// Whether the contract's rejection is journaled rather than refused.
    fn journaled(&self) -> bool {
        self.fixture != Fixture::Fresh && !UNRECORDED.contains(&self.code)
    }
}

/// A step `by` signs (`None`: unsigned).
fn step(by: Option<&str>, event: Value) -> Input {
    Input::Step(json!({"by": by, "event": event}))
}

/// A step at `at`.
fn step_at(at: &str, by: Option<&str>, event: Value) -> Input {
    Input::Step(json!({"at": at, "by": by, "event": event}))
}

/// alice's valid authorization of r1 on [`Fixture::Sessions`]: what envelope and signature
/// cases spoil.
fn authorize_r1() -> Value {
    json!({"by": "alice", "event": {"type": "authorize", "request": "r1", "units": 2}})
}

/// [`authorize_r1`], changed after signing.
fn altered(change: fn(&mut Envelope)) -> Input {
    Input::Altered(authorize_r1(), change)
}

/// [`authorize_r1`] as JSON, changed.
fn json_altered(change: fn(&mut Value)) -> Input {
    Input::Json(authorize_r1(), change)
}

/// Signs `envelope` again by `by`, for its wallet and id as they are now.
fn sign(envelope: &mut Envelope, by: &str) {
    envelope.sign(&dev_key(by)).expect("a parseable event");
}

/// A request by gym.
fn request(fields: Value) -> Input {
    let mut event = json!({"type": "request", "request": "r2"});
    event
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    step(Some("gym"), event)
}

/// A request for the face amount `amount` on [`Fixture::StoredValue`].
fn amount(text: &str) -> Input {
    request(json!({"amount": text}))
}

/// alice's `open` of `product` under `policy`, approved by city.
fn open(product: Value, policy: Value) -> Value {
    json!({"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
           "product": product, "policy": policy})
}

fn sessions_terms() -> Value {
    json!({"kind": "sessions", "sessions": 100, "price": "1000.00", "list_price": "12.00"})
}

fn policy() -> Value {
    json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "rekey_wait_days": 5})
}

/// alice opens a plan of `stages`.
fn open_plan(stages: Vec<Value>) -> Input {
    step(Some("alice"), open(json!({"kind": "plan", "stages": stages}), policy()))
}

/// alice opens `product` under `policy`.
fn open_with(product: Value, policy: Value) -> Input {
    step(Some("alice"), open(product, policy))
}

/// A policy of 7 days' cooling-off with `caps` added.
fn capped(caps: Value) -> Value {
    let mut policy = json!({"cooling_off_days": 7, "deemed_confirm_days": 0});
    for (field, value) in caps.as_object().unwrap() {
        policy[field] = value.clone();
    }
    policy
}

fn membership(term_days: u32) -> Value {
    json!({"kind": "membership", "price": "365.00", "term_days": term_days})
}

fn stored_value(price: &str) -> Value {
    json!({"kind": "stored_value", "price": price, "face_value": price})
}

/// alice opens the sessions pack as catalogue listing `id`, approved until `until`.
fn open_listed(id: &str, until: i64) -> Input {
    let mut open = open(sessions_terms(), policy());
    open["listing"] = json!({"id": id, "approved_until": until});
    step(Some("alice"), open)
}

/// city's closure of `merchant` (by name, as scenario steps name actors) from
/// `effective`, as a `merchant_closed` carries it.
fn closure_event(merchant: &str, effective: i64) -> Value {
    json!({"type": "merchant_closed", "closure": {"merchant": merchant, "effective": effective}})
}

/// The closure of `merchant` from `effective`, signed by city.
fn closure(merchant: &str, effective: i64) -> Input {
    step(Some("city"), closure_event(merchant, effective))
}

/// Seconds since the Unix epoch of `at`.
fn unix(at: &str) -> i64 {
    prepaid_host::envelope::timestamp(at).unwrap()
}

/// The accepted steps that build `fixture`.
fn fixture_steps(fixture: Fixture) -> Vec<Value> {
    let at = |at: &str, by: &str, event: Value| json!({"at": at, "by": by, "event": event});
    let sessions = || {
        vec![
            at(OPENED, "alice", open(sessions_terms(), policy())),
            at(
                REQUESTED,
                "gym",
                json!({"type": "request", "request": "r1", "units": 2}),
            ),
        ]
    };
    let with = |mut steps: Vec<Value>, more: Value| {
        steps.push(more);
        steps
    };
    match fixture {
        Fixture::Fresh => Vec::new(),
        Fixture::Sessions => sessions(),
        Fixture::Full => {
            let mut steps = sessions();
            steps.extend((0..63).map(|index| {
                at(
                    REQUESTED,
                    "gym",
                    json!({"type": "request", "request": format!("p{index}"), "units": 1}),
                )
            }));
            steps
        }
        Fixture::Disputed => with(sessions(), at(SETTLED, "alice", dispute(&[]))),
        // The request withdrawn first: a refund leaves a pending request's money to the
        // regulator, and this wallet is to be closed.
        Fixture::Closed => {
            let withdrawn = with(
                sessions(),
                at(SETTLED, "gym", json!({"type": "withdraw", "request": "r1"})),
            );
            with(withdrawn, at(SETTLED, "alice", json!({"type": "refund"})))
        }
        Fixture::Rekeying => with(sessions(), at(SETTLED, "city", json!({"type": "rekey", "to": "carol"}))),
        Fixture::Unfunded => {
            let mut awaiting = open(sessions_terms(), policy());
            awaiting["awaiting_funding"] = true.into();
            vec![at(OPENED, "alice", awaiting)]
        }
        Fixture::StoredValue => vec![at(
            OPENED,
            "alice",
            open(
                json!({"kind": "stored_value", "price": "100.00", "face_value": "120.00"}),
                policy(),
            ),
        )],
        Fixture::Plan => {
            let stages = json!([{"name": "assessment", "amount": "100.00"}, {"name": "appliance", "amount": "200.00"}]);
            vec![
                at(
                    OPENED,
                    "alice",
                    open(json!({"kind": "plan", "stages": stages}), policy()),
                ),
                at(
                    REQUESTED,
                    "gym",
                    json!({"type": "request", "request": "r1", "stage": 0}),
                ),
                at(
                    SETTLED,
                    "alice",
                    json!({"type": "authorize", "request": "r1", "stage": 0}),
                ),
            ]
        }
        Fixture::Membership => vec![at(
            OPENED,
            "alice",
            open(
                json!({"kind": "membership", "price": "365.00", "term_days": 365}),
                policy(),
            ),
        )],
    }
}

/// Every case.
fn catalogue() -> Vec<Case> {
    use Fixture::*;
    let stage = |index: usize| json!({"name": format!("stage {index}"), "amount": "10.00"});
    vec![
        // The envelope: checked by the host before anything reaches the contract.
        case(
            "envelope.not_json",
            "bad_request",
            Sessions,
            Input::Text(r#"{"wallet": "#),
        ),
        case(
            "envelope.not_an_object",
            "bad_request",
            Sessions,
            Input::Text("[1, 2, 3]"),
        ),
        case(
            "envelope.wallet_missing",
            "bad_request",
            Sessions,
            json_altered(|raw| {
                raw.as_object_mut().unwrap().remove("wallet");
            }),
        ),
        case(
            "envelope.wallet_not_a_string",
            "bad_request",
            Sessions,
            json_altered(|raw| raw["wallet"] = 7.into()),
        ),
        case(
            "envelope.wallet_empty",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.wallet.clear()),
        ),
        case(
            "envelope.wallet_129_bytes",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.wallet = "w".repeat(129)),
        ),
        case(
            "envelope.wallet_control_char",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.wallet.push('\n')),
        ),
        case(
            "envelope.id_missing",
            "bad_request",
            Sessions,
            json_altered(|raw| {
                raw.as_object_mut().unwrap().remove("id");
            }),
        ),
        case(
            "envelope.id_empty",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.id.clear()),
        ),
        case(
            "envelope.id_129_bytes",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.id = "i".repeat(129)),
        ),
        case(
            "envelope.id_control_char",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.id.push('\u{7f}')),
        ),
        case(
            "envelope.event_missing",
            "bad_request",
            Sessions,
            json_altered(|raw| {
                raw.as_object_mut().unwrap().remove("event");
            }),
        ),
        case(
            "envelope.event_array",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.event = json!([raw.event.clone()])),
        ),
        case(
            "envelope.event_string",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.event = raw.event.to_string().into()),
        ),
        case(
            "envelope.event_null",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.event = Value::Null),
        ),
        case(
            "envelope.signature_not_hex",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.signature = Some("zz".repeat(64))),
        ),
        case(
            "envelope.signature_63_bytes",
            "bad_envelope",
            Sessions,
            altered(|raw| {
                raw.signature.as_mut().unwrap().truncate(126);
            }),
        ),
        case(
            "envelope.signature_65_bytes",
            "bad_envelope",
            Sessions,
            altered(|raw| {
                raw.signature.as_mut().unwrap().push_str("00");
            }),
        ),
        case(
            "envelope.signature_odd_digits",
            "bad_envelope",
            Sessions,
            altered(|raw| {
                raw.signature.as_mut().unwrap().pop();
            }),
        ),
        case(
            "envelope.signature_not_a_string",
            "bad_request",
            Sessions,
            json_altered(|raw| raw["signature"] = 1.into()),
        ),
        case(
            "envelope.unknown_field",
            "bad_request",
            Sessions,
            json_altered(|raw| raw["priority"] = "high".into()),
        ),
        case(
            "envelope.at_missing",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.at = None),
        ),
        case(
            "envelope.at_not_utc",
            "bad_envelope",
            Sessions,
            altered(|raw| {
                raw.at = Some("2026-01-10T17:00:00+08:00".into());
            }),
        ),
        case(
            "envelope.at_not_a_time",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.at = Some("yesterday".into())),
        ),
        case(
            "envelope.at_not_a_string",
            "bad_request",
            Sessions,
            json_altered(|raw| raw["at"] = 1_767_225_600.into()),
        ),
        case(
            "envelope.at_on_the_system_clock",
            "client_time",
            Sessions,
            Input::Step(authorize_r1()),
        )
        .on_system_clock(),
        case(
            "envelope.tick_on_the_system_clock",
            "platform_only",
            Sessions,
            Input::Altered(json!({"by": null, "event": {"type": "tick"}}), |raw| raw.at = None),
        )
        .on_system_clock(),
        case(
            "envelope.tick_id_on_the_system_clock",
            "platform_only",
            Sessions,
            altered(|raw| {
                raw.at = None;
                raw.id = "tick-2026-01-10T09:00:00Z".into();
                sign(raw, "alice");
            }),
        )
        .on_system_clock(),
        case(
            "envelope.open_paid_without_the_rail",
            "unfunded_open",
            Fresh,
            Input::Altered(
                json!({"by": "alice", "event": open(sessions_terms(), policy())}),
                |raw| raw.at = None,
            ),
        )
        .on_the_rail(),
        case(
            "order.transfer_while_awaiting_funding",
            "bad_transfer",
            Unfunded,
            step(Some("alice"), json!({"type": "transfer", "to": "carol"})),
        ),
        case(
            "order.funded_by_a_stranger",
            "bad_funding",
            Unfunded,
            step(
                None,
                json!({"type": "funded", "reference": "RAIL-1", "amount": "1000.00", "payer": "mallory"}),
            ),
        ),
        case(
            "envelope.event_over_64_kib",
            "bad_envelope",
            Sessions,
            altered(|raw| raw.event["note"] = "n".repeat(64 << 10).into()),
        ),
        // The event: strictly parsed by the contract.
        case(
            "event.unknown_type",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({"type": "teleport"})),
        ),
        case(
            "event.type_missing",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({"request": "r2", "units": 1})),
        ),
        case(
            "event.type_not_a_string",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({"type": 1})),
        ),
        case(
            "event.empty_object",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({})),
        ),
        case(
            "event.unknown_field",
            "bad_event",
            Sessions,
            request(json!({"units": 1, "tip": "1.00"})),
        ),
        case(
            "event.unknown_field_in_terms",
            "bad_event",
            Fresh,
            open_with(
                json!({"kind": "sessions", "sessions": 10, "price": "100.00", "list_price": "10.00", "bonus": 1}),
                policy(),
            ),
        ),
        case(
            "event.unknown_product_kind",
            "bad_event",
            Fresh,
            open_with(json!({"kind": "voucher", "price": "1.00"}), policy()),
        ),
        case(
            "event.missing_field",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({"type": "request", "units": 1})),
        ),
        case(
            "event.missing_outcome",
            "bad_event",
            Disputed,
            step(Some("city"), json!({"type": "resolve"})),
        ),
        case(
            "event.missing_policy_field",
            "bad_event",
            Fresh,
            open_with(sessions_terms(), json!({"cooling_off_days": 7})),
        ),
        case(
            "event.units_as_string",
            "bad_event",
            Sessions,
            request(json!({"units": "1"})),
        ),
        case(
            "event.units_negative",
            "bad_event",
            Sessions,
            request(json!({"units": -1})),
        ),
        case(
            "event.units_fraction",
            "bad_event",
            Sessions,
            request(json!({"units": 1.5})),
        ),
        case(
            "event.units_beyond_u64",
            "bad_event",
            Sessions,
            request(json!({"units": 1e20})),
        ),
        case("event.stage_negative", "bad_event", Plan, request(json!({"stage": -1}))),
        case(
            "event.request_id_a_number",
            "bad_event",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": 2, "units": 1})),
        ),
        case(
            "event.amount_a_number",
            "bad_event",
            StoredValue,
            request(json!({"amount": 10.5})),
        ),
        case(
            "event.unknown_outcome",
            "bad_event",
            Disputed,
            step(Some("city"), json!({"type": "resolve", "outcome": "maybe"})),
        ),
        case(
            "event.not_after_a_string",
            "bad_event",
            Sessions,
            step(Some("alice"), json!({"type": "refund", "not_after": "soon"})),
        ),
        case(
            "event.transfer_to_not_hex",
            "bad_event",
            Sessions,
            Input::Altered(
                json!({"by": "alice", "event": {"type": "transfer", "to": "carol"}}),
                |raw| raw.event["to"] = "carol".into(),
            ),
        ),
        case(
            "event.transfer_to_31_bytes",
            "bad_event",
            Sessions,
            Input::Altered(
                json!({"by": "alice", "event": {"type": "transfer", "to": "carol"}}),
                |raw| raw.event["to"] = "ab".repeat(31).into(),
            ),
        ),
        case(
            "event.tick_with_a_field",
            "bad_event",
            Sessions,
            step(None, json!({"type": "tick", "now": 1_800_000_000})),
        ),
        case(
            "event.merchant_closed_with_a_field",
            "bad_event",
            Sessions,
            step(Some("city"), json!({"type": "merchant_closed", "why": "gone"})),
        ),
        // Amounts: canonical decimal strings only.
        case("amount.negative", "bad_amount", StoredValue, amount("-1.00")),
        case("amount.plus_sign", "bad_amount", StoredValue, amount("+1.00")),
        case("amount.exponent", "bad_amount", StoredValue, amount("1e2")),
        case("amount.three_decimals", "bad_amount", StoredValue, amount("1.005")),
        case("amount.leading_zeros", "bad_amount", StoredValue, amount("01.00")),
        case(
            "amount.twelve_digits",
            "bad_amount",
            StoredValue,
            amount("100000000000.00"),
        ),
        case(
            "amount.over_the_maximum",
            "bad_amount",
            StoredValue,
            amount("10000000000.01"),
        ),
        case("amount.empty", "bad_amount", StoredValue, amount("")),
        case("amount.leading_space", "bad_amount", StoredValue, amount(" 1.00")),
        case("amount.trailing_space", "bad_amount", StoredValue, amount("1.00 ")),
        case("amount.inner_space", "bad_amount", StoredValue, amount("1 000.00")),
        case("amount.trailing_point", "bad_amount", StoredValue, amount("1.")),
        case("amount.leading_point", "bad_amount", StoredValue, amount(".50")),
        case("amount.decimal_comma", "bad_amount", StoredValue, amount("1,00")),
        case("amount.nan", "bad_amount", StoredValue, amount("NaN")),
        case(
            "amount.in_an_authorization",
            "bad_amount",
            StoredValue,
            step(
                Some("alice"),
                json!({"type": "authorize", "request": "r1", "amount": "1.005"}),
            ),
        ),
        case(
            "amount.in_the_terms",
            "bad_amount",
            Fresh,
            open_with(
                json!({"kind": "stored_value", "price": "-100.00", "face_value": "120.00"}),
                policy(),
            ),
        ),
        case(
            "amount.in_the_price_cap",
            "bad_amount",
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "5e3"}),
            ),
        ),
        // Signatures: over the wallet, the event id and every field, by the right key.
        case(
            "signature.unsigned",
            "bad_signature",
            Sessions,
            Input::Step(json!({"by": null, "event": authorize_r1()["event"]})),
        ),
        case(
            "signature.by_a_stranger",
            "bad_signature",
            Sessions,
            Input::Step(json!({"by": "eve", "event": authorize_r1()["event"]})),
        ),
        case(
            "signature.for_another_wallet",
            "bad_signature",
            Sessions,
            altered(|raw| {
                let wallet = std::mem::replace(&mut raw.wallet, "elsewhere".into());
                sign(raw, "alice");
                raw.wallet = wallet;
            }),
        ),
        case(
            "signature.for_another_event_id",
            "bad_signature",
            Sessions,
            altered(|raw| {
                let id = std::mem::replace(&mut raw.id, "another-id".into());
                sign(raw, "alice");
                raw.id = id;
            }),
        ),
        case(
            "signature.over_other_content",
            "bad_signature",
            Sessions,
            altered(|raw| raw.event["not_after"] = 1_900_000_000.into()),
        ),
        case(
            "signature.all_zero",
            "bad_signature",
            Sessions,
            altered(|raw| raw.signature = Some("00".repeat(64))),
        ),
        case(
            "signature.open_unsigned",
            "bad_signature",
            Fresh,
            Input::Step(json!({"by": null, "event": open(sessions_terms(), policy())})),
        ),
        case(
            "signature.approval_by_a_stranger",
            "bad_approval",
            Fresh,
            Input::Altered(
                json!({"by": "alice", "event": open(sessions_terms(), policy())}),
                |raw| {
                    raw.approve(&dev_key("eve")).unwrap();
                    sign(raw, "alice");
                },
            ),
        ),
        case(
            "signature.approval_of_other_terms",
            "bad_approval",
            Fresh,
            Input::Altered(
                json!({"by": "alice", "event": open(sessions_terms(), policy())}),
                |raw| {
                    raw.event["policy"]["cooling_off_days"] = 0.into();
                    sign(raw, "alice");
                },
            ),
        ),
        // Time: the platform's, never backwards, and within what the signer allowed.
        case(
            "time.before_the_open",
            "time_backwards",
            Sessions,
            step_at("2026-01-05T08:00:00Z", Some("alice"), authorize_r1()["event"].clone()),
        ),
        case(
            "time.one_second_back",
            "time_backwards",
            Sessions,
            step_at("2026-01-05T09:59:59Z", Some("alice"), authorize_r1()["event"].clone()),
        ),
        // Who signs is checked before anything else about the wallet (contract/src/rules.rs):
        // an unsigned event is not shown to come from a party, whatever its time.
        case(
            "time.backwards_unsigned",
            "bad_signature",
            Sessions,
            step_at("2026-01-05T09:59:59Z", None, json!({"type": "refund"})),
        ),
        case(
            "time.refund_too_late",
            "too_late",
            Sessions,
            step(Some("alice"), json!({"type": "refund", "not_after": unix(LATER) - 1})),
        ),
        case(
            "time.authorize_too_late",
            "too_late",
            Sessions,
            step(
                Some("alice"),
                json!({"type": "authorize", "request": "r1", "units": 2, "not_after": unix(SETTLED)}),
            ),
        ),
        case(
            "time.transfer_too_late",
            "too_late",
            Sessions,
            step(Some("alice"), json!({"type": "transfer", "to": "bob", "not_after": 0})),
        ),
        case(
            "time.not_after_negative",
            "too_late",
            Sessions,
            step(
                Some("alice"),
                json!({"type": "dispute", "reason": "other", "evidence": EVIDENCE, "not_after": -1}),
            ),
        ),
        case(
            "time.cancel_rekey_too_late",
            "too_late",
            Rekeying,
            step(
                Some("alice"),
                json!({"type": "cancel_rekey", "not_after": unix(SETTLED)}),
            ),
        ),
        case(
            "time.open_too_late",
            "too_late",
            Fresh,
            step(Some("alice"), {
                let mut event = open(sessions_terms(), policy());
                event["not_after"] = (unix(LATER) - 60).into();
                event
            }),
        ),
        // Ids: request ids short and printable, unique while pending; event ids never reused.
        case(
            "id.request_empty",
            "bad_request_id",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "", "units": 1})),
        ),
        case(
            "id.request_65_bytes",
            "bad_request_id",
            Sessions,
            step(
                Some("gym"),
                json!({"type": "request", "request": "r".repeat(65), "units": 1}),
            ),
        ),
        case(
            "id.request_newline",
            "bad_request_id",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "r\n2", "units": 1})),
        ),
        case(
            "id.request_nul",
            "bad_request_id",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "r\u{0}", "units": 1})),
        ),
        case(
            "id.request_space",
            "bad_request_id",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "r 2", "units": 1})),
        ),
        case(
            "id.request_quote",
            "bad_request_id",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "r\"2", "units": 1})),
        ),
        case(
            "id.request_homoglyph",
            "bad_request_id",
            Sessions,
            step(
                Some("gym"),
                json!({"type": "request", "request": "r\u{0455}", "units": 1}),
            ),
        ),
        case(
            "id.request_pending",
            "duplicate_request",
            Sessions,
            step(Some("gym"), json!({"type": "request", "request": "r1", "units": 1})),
        ),
        case(
            "id.event_id_reused",
            "event_id_reused",
            Sessions,
            Input::Altered(json!({"by": "alice", "event": {"type": "refund"}}), |raw| {
                // The id of the fixture's request (step 1).
                raw.id = format!("{}-1", raw.wallet);
                sign(raw, "alice");
            }),
        ),
        case(
            "id.event_id_reused_by_a_tick",
            "event_id_reused",
            Sessions,
            Input::Altered(json!({"by": null, "event": {"type": "tick"}}), |raw| {
                raw.id = format!("{}-0", raw.wallet)
            }),
        ),
        // Sizes: the state is bounded.
        case(
            "size.request_65",
            "too_many_pending",
            Full,
            step(
                Some("gym"),
                json!({"type": "request", "request": "one-more", "units": 1}),
            ),
        ),
        case(
            "size.plan_65_stages",
            "invalid_terms",
            Fresh,
            open_plan((0..65).map(stage).collect()),
        ),
        case("size.plan_no_stages", "invalid_terms", Fresh, open_plan(Vec::new())),
        case(
            "size.stage_name_33_bytes",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "n".repeat(33), "amount": "10.00"})]),
        ),
        case(
            "size.stage_name_empty",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "", "amount": "10.00"})]),
        ),
        case(
            "size.stage_name_quote",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "a \"b\"", "amount": "10.00"})]),
        ),
        case(
            "size.stage_name_backslash",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "a\\b", "amount": "10.00"})]),
        ),
        case(
            "size.stage_name_tab",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "a\tb", "amount": "10.00"})]),
        ),
        case(
            "size.plan_over_the_maximum",
            "invalid_terms",
            Fresh,
            open_plan(vec![
                json!({"name": "a", "amount": "10000000000.00"}),
                json!({"name": "b", "amount": "0.01"}),
            ]),
        ),
        // Terms: what the rules could not honour.
        case(
            "terms.face_value_below_price",
            "invalid_terms",
            Fresh,
            open_with(
                json!({"kind": "stored_value", "price": "100.00", "face_value": "99.99"}),
                policy(),
            ),
        ),
        case(
            "terms.no_sessions",
            "invalid_terms",
            Fresh,
            open_with(
                json!({"kind": "sessions", "sessions": 0, "price": "100.00", "list_price": "10.00"}),
                policy(),
            ),
        ),
        case(
            "terms.list_price_below_paid_rate",
            "invalid_terms",
            Fresh,
            open_with(
                json!({"kind": "sessions", "sessions": 10, "price": "100.00", "list_price": "9.99"}),
                policy(),
            ),
        ),
        case(
            "terms.zero_price",
            "invalid_terms",
            Fresh,
            open_with(
                json!({"kind": "stored_value", "price": "0.00", "face_value": "10.00"}),
                policy(),
            ),
        ),
        case(
            "terms.zero_stage_amount",
            "invalid_terms",
            Fresh,
            open_plan(vec![json!({"name": "a", "amount": "0.00"})]),
        ),
        case(
            "terms.zero_term",
            "invalid_terms",
            Fresh,
            open_with(
                json!({"kind": "membership", "price": "365.00", "term_days": 0}),
                policy(),
            ),
        ),
        case(
            "terms.supervised_share_0",
            "invalid_terms",
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "supervised_share": 0}),
            ),
        ),
        case(
            "terms.supervised_share_101",
            "invalid_terms",
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "supervised_share": 101}),
            ),
        ),
        case(
            "terms.rekey_wait_0",
            "invalid_terms",
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "rekey_wait_days": 0}),
            ),
        ),
        case(
            "terms.over_price_cap",
            "over_price_cap",
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "999.99"}),
            ),
        ),
        // The regional caps a policy carries (docs/REGULATIONS.md), each crossed by one.
        case(
            "terms.over_max_sessions",
            "over_policy_cap",
            Fresh,
            open_with(sessions_terms(), capped(json!({"max_sessions": 60}))),
        ),
        case(
            "terms.over_fee_multiple",
            "over_policy_cap",
            Fresh,
            open_with(
                json!({"kind": "sessions", "sessions": 10, "price": "600.01", "list_price": "120.00"}),
                capped(json!({"max_fee_multiple": 5})),
            ),
        ),
        case(
            "terms.over_max_term_days",
            "over_policy_cap",
            Fresh,
            open_with(membership(731), capped(json!({"max_term_days": 730}))),
        ),
        case(
            "terms.named_card_over_5000",
            "over_price_cap",
            Fresh,
            open_with(stored_value("5000.01"), capped(json!({"card": "named"}))),
        ),
        case(
            "terms.anonymous_card_over_1000",
            "over_price_cap",
            Fresh,
            open_with(stored_value("1000.01"), capped(json!({"card": "anonymous"}))),
        ),
        case(
            "terms.anonymous_card_valid_under_3_years",
            "invalid_terms",
            Fresh,
            open_with(
                stored_value("100.00"),
                capped(json!({"card": "anonymous", "valid_days": 1095})),
            ),
        ),
        case(
            "terms.term_cap_on_a_session_pack",
            "invalid_terms",
            Fresh,
            open_with(sessions_terms(), capped(json!({"max_term_days": 90}))),
        ),
        case(
            "terms.session_cap_on_a_membership",
            "invalid_terms",
            Fresh,
            open_with(membership(30), capped(json!({"max_sessions": 60}))),
        ),
        // A catalogue listing's approval lapses, and its id is plain.
        case(
            "terms.listing_approval_lapsed",
            "approval_expired",
            Fresh,
            open_listed("dental-1", unix(LATER) - 1),
        ),
        case(
            "terms.listing_id_with_a_space",
            "invalid_terms",
            Fresh,
            open_listed("dental 1", unix(LATER)),
        ),
        // A merchant's closure, signed once for all its wallets, applies from its date on,
        // to its own merchant's wallets only.
        case(
            "closure.before_its_date",
            "not_yet_effective",
            Sessions,
            closure("gym", unix(LATER) + 1),
        ),
        case(
            "closure.of_another_merchant",
            "bad_signature",
            Sessions,
            closure("pool", unix(LATER)),
        ),
        case(
            "closure.signed_by_the_merchant",
            "bad_signature",
            Sessions,
            Input::Step(json!({"by": "gym", "event": closure_event("gym", unix(LATER))})),
        ),
        // Roles: each event needs its party's signature.
        case(
            "role.merchant_signs_authorize",
            "bad_signature",
            Sessions,
            Input::Step(json!({"by": "gym", "event": authorize_r1()["event"]})),
        ),
        case(
            "role.consumer_signs_request",
            "bad_signature",
            Sessions,
            step(Some("alice"), json!({"type": "request", "request": "r2", "units": 1})),
        ),
        case(
            "role.merchant_signs_merchant_closed",
            "bad_signature",
            Sessions,
            step(Some("gym"), json!({"type": "merchant_closed"})),
        ),
        case(
            "role.merchant_signs_resolve",
            "bad_signature",
            Disputed,
            step(Some("gym"), json!({"type": "resolve", "outcome": "continue"})),
        ),
        case(
            "role.consumer_signs_resolve",
            "bad_signature",
            Disputed,
            step(Some("alice"), json!({"type": "resolve", "outcome": "refund"})),
        ),
        case(
            "role.merchant_signs_rekey",
            "bad_signature",
            Sessions,
            step(Some("gym"), json!({"type": "rekey", "to": "gym"})),
        ),
        case(
            "role.consumer_signs_rekey",
            "bad_signature",
            Sessions,
            step(Some("alice"), json!({"type": "rekey", "to": "carol"})),
        ),
        case(
            "role.merchant_signs_refund",
            "bad_signature",
            Sessions,
            step(Some("gym"), json!({"type": "refund"})),
        ),
        case(
            "role.regulator_signs_refund",
            "bad_signature",
            Sessions,
            step(Some("city"), json!({"type": "refund"})),
        ),
        case(
            "role.merchant_disputes_the_wallet",
            "bad_dispute",
            Sessions,
            step(
                Some("gym"),
                json!({"type": "dispute", "reason": "unanswered", "evidence": EVIDENCE}),
            ),
        ),
        case(
            "role.merchant_disputes_with_the_consumers_reason",
            "bad_dispute",
            Sessions,
            step(Some("gym"), dispute(&["r1"])),
        ),
        case(
            "role.stranger_signs_dispute",
            "bad_signature",
            Sessions,
            step(Some("mallory"), dispute(&[])),
        ),
        case(
            "role.merchant_signs_transfer",
            "bad_signature",
            Sessions,
            step(Some("gym"), json!({"type": "transfer", "to": "gym"})),
        ),
        case(
            "role.regulator_signs_open",
            "bad_signature",
            Fresh,
            step(Some("city"), open(sessions_terms(), policy())),
        ),
        case(
            "role.merchant_signs_cancel_rekey",
            "bad_signature",
            Rekeying,
            step(Some("gym"), json!({"type": "cancel_rekey"})),
        ),
        case(
            "role.new_key_before_the_rekey",
            "bad_signature",
            Rekeying,
            Input::Step(json!({"by": "carol", "event": authorize_r1()["event"]})),
        ),
        // Order: events that need an earlier one.
        case(
            "order.authorize_unknown_request",
            "unknown_request",
            Sessions,
            step(Some("alice"), json!({"type": "authorize", "request": "r9", "units": 2})),
        ),
        case(
            "order.authorize_settled_request",
            "unknown_request",
            Plan,
            step(Some("alice"), json!({"type": "authorize", "request": "r1", "stage": 0})),
        ),
        case(
            "order.dispute_unknown_request",
            "unknown_request",
            Sessions,
            step(Some("alice"), dispute(&["r9"])),
        ),
        case(
            "signature.withdraw_by_the_consumer",
            "bad_signature",
            Sessions,
            step(Some("alice"), json!({"type": "withdraw", "request": "r1"})),
        ),
        case(
            "order.withdraw_unknown_request",
            "unknown_request",
            Sessions,
            step(Some("gym"), json!({"type": "withdraw", "request": "r9"})),
        ),
        case(
            "order.split_without_release",
            "bad_resolution",
            Disputed,
            step(Some("city"), json!({"type": "resolve", "outcome": "split"})),
        ),
        case(
            "order.split_over_frozen",
            "bad_resolution",
            Disputed,
            step(
                Some("city"),
                json!({"type": "resolve", "outcome": "split", "release": "1000000.00"}),
            ),
        ),
        case(
            "order.release_on_a_refund_ruling",
            "bad_resolution",
            Disputed,
            step(
                Some("city"),
                json!({"type": "resolve", "outcome": "refund", "release": "1.00"}),
            ),
        ),
        case(
            "state.top_up_of_a_session_pack",
            "bad_top_up",
            Sessions,
            step(Some("alice"), json!({"type": "top_up", "amount": "10.00"})),
        ),
        case(
            "amount.top_up_of_nothing",
            "bad_top_up",
            StoredValue,
            step(Some("alice"), json!({"type": "top_up", "amount": "0.00"})),
        ),
        case(
            "signature.top_up_by_the_merchant",
            "bad_signature",
            StoredValue,
            step(Some("gym"), json!({"type": "top_up", "amount": "10.00"})),
        ),
        case(
            "state.request_before_funding",
            "not_funded",
            Unfunded,
            step(Some("gym"), json!({"type": "request", "request": "r1", "units": 1})),
        ),
        case(
            "order.funded_when_not_awaiting",
            "bad_funding",
            Sessions,
            step(
                None,
                json!({"type": "funded", "reference": "RAIL-1", "amount": "1000.00", "payer": "alice"}),
            ),
        ),
        case(
            "amount.funded_with_another_amount",
            "bad_funding",
            Unfunded,
            step(
                None,
                json!({"type": "funded", "reference": "RAIL-1", "amount": "999.99", "payer": "alice"}),
            ),
        ),
        case(
            "state.dispute_before_funding",
            "not_funded",
            Unfunded,
            step(Some("alice"), dispute(&[])),
        ),
        case(
            "id.funded_reference_not_plain",
            "bad_funding",
            Unfunded,
            step(
                None,
                json!({"type": "funded", "reference": "RAIL 1", "amount": "1000.00", "payer": "alice"}),
            ),
        ),
        case(
            "order.resolve_without_dispute",
            "not_disputed",
            Sessions,
            step(Some("city"), json!({"type": "resolve", "outcome": "refund"})),
        ),
        case(
            "order.dispute_twice",
            "already_disputed",
            Disputed,
            step(Some("city"), dispute(&[])),
        ),
        case(
            "order.open_twice",
            "already_open",
            Sessions,
            step(Some("alice"), open(sessions_terms(), policy())),
        ),
        case(
            "order.open_twice_unsigned",
            "already_open",
            Sessions,
            step(None, open(sessions_terms(), policy())),
        ),
        case(
            "order.event_before_open",
            "unknown_wallet",
            Fresh,
            step(Some("alice"), json!({"type": "refund"})),
        ),
        case(
            "order.tick_before_open",
            "unknown_wallet",
            Fresh,
            step(None, json!({"type": "tick"})),
        ),
        // State: what the wallet's state does not allow.
        case(
            "state.request_when_closed",
            "closed",
            Closed,
            step(Some("gym"), json!({"type": "request", "request": "r2", "units": 1})),
        ),
        case(
            "state.refund_when_closed",
            "closed",
            Closed,
            step(Some("alice"), json!({"type": "refund"})),
        ),
        case(
            "state.merchant_closed_when_closed",
            "closed",
            Closed,
            step(Some("city"), json!({"type": "merchant_closed"})),
        ),
        case(
            "state.tick_when_closed",
            "closed",
            Closed,
            step(None, json!({"type": "tick"})),
        ),
        case(
            "state.authorize_while_disputed",
            "disputed",
            Disputed,
            Input::Step(authorize_r1()),
        ),
        case(
            "state.cancel_rekey_with_none",
            "bad_rekey",
            Sessions,
            step(Some("alice"), json!({"type": "cancel_rekey"})),
        ),
        case(
            "state.rekey_while_one_waits",
            "bad_rekey",
            Rekeying,
            step(Some("city"), json!({"type": "rekey", "to": "dave"})),
        ),
        case(
            "state.rekey_to_the_consumer",
            "bad_rekey",
            Sessions,
            step(Some("city"), json!({"type": "rekey", "to": "alice"})),
        ),
        case(
            "state.transfer_to_self",
            "bad_transfer",
            Sessions,
            step(Some("alice"), json!({"type": "transfer", "to": "alice"})),
        ),
        case(
            "state.authorize_other_units",
            "authorization_mismatch",
            Sessions,
            step(Some("alice"), json!({"type": "authorize", "request": "r1", "units": 1})),
        ),
        case(
            "state.authorize_no_quantity",
            "authorization_mismatch",
            Sessions,
            step(Some("alice"), json!({"type": "authorize", "request": "r1"})),
        ),
        case(
            "state.authorize_other_kind",
            "authorization_mismatch",
            Sessions,
            step(
                Some("alice"),
                json!({"type": "authorize", "request": "r1", "amount": "20.00"}),
            ),
        ),
        case(
            "state.request_zero_units",
            "bad_quantity",
            Sessions,
            request(json!({"units": 0})),
        ),
        case(
            "state.request_other_kind",
            "bad_quantity",
            Sessions,
            request(json!({"amount": "10.00"})),
        ),
        case(
            "state.request_two_quantities",
            "bad_quantity",
            Sessions,
            request(json!({"units": 1, "stage": 0})),
        ),
        case(
            "state.request_on_a_membership",
            "bad_quantity",
            Membership,
            request(json!({"units": 1})),
        ),
        case(
            "state.request_no_such_stage",
            "bad_quantity",
            Plan,
            request(json!({"stage": 2})),
        ),
        case(
            "state.request_over_remaining",
            "over_remaining",
            Sessions,
            request(json!({"units": 99})),
        ),
        case(
            "state.request_completed_stage",
            "duplicate_request",
            Plan,
            request(json!({"stage": 0})),
        ),
    ]
}

/// Inputs just inside the boundaries the cases cross, and the unspoiled input the envelope
/// and signature cases spoil: each must be accepted, so that a case is answered for what it
/// spoils and not for something else.
fn controls() -> Vec<Case> {
    use Fixture::*;
    let stage = |index: usize| json!({"name": format!("{index:0>32}"), "amount": "10.00"});
    vec![
        case("control.authorize", ACCEPTED, Sessions, Input::Step(authorize_r1())),
        case(
            "control.split_releasing_everything_frozen",
            ACCEPTED,
            Disputed,
            step(
                Some("city"),
                json!({"type": "resolve", "outcome": "split", "release": "1000.00"}),
            ),
        ),
        case(
            "control.top_up",
            ACCEPTED,
            StoredValue,
            step(Some("alice"), json!({"type": "top_up", "amount": "50.00"})),
        ),
        case(
            "control.funded",
            ACCEPTED,
            Unfunded,
            step(
                None,
                json!({"type": "funded", "reference": "RAIL-1", "amount": "1000.00", "payer": "alice"}),
            ),
        ),
        case(
            "control.withdraw",
            ACCEPTED,
            Sessions,
            step(Some("gym"), json!({"type": "withdraw", "request": "r1"})),
        ),
        case(
            "control.caps_reached_exactly",
            ACCEPTED,
            Fresh,
            open_with(
                json!({"kind": "sessions", "sessions": 5, "price": "600.00", "list_price": "120.00"}),
                capped(json!({"max_sessions": 5, "max_fee_multiple": 5})),
            ),
        ),
        case(
            "control.term_cap_reached_exactly",
            ACCEPTED,
            Fresh,
            open_with(membership(730), capped(json!({"max_term_days": 730}))),
        ),
        case(
            "control.named_card_of_5000",
            ACCEPTED,
            Fresh,
            open_with(stored_value("5000.00"), capped(json!({"card": "named"}))),
        ),
        case(
            "control.anonymous_card_of_1000_for_3_years",
            ACCEPTED,
            Fresh,
            open_with(
                stored_value("1000.00"),
                capped(json!({"card": "anonymous", "valid_days": 1096})),
            ),
        ),
        case(
            "control.listing_approved_until_the_second",
            ACCEPTED,
            Fresh,
            open_listed("dental-1", unix(LATER)),
        ),
        case(
            "control.closure_on_its_date",
            ACCEPTED,
            Sessions,
            closure("gym", unix(LATER)),
        ),
        case(
            "control.authorize_on_the_system_clock",
            ACCEPTED,
            Sessions,
            altered(|raw| raw.at = None),
        )
        .on_system_clock(),
        case(
            "control.open_awaiting_funding_on_the_rail",
            ACCEPTED,
            Fresh,
            Input::Altered(
                json!({"by": "alice", "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": sessions_terms(), "policy": policy(), "awaiting_funding": true}}),
                |raw| raw.at = None,
            ),
        )
        .on_the_rail(),
        case(
            "control.id_128_bytes",
            ACCEPTED,
            Sessions,
            altered(|raw| {
                raw.id = "i".repeat(128);
                sign(raw, "alice");
            }),
        ),
        case(
            "control.request_id_64_bytes",
            ACCEPTED,
            Sessions,
            step(
                Some("gym"),
                json!({"type": "request", "request": "r".repeat(64), "units": 1}),
            ),
        ),
        case(
            "control.request_id_every_symbol",
            ACCEPTED,
            Sessions,
            step(
                Some("gym"),
                json!({"type": "request", "request": "Az09-_.:/#", "units": 1}),
            ),
        ),
        case(
            "control.plan_64_stages_of_32_bytes",
            ACCEPTED,
            Fresh,
            open_plan((0..64).map(stage).collect()),
        ),
        case(
            "control.amount_the_maximum",
            ACCEPTED,
            Fresh,
            open_with(
                json!({"kind": "stored_value", "price": "10000000000.00", "face_value": "10000000000"}),
                policy(),
            ),
        ),
        case("control.amount_one_decimal", ACCEPTED, StoredValue, amount("0.5")),
        case("control.amount_no_decimals", ACCEPTED, StoredValue, amount("120")),
        case(
            "control.not_after_now",
            ACCEPTED,
            Sessions,
            step(Some("alice"), json!({"type": "refund", "not_after": unix(LATER)})),
        ),
        case(
            "control.same_second_as_the_last_event",
            ACCEPTED,
            Sessions,
            step_at(REQUESTED, Some("alice"), authorize_r1()["event"].clone()),
        ),
        case(
            "control.supervised_share_1",
            ACCEPTED,
            Fresh,
            open_with(
                sessions_terms(),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "supervised_share": 1}),
            ),
        ),
        case(
            "control.dispute_by_the_regulator",
            ACCEPTED,
            Sessions,
            step(Some("city"), dispute(&["r1"])),
        ),
    ]
}

/// Every wallet's head and the outbox: what no refused event may change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    heads: BTreeMap<String, WalletHead>,
    outbox: Vec<OutboxEffect>,
}

fn snapshot(ledger: &Ledger) -> Snapshot {
    let heads = ledger
        .wallets()
        .unwrap()
        .into_iter()
        .map(|wallet| {
            let head = ledger.head(&wallet).unwrap().expect("a listed wallet has a head");
            (wallet, head)
        })
        .collect();
    Snapshot {
        heads,
        outbox: ledger.pending_effects(100_000).unwrap(),
    }
}

/// `step` (a scenario step without its wallet) for `wallet` as a signed envelope: the
/// step's `index`-th of the wallet, `<wallet>-<index>` unless it names its id.
fn envelope(step: &Value, wallet: &str, index: usize) -> Envelope {
    let mut step = step.clone();
    step["wallet"] = wallet.into();
    if step.get("at").is_none() {
        step["at"] = LATER.into();
    }
    let step: Step = serde_json::from_value(step).expect("a valid step");
    step.raw_event(index).expect("a signable step")
}

/// What the case sends, or why the service would answer `bad_request`.
fn bad_input(input: &Input, wallet: &str) -> Result<Envelope, serde_json::Error> {
    let signed = |step: &Value| {
        let mut step = step.clone();
        step["id"] = format!("{wallet}-bad").into();
        envelope(&step, wallet, 0)
    };
    match input {
        Input::Step(step) => Ok(signed(step)),
        Input::Altered(step, change) => {
            let mut envelope = signed(step);
            change(&mut envelope);
            Ok(envelope)
        }
        Input::Json(step, change) => {
            let mut json = serde_json::to_value(signed(step)).unwrap();
            change(&mut json);
            serde_json::from_slice(json.to_string().as_bytes())
        }
        Input::Text(text) => serde_json::from_slice(text.as_bytes()),
    }
}

/// Submits `envelope` as the ledger's clock takes it: on the system clock without the
/// time a scenario step carries.
fn submit(ledger: &Ledger, envelope: &Envelope) -> prepaid_host::Result<Submitted> {
    match ledger.clock() {
        Clock::System => ledger.submit(&envelope.untimed()),
        Clock::Scripted => ledger.submit(envelope),
    }
}

/// Runs `case` on `ledger`: builds its wallet, sends the bad input, checks the answer and
/// that nothing changed.
fn run(case: &Case, ledger: &Ledger) -> Result<(), String> {
    let wallet = case.name;
    for (index, step) in fixture_steps(case.fixture).iter().enumerate() {
        let submitted = submit(ledger, &envelope(step, wallet, index))
            .map_err(|error| format!("fixture step {index} was refused: {error}"))?;
        if !submitted.verdict.ok {
            return Err(format!(
                "fixture step {index} was rejected: {:?}",
                submitted.verdict.error
            ));
        }
    }
    let before = snapshot(ledger);
    let view_before = ledger.view(wallet).unwrap();
    let entries_before = ledger.entries(wallet).unwrap().len();

    let (code, journaled) = match bad_input(&case.input, wallet) {
        Err(_) => ("bad_request".to_owned(), None),
        // Bad input built for the system clock carries what it sends, time or not.
        Ok(envelope) => match ledger.submit(&envelope) {
            Ok(submitted) => match &submitted.verdict.error {
                Some(error) => (error.code.clone(), Some(submitted)),
                None if case.code == ACCEPTED => return Ok(()),
                None => return Err(format!("accepted, with effects {:?}", submitted.verdict.effects)),
            },
            Err(Error::Refused(refusal)) => (refusal.code.as_str().to_owned(), None),
            Err(error) => return Err(format!("the host failed: {error:#}")),
        },
    };
    let disposition = |journaled: bool| if journaled { "journaled" } else { "refused" };
    let got = format!("{} {code}", disposition(journaled.is_some()));
    if case.code == ACCEPTED {
        return Err(format!("expected it accepted, got {got}"));
    }
    if (code.as_str(), journaled.is_some()) != (case.code, case.journaled()) {
        return Err(format!(
            "expected {} {}, got {got}",
            disposition(case.journaled()),
            case.code
        ));
    }

    let after = snapshot(ledger);
    if ledger.view(wallet).unwrap() != view_before {
        return Err("the wallet's view changed".into());
    }
    if after.outbox != before.outbox {
        return Err("the outbox changed".into());
    }
    let entries_after = ledger.entries(wallet).unwrap().len();
    match journaled {
        None => {
            if after.heads != before.heads {
                return Err("a wallet's head changed".into());
            }
            if entries_after != entries_before {
                return Err(format!(
                    "the journal went from {entries_before} to {entries_after} entries"
                ));
            }
        }
        Some(submitted) => {
            let mut heads = after.heads;
            let head = heads.remove(wallet).expect("the wallet has a head");
            let mut others = before.heads;
            let old = others.remove(wallet).expect("the wallet had a head");
            if heads != others {
                return Err("another wallet's head changed".into());
            }
            if !submitted.verdict.effects.is_empty() {
                return Err(format!("the rejection moved money: {:?}", submitted.verdict.effects));
            }
            let unchanged =
                (&head.state, &head.state_hash, head.next_due) == (&old.state, &old.state_hash, old.next_due);
            if !unchanged || submitted.entry.state_hash != old.state_hash {
                return Err("the wallet's state changed".into());
            }
            if (head.seq, entries_after) != (old.seq + 1, entries_before + 1) {
                return Err("the rejection was not journaled as one entry".into());
            }
        }
    }
    Ok(())
}

#[test]
fn every_kind_of_bad_input_gets_its_code_and_changes_nothing() {
    let cases = catalogue();
    let names: BTreeSet<&str> = cases.iter().map(|case| case.name).collect();
    assert_eq!(names.len(), cases.len(), "two cases share a name (and a wallet)");
    assert!(
        cases.iter().all(|case| case.code != ACCEPTED),
        "a case must be answered with an error"
    );

    let scripted_dir = tempfile::tempdir().unwrap();
    let system_dir = tempfile::tempdir().unwrap();
    let scripted = ledger_in(scripted_dir.path());
    let system = ledger_in(system_dir.path()).with_clock(Clock::System);
    let rail_dir = tempfile::tempdir().unwrap();
    let rail = ledger_in(rail_dir.path())
        .with_clock(Clock::System)
        .with_funding(Funding::Rail);
    let controls = controls();
    let mut failures = Vec::new();
    for case in cases.iter().chain(&controls) {
        let ledger = match (case.clock, case.funding) {
            (Clock::Scripted, _) => &scripted,
            (Clock::System, Funding::Declared) => &system,
            (Clock::System, Funding::Rail) => &rail,
        };
        if let Err(failure) = run(case, ledger) {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    for ledger in [&scripted, &system, &rail] {
        let report = ledger.verify().unwrap();
        assert!(
            report.is_clean(),
            "the journal does not verify: {:?}",
            report.divergences
        );
    }

    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &names {
        *families
            .entry(name.split_once('.').map_or(*name, |(family, _)| family))
            .or_default() += 1;
    }
    let codes: BTreeSet<&str> = cases.iter().map(|case| case.code).collect();
    println!(
        "the catalogue: {} kinds of bad input in {} families ({families:?}), {} distinct codes; {} controls",
        names.len(),
        families.len(),
        codes.len(),
        controls.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases and controls failed:\n{}",
        failures.len(),
        cases.len() + controls.len(),
        failures.join("\n")
    );
    assert!(names.len() >= 60, "the catalogue has only {} kinds", names.len());
}
