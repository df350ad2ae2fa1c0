//! A fuzzer for what a client can send: envelope JSON, built from every event kind with
//! random and boundary values then mutated (fields dropped, added or given the wrong type,
//! huge numbers, bytes flipped, inserted or cut), and arbitrary bytes. Each input goes
//! through the parsers a host runs on a request body (`serde_json` into an [`Envelope`], as
//! the service does, and [`Envelope::parse`], as the CLI and replay do), and, when it parses
//! and has a time, through the contract's native rules against realistic wallets.
//!
//! The contract and the host must never panic on anything a client sends: a panic in the
//! component is a recorded `contract_panic`, in the host a failed request. And whatever the
//! input, an accepted event moves only positive canonical amounts, keeps the books
//! balanced (`paid = frozen + released + refunded`, `pending <= frozen`, the figures moving
//! by exactly the effects), and a rejection changes nothing. An event a host would record
//! must parse back, the same, from the JSON the journal records of its envelope, since
//! replay reads it from there.
//!
//! cargo-fuzz needs a nightly toolchain; this runs on proptest in the ordinary test suite.
//! `PREPAID_FUZZ_CASES` sets the number of inputs (default 20,000); for a long run:
//! `PREPAID_FUZZ_CASES=10000000 cargo test --release -p prepaid-tests --test it fuzz:: -- --nocapture`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use prepaid_contract::money::Amount;
use prepaid_contract::Context;
use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::outcome::{Outcome, WalletView};
use prepaid_host::testkit::scenario::Step;
use prepaid_host::Envelope;
use prepaid_host::NativeRules;
use prepaid_host::Rules;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

/// The actors: the base wallets' consumer, merchant and regulator, the key a re-key
/// moves to, and a stranger.
const ACTORS: [&str; 5] = ["alice", "gym", "city", "carol", "eve"];
/// The wallet of every base state (a fuzzed envelope names it, or anything else).
const WALLET: &str = "w";
/// When every base wallet is opened (2026-01-05T09:00:00Z).
const OPENED: i64 = 1_767_603_600;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// Number literals no `serde_json::Value` holds, spliced into the JSON text where a
/// generated value says [`raw`].
const RAW_NUMBERS: [&str; 10] = [
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-123456789012345678901234567890",
    "18446744073709551616",
    "-9223372036854775809",
    "1E2",
    "-0",
    "0.0000000000000000000000000001",
    "1.5e-400",
];
/// The event kinds, in the order the counts are printed.
const KINDS: [&str; 14] = [
    "open",
    "request",
    "withdraw",
    "authorize",
    "refund",
    "merchant_closed",
    "dispute",
    "resolve",
    "transfer",
    "tick",
    "rekey",
    "cancel_rekey",
    "funded",
    "top_up",
];

/// The contract's rejections a host records nowhere (host/src/ledger/apply.rs).
const UNRECORDED: [&str; 5] = ["bad_event", "bad_amount", "bad_signature", "already_open", "not_open"];

static INPUTS: AtomicU64 = AtomicU64::new(0);
static PARSED: AtomicU64 = AtomicU64::new(0);
static APPLIED: AtomicU64 = AtomicU64::new(0);
static ACCEPTED: [AtomicU64; KINDS.len()] = [const { AtomicU64::new(0) }; KINDS.len()];

/// A value that stands for `RAW_NUMBERS[index]` in the JSON text.
fn raw(index: usize) -> Value {
    format!("\u{1}raw{index}\u{1}").into()
}

/// The public key of an actor, hex.
fn key_of(actor: &str) -> String {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        ACTORS
            .iter()
            .map(|name| public_key(&dev_key(name)).to_string())
            .collect()
    });
    let index = ACTORS.iter().position(|name| *name == actor).expect("an actor");
    keys[index].clone()
}

/// A wallet the fuzzed events are applied to, built once by the native rules.
struct Base {
    name: &'static str,
    state: Option<Vec<u8>>,
    view: Option<WalletView>,
}

/// The steps of a scenario for [`WALLET`]: `(seconds after OPENED, signer, event)`.
fn history(steps: &[(i64, &str, Value)]) -> Vec<Step> {
    steps
        .iter()
        .map(|(after, by, event)| Step {
            at: prepaid_host::envelope::rfc3339(OPENED + after).unwrap(),
            wallet: WALLET.into(),
            by: Some(Some((*by).into())),
            event: event.clone(),
            id: None,
            expect: None,
        })
        .collect()
}

fn open(product: Value, policy: Value) -> Value {
    json!({"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
           "product": product, "policy": policy})
}

fn request(id: &str, quantity: Value) -> Value {
    let mut event = json!({"type": "request", "request": id});
    event
        .as_object_mut()
        .unwrap()
        .extend(quantity.as_object().unwrap().clone());
    event
}

/// The base wallets: none, and wallets of every product with requests pending, in dispute,
/// re-keying, closed and full.
fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        let sessions = || {
            vec![
                (
                    0,
                    "alice",
                    open(
                        json!({"kind": "sessions", "sessions": 20, "price": "1000.00", "list_price": "60.00"}),
                        json!({"cooling_off_days": 7, "deemed_confirm_days": 3, "valid_days": 90, "rekey_wait_days": 5}),
                    ),
                ),
                (HOUR, "gym", request("r1", json!({"units": 2}))),
                (2 * HOUR, "gym", request("r2", json!({"units": 1}))),
            ]
        };
        let then = |mut steps: Vec<(i64, &'static str, Value)>, by: &'static str, event: Value| {
            steps.push((3 * HOUR, by, event));
            steps
        };
        let plan = json!({"kind": "plan", "stages": [
            {"name": "assessment", "amount": "300.00"},
            {"name": "appliance", "amount": "1200.50"},
            {"name": "review", "amount": "99.99"}]});
        let mut full = vec![(
            0,
            "alice",
            open(
                json!({"kind": "sessions", "sessions": 100, "price": "1000.00", "list_price": "12.00"}),
                json!({"cooling_off_days": 7, "deemed_confirm_days": 0}),
            ),
        )];
        full.extend((0..64).map(|index| (HOUR, "gym", request(&format!("p{index}"), json!({"units": 1})))));
        let histories = vec![
            ("none", Vec::new()),
            ("sessions", sessions()),
            ("sessions_disputed", then(sessions(), "alice", prepaid_tests::dispute(&["r1"]))),
            ("sessions_rekeying", then(sessions(), "city", json!({"type": "rekey", "to": "carol"}))),
            ("sessions_closed", then(sessions(), "alice", json!({"type": "refund"}))),
            (
                "stored_value",
                vec![
                    (
                        0,
                        "alice",
                        open(
                            json!({"kind": "stored_value", "price": "100.00", "face_value": "120.00"}),
                            json!({"cooling_off_days": 0, "deemed_confirm_days": 0, "supervised_share": 80}),
                        ),
                    ),
                    (HOUR, "gym", request("r1", json!({"amount": "10.00"}))),
                    (HOUR, "gym", request("r2", json!({"amount": "0.01"}))),
                ],
            ),
            (
                "plan",
                vec![
                    (
                        0,
                        "alice",
                        open(plan, json!({"cooling_off_days": 15, "deemed_confirm_days": 7, "max_price": "5000.00"})),
                    ),
                    (HOUR, "gym", request("r1", json!({"stage": 0}))),
                    (2 * HOUR, "alice", json!({"type": "authorize", "request": "r1", "stage": 0})),
                    (3 * HOUR, "gym", request("r2", json!({"stage": 1}))),
                ],
            ),
            (
                "membership",
                vec![
                    (
                        0,
                        "alice",
                        open(
                            json!({"kind": "membership", "price": "365.00", "term_days": 365}),
                            json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "valid_days": 400}),
                        ),
                    ),
                    (10 * DAY, "city", json!({"type": "tick"})),
                ],
            ),
            ("full", full),
        ];
        histories
            .into_iter()
            .map(|(name, steps)| {
                let mut state = None;
                for (index, step) in history(&steps).iter().enumerate() {
                    let raw = step.raw_event(index).unwrap();
                    let outcome = NativeRules
                        .apply(state.as_deref(), &raw.context().unwrap(), &raw.body())
                        .unwrap();
                    assert!(outcome.verdict.ok, "{name}, step {index}: {:?}", outcome.verdict.error);
                    state = outcome.state;
                }
                let view = state.as_deref().map(|state| NativeRules.view(state).unwrap());
                Base { name, state, view }
            })
            .collect()
    })
}

/// Any JSON value, small: for fields of the wrong type and fields no one asked for.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        (0..RAW_NUMBERS.len()).prop_map(raw),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Amount text: canonical in every form, at the bounds, and anything near it.
fn amount() -> impl Strategy<Value = Value> {
    let canonical = (0..2_000_000u64, 0..3usize).prop_map(|(fen, form)| {
        let (whole, part) = (fen / 100, fen % 100);
        match form {
            0 => format!("{whole}.{part:02}"),
            1 if part == 0 => format!("{whole}"),
            _ if part % 10 == 0 => format!("{whole}.{}", part / 10),
            _ => format!("{whole}.{part:02}"),
        }
    });
    let bounds = prop::sample::select(vec![
        "0",
        "0.00",
        "0.01",
        "9999999999.99",
        "10000000000",
        "10000000000.00",
        "10000000000.01",
        "99999999999.99",
        "100000000000",
    ])
    .prop_map(String::from);
    // The amounts the base wallets' requests ask for, and their products' prices.
    let familiar = prop::sample::select(vec!["0.01", "1.00", "10.00", "100.00", "120.00", "1000.00"]);
    prop_oneof![
        16 => canonical.prop_map(Value::from),
        8 => familiar.prop_map(Value::from),
        2 => bounds.prop_map(Value::from),
        2 => "[-+ 0-9.,eE]{0,16}".prop_map(Value::from),
        1 => "[0-9]{0,13}(\\.[0-9]{0,3})?".prop_map(Value::from),
        1 => any_json(),
    ]
}

/// A whole number for a count of sessions, days, units or a stage: small, at the bounds,
/// or not one.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        10 => (0..5u64).prop_map(Value::from),
        3 => prop::sample::select(vec![20u64, 63, 64, 65, 100, 365, u64::from(u32::MAX), u64::MAX]).prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any_json(),
    ]
}

/// A key: mostly the `usual` actor's, else any actor's, someone's unknown, or not a key.
fn key(usual: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => Just(Value::from(key_of(usual))),
        4 => prop::sample::select(ACTORS.to_vec()).prop_map(|actor| Value::from(key_of(actor))),
        1 => prop::sample::select(ACTORS.to_vec()).prop_map(|actor| Value::from(key_of(actor).to_uppercase())),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| Value::from(hex_of(&bytes))),
        1 => any_json(),
    ]
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A request id: one the base wallets have pending, settled or not, or any other.
fn request_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::sample::select(vec!["r1", "r2", "r3", "p0", "p63"]).prop_map(Value::from),
        1 => prop::sample::select(vec![
            String::new(),
            "x".repeat(64),
            "x".repeat(65),
            "a\nb".into(),
            "a b".into(),
            "a\"b".into(),
            "r\u{0455}".into(),
            "Az09-_.:/#".into(),
        ]).prop_map(Value::from),
        1 => ".{0,70}".prop_map(Value::from),
        1 => any_json(),
    ]
}

/// A platform time near the base wallets' events and the rules' periods, or any.
fn time() -> impl Strategy<Value = i64> {
    let anchors = vec![
        -HOUR,
        0,
        3 * HOUR,
        DAY,
        3 * DAY + 3 * HOUR,
        7 * DAY,
        8 * DAY,
        10 * DAY,
        20 * DAY,
        91 * DAY,
        401 * DAY,
    ];
    prop_oneof![
        8 => (prop::sample::select(anchors), -120..120i64).prop_map(|(anchor, offset)| OPENED + anchor + offset),
        1 => -62_135_596_800..=253_402_300_799i64,
    ]
}

/// A `not_after`: mostly absent, else a time or anything.
fn not_after() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => Just(None),
        3 => time().prop_map(|time| Some(time.into())),
        1 => prop::sample::select(vec![i64::MIN, -1, 0, i64::MAX]).prop_map(|time| Some(time.into())),
        1 => any_json().prop_map(Some),
    ]
}

/// An object of the fields that are `Some`.
fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect();
    Value::Object(map)
}

/// Product terms of every kind, valid or not.
fn product() -> impl Strategy<Value = Value> {
    let stage = || {
        (
            prop_oneof![
                4 => "[a-z ]{1,12}",
                1 => Just(String::new()),
                1 => Just("n".repeat(32)),
                1 => Just("n".repeat(33)),
                1 => prop::sample::select(vec!["a\"b", "a\\b", "a\tb", "\u{7f}"]).prop_map(String::from),
            ],
            amount(),
        )
            .prop_map(|(name, amount)| json!({"name": name, "amount": amount}))
    };
    let stages = prop_oneof![
        6 => prop::collection::vec(stage(), 0..4),
        1 => (prop::sample::select(vec![64usize, 65]), stage()).prop_map(|(count, stage)| vec![stage; count]),
    ];
    prop_oneof![
        3 => (count(), amount(), amount())
            .prop_map(|(sessions, price, list)| json!({"kind": "sessions", "sessions": sessions, "price": price, "list_price": list})),
        3 => (amount(), amount()).prop_map(|(price, face)| json!({"kind": "stored_value", "price": price, "face_value": face})),
        3 => stages.prop_map(|stages| json!({"kind": "plan", "stages": stages})),
        3 => (amount(), count()).prop_map(|(price, term)| json!({"kind": "membership", "price": price, "term_days": term})),
        1 => ("[a-z_]{0,12}", amount()).prop_map(|(kind, price)| json!({"kind": kind, "price": price})),
    ]
}

/// A policy, valid or not.
fn policy() -> impl Strategy<Value = Value> {
    let days = || {
        prop_oneof![
            10 => prop::sample::select(vec![0u64, 1, 7, 15, 90]).prop_map(Value::from),
            1 => prop::sample::select(vec![u64::from(u32::MAX), u64::from(u32::MAX) + 1]).prop_map(Value::from),
            1 => any_json(),
        ]
    };
    let share = prop_oneof![
        4 => prop::sample::select(vec![0u64, 1, 20, 80, 100, 101, 255, 256]).prop_map(Value::from),
        1 => any_json(),
    ];
    (
        days(),
        days(),
        prop::option::weighted(0.3, amount()),
        prop::option::weighted(0.3, days()),
        prop::option::weighted(0.2, share),
        prop::option::weighted(0.2, days()),
    )
        .prop_map(|(cooling, deemed, cap, valid, share, rekey)| {
            object(vec![
                ("cooling_off_days", Some(cooling)),
                ("deemed_confirm_days", Some(deemed)),
                ("max_price", cap),
                ("valid_days", valid),
                ("supervised_share", share),
                ("rekey_wait_days", rekey),
            ])
        })
}

/// Who approves an `open`'s terms.
#[derive(Clone, Debug)]
enum Approval {
    /// The actor named as the regulator, when there is one.
    Named,
    /// Another actor.
    By(&'static str),
    /// No approval field.
    Absent,
    /// Anything in its place.
    Value(Value),
}

/// Requests a dispute or a ruling names: mostly one or two, sometimes none, twice or junk.
fn request_ids() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::collection::vec(request_id(), 0..3).prop_map(Value::from),
        1 => any_json(),
    ]
}

/// A dispute's or a ruling's reason: mostly a code the contract knows, sometimes not.
fn reason() -> impl Strategy<Value = Option<Value>> {
    let known = prop::sample::select(vec![
        "not_delivered",
        "not_as_agreed",
        "wrong_amount",
        "merchant_gone",
        "other",
        "unanswered",
        "refunded",
        "unrecorded",
    ]);
    prop::option::of(prop_oneof![8 => known.prop_map(Value::from), 1 => any_json()])
}

/// A dispute's evidence: mostly a SHA-256 in hex, sometimes not.
fn evidence() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        8 => Just(Value::from(prepaid_tests::EVIDENCE)),
        1 => any_json(),
    ])
}

/// A quantity: mostly one of `units`, `amount` and `stage`, sometimes none or several.
fn quantity() -> impl Strategy<Value = Vec<(&'static str, Option<Value>)>> {
    let fields = prop_oneof![9 => (0..3u8).prop_map(|one| 1 << one), 1 => 0..8u8];
    (fields, count(), amount(), count()).prop_map(|(fields, units, amount, stage)| {
        let pick = |bit: u8, value: Value| (fields & (1 << bit) != 0).then_some(value);
        vec![
            ("units", pick(0, units)),
            ("amount", pick(1, amount)),
            ("stage", pick(2, stage)),
        ]
    })
}

/// An event of every kind, with random and boundary values; for `open`, who approves it.
fn event() -> impl Strategy<Value = (Value, Approval)> {
    let kind = |kind: &str, mut fields: Vec<(&str, Option<Value>)>| {
        fields.insert(0, ("type", Some(kind.into())));
        (object(fields), Approval::Absent)
    };
    let approval = prop_oneof![
        10 => Just(Approval::Named),
        1 => prop::sample::select(ACTORS.to_vec()).prop_map(Approval::By),
        1 => Just(Approval::Absent),
        1 => any_json().prop_map(Approval::Value),
    ];
    prop_oneof![
        3 => (key("alice"), key("gym"), key("city"), product(), policy(), approval, not_after()).prop_map(
            |(consumer, merchant, regulator, product, policy, approval, not_after)| {
                let open = object(vec![
                    ("type", Some("open".into())),
                    ("consumer", Some(consumer)),
                    ("merchant", Some(merchant)),
                    ("regulator", Some(regulator)),
                    ("product", Some(product)),
                    ("policy", Some(policy)),
                    ("not_after", not_after),
                ]);
                (open, approval)
            }
        ),
        3 => (request_id(), quantity()).prop_map(move |(id, mut quantity)| {
            quantity.insert(0, ("request", Some(id)));
            kind("request", quantity)
        }),
        3 => (request_id(), quantity(), not_after()).prop_map(move |(id, mut quantity, not_after)| {
            quantity.insert(0, ("request", Some(id)));
            quantity.push(("not_after", not_after));
            kind("authorize", quantity)
        }),
        2 => not_after().prop_map(move |not_after| kind("refund", vec![("not_after", not_after)])),
        1 => Just(kind("merchant_closed", Vec::new())),
        2 => (prop::option::of(request_ids()), reason(), evidence(), not_after()).prop_map(
            move |(requests, reason, evidence, not_after)| kind(
                "dispute",
                vec![("requests", requests), ("reason", reason), ("evidence", evidence), ("not_after", not_after)]
            )
        ),
        1 => (
            prop_oneof![
                Just(Value::from("continue")),
                Just(Value::from("release")),
                Just(Value::from("refund")),
                Just(Value::from("split")),
                any_json()
            ],
            prop::option::of(amount()),
            prop::option::of(request_ids()),
            reason(),
        )
            .prop_map(move |(outcome, release, requests, reason)| kind(
                "resolve",
                vec![("outcome", Some(outcome)), ("release", release), ("requests", requests), ("reason", reason)]
            )),
        2 => (key("carol"), not_after()).prop_map(move |(to, not_after)| kind("transfer", vec![("to", Some(to)), ("not_after", not_after)])),
        2 => Just(kind("tick", Vec::new())),
        1 => request_id().prop_map(move |id| kind("withdraw", vec![("request", Some(id))])),
        1 => (amount(), not_after()).prop_map(move |(amount, not_after)| kind("top_up", vec![("amount", Some(amount)), ("not_after", not_after)])),
        1 => (prop_oneof![Just(Value::from("RAIL-1")), any_json()], amount())
            .prop_map(move |(reference, amount)| kind("funded", vec![("reference", Some(reference)), ("amount", Some(amount))])),
        1 => key("carol").prop_map(move |to| kind("rekey", vec![("to", Some(to))])),
        1 => not_after().prop_map(move |not_after| kind("cancel_rekey", vec![("not_after", not_after)])),
    ]
}

/// Who signs an envelope.
#[derive(Clone, Debug)]
enum Signature {
    /// The actor whose signature the event needs on the base wallets (none for `tick`).
    Expected,
    /// An actor.
    By(&'static str),
    /// No signature.
    Absent,
    /// Any text in its place.
    Text(String),
}

/// A change to the envelope's JSON, at the `index`-th place it can be made (modulo their
/// number).
#[derive(Clone, Debug)]
enum Mutation {
    /// Removes a field of some object.
    Drop(usize),
    /// Adds a field to some object.
    Add(usize, String, Value),
    /// Replaces a field's value.
    Replace(usize, Value),
}

/// A change to the envelope's bytes, at `index` modulo their length.
#[derive(Clone, Debug)]
enum Edit {
    /// XORs a byte with another.
    Flip(usize, u8),
    /// Inserts a byte.
    Insert(usize, u8),
    /// Removes a byte.
    Delete(usize),
    /// Cuts the bytes short.
    Truncate(usize),
}

/// What the fuzzer sends, and the base wallet it goes to.
#[derive(Clone, Debug)]
struct Input {
    base: &'static str,
    source: Source,
}

/// How the bytes sent are made.
#[derive(Clone, Debug)]
enum Source {
    /// An envelope made of parts, signed, then mutated.
    Built {
        wallet: String,
        id: String,
        at: Option<String>,
        event: Value,
        approval: Approval,
        signature: Signature,
        mutations: Vec<Mutation>,
        edits: Vec<Edit>,
    },
    /// Any bytes.
    Bytes(Vec<u8>),
}

fn input() -> impl Strategy<Value = Input> {
    let wallet = prop_oneof![
        8 => Just(WALLET.to_owned()),
        1 => prop::sample::select(vec![String::new(), "w".repeat(128), "w".repeat(129), "w\n".into()]),
        1 => ".{0,20}",
    ];
    let id = prop_oneof![
        8 => "e[0-9]{1,3}",
        1 => prop::sample::select(vec![String::new(), "i".repeat(128), "i".repeat(129), "i\u{7}".into()]),
        1 => ".{0,20}",
    ];
    let at = prop_oneof![
        10 => time().prop_map(|time| prepaid_host::envelope::rfc3339(time).ok()),
        1 => Just(None),
        1 => prop::sample::select(vec![
            "2026-01-10T17:00:00+08:00",
            "2026-01-10 09:00:00Z",
            "2026-02-30T09:00:00Z",
            "2026-01-10T09:00:60Z",
            "2026-01-10T09:00:00.999999999Z",
            "+10000-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
        ])
        .prop_map(|at| Some(at.to_owned())),
        1 => ".{0,30}".prop_map(Some),
    ];
    let signature = prop_oneof![
        12 => Just(Signature::Expected),
        4 => prop::sample::select(ACTORS.to_vec()).prop_map(Signature::By),
        2 => Just(Signature::Absent),
        1 => prop::collection::vec(any::<u8>(), 60..68).prop_map(|bytes| Signature::Text(hex_of(&bytes))),
        1 => ".{0,20}".prop_map(Signature::Text),
    ];
    let mutation = prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), "[a-z_]{1,10}", any_json()).prop_map(|(at, name, value)| Mutation::Add(at, name, value)),
        (any::<usize>(), any_json()).prop_map(|(at, value)| Mutation::Replace(at, value)),
    ];
    let mutations = prop_oneof![
        7 => Just(Vec::new()),
        2 => prop::collection::vec(mutation, 1..4),
    ];
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip(at, byte)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    let edits = prop_oneof![
        8 => Just(Vec::new()),
        1 => prop::collection::vec(edit, 1..4),
    ];
    let built = (wallet, id, at, event(), signature, mutations, edits).prop_map(
        |(wallet, id, at, (event, approval), signature, mutations, edits)| Source::Built {
            wallet,
            id,
            at,
            event,
            approval,
            signature,
            mutations,
            edits,
        },
    );
    let source = prop_oneof![
        20 => built,
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Source::Bytes),
        1 => "[{}\\[\\]\":, 0-9a-z_.-]{0,120}".prop_map(|text| Source::Bytes(text.into_bytes())),
    ];
    // No wallet yet is where `open` can be accepted: it gets more inputs.
    let others = bases().iter().map(|base| base.name).filter(|name| *name != "none");
    let base = prop_oneof![1 => Just("none"), 3 => prop::sample::select(others.collect::<Vec<_>>())];
    (base, source).prop_map(|(base, source)| Input { base, source })
}

/// The actor who must sign `kind` on the base wallets.
fn expected_signer(kind: &str) -> Option<&'static str> {
    match kind {
        "request" | "withdraw" => Some("gym"),
        "merchant_closed" | "resolve" | "rekey" => Some("city"),
        "tick" | "funded" => None,
        _ => Some("alice"),
    }
}

/// The places in an envelope's JSON where a mutation can be made, as JSON pointers.
#[derive(Default)]
struct Places {
    /// Every object.
    objects: Vec<String>,
    /// Every field: its object and its name.
    fields: Vec<(String, String)>,
}

impl Places {
    fn of(value: &Value) -> Places {
        let mut places = Places::default();
        places.walk(value, String::new());
        places
    }

    fn walk(&mut self, value: &Value, pointer: String) {
        match value {
            Value::Object(map) => {
                for (name, field) in map {
                    self.fields.push((pointer.clone(), name.clone()));
                    self.walk(
                        field,
                        format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1")),
                    );
                }
                self.objects.push(pointer);
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.walk(item, format!("{pointer}/{index}"));
                }
            }
            _ => {}
        }
    }
}

/// Applies `mutation` to `json`.
fn mutate(json: &mut Value, mutation: &Mutation) {
    let places = Places::of(json);
    match mutation {
        Mutation::Add(at, name, value) => {
            let pointer = &places.objects[at % places.objects.len()];
            if let Some(map) = json.pointer_mut(pointer).and_then(Value::as_object_mut) {
                map.insert(name.clone(), value.clone());
            }
        }
        Mutation::Drop(at) | Mutation::Replace(at, _) if !places.fields.is_empty() => {
            let (pointer, name) = &places.fields[at % places.fields.len()];
            if let Some(map) = json.pointer_mut(pointer).and_then(Value::as_object_mut) {
                match mutation {
                    Mutation::Replace(_, value) => map.insert(name.clone(), value.clone()),
                    _ => map.remove(name),
                };
            }
        }
        _ => {}
    }
}

/// Applies `edit` to `bytes`.
fn edit(bytes: &mut Vec<u8>, edit: &Edit) {
    let len = bytes.len();
    match *edit {
        Edit::Flip(at, byte) if len > 0 => bytes[at % len] ^= byte,
        Edit::Insert(at, byte) => bytes.insert(at % (len + 1), byte),
        Edit::Delete(at) if len > 0 => {
            bytes.remove(at % len);
        }
        Edit::Truncate(at) => bytes.truncate(at % (len + 1)),
        _ => {}
    }
}

/// The bytes `source` stands for.
fn bytes_of(source: &Source) -> Vec<u8> {
    let (wallet, id, at, event, approval, signature, mutations, edits) = match source {
        Source::Bytes(bytes) => return bytes.clone(),
        Source::Built {
            wallet,
            id,
            at,
            event,
            approval,
            signature,
            mutations,
            edits,
        } => (wallet, id, at, event, approval, signature, mutations, edits),
    };
    let mut envelope = Envelope {
        wallet: wallet.clone(),
        id: id.clone(),
        at: at.clone(),
        event: event.clone(),
        signature: None,
    };
    // `approve` and `sign` leave an envelope whose event does not parse as it is: the
    // contract rejects it, and that is part of what is fuzzed.
    let kind = event["type"].as_str().unwrap_or_default();
    match approval {
        Approval::Named => {
            let regulator = ACTORS.iter().find(|actor| event["regulator"] == key_of(actor));
            if let Some(regulator) = regulator {
                let _ = envelope.approve(&dev_key(regulator));
            }
        }
        Approval::By(actor) => {
            let _ = envelope.approve(&dev_key(actor));
        }
        Approval::Absent => {}
        Approval::Value(value) => envelope.event["approval"] = value.clone(),
    }
    match signature {
        Signature::Expected => {
            if let Some(signer) = expected_signer(kind) {
                let _ = envelope.sign(&dev_key(signer));
            }
        }
        Signature::By(actor) => {
            let _ = envelope.sign(&dev_key(actor));
        }
        Signature::Absent => {}
        Signature::Text(text) => envelope.signature = Some(text.clone()),
    }
    let mut json = serde_json::to_value(&envelope).expect("envelopes serialize");
    for mutation in mutations {
        mutate(&mut json, mutation);
    }
    let mut text = json.to_string();
    for (index, number) in RAW_NUMBERS.iter().enumerate() {
        text = text.replace(&format!("\"\\u0001raw{index}\\u0001\""), number);
    }
    let mut bytes = text.into_bytes();
    for change in edits {
        edit(&mut bytes, change);
    }
    bytes
}

fn figures(view: &WalletView) -> Result<[Amount; 6], TestCaseError> {
    let mut figures = [Amount::ZERO; 6];
    for (figure, text) in figures.iter_mut().zip([
        &view.paid,
        &view.frozen,
        &view.released,
        &view.refunded,
        &view.pending,
        &view.owed,
    ]) {
        *figure =
            Amount::parse(text).map_err(|error| TestCaseError::fail(format!("the view shows {text:?}: {error}")))?;
    }
    Ok(figures)
}

/// Checks the outcome of an event applied to `base`.
fn check_outcome(base: &Base, outcome: &Outcome, kind: &str) -> Result<(), TestCaseError> {
    let Some(state) = &outcome.state else {
        prop_assert!(!outcome.verdict.ok, "accepted without a state");
        prop_assert!(outcome.verdict.error.is_some(), "rejected without an error");
        prop_assert!(outcome.verdict.effects.is_empty(), "a rejection moved money");
        return Ok(());
    };
    prop_assert!(
        outcome.verdict.ok && outcome.verdict.error.is_none(),
        "a state with a rejection"
    );
    if let Some(index) = KINDS.iter().position(|known| *known == kind) {
        ACCEPTED[index].fetch_add(1, Ordering::Relaxed);
    }
    let (mut released, mut refunded, mut owed) = (Amount::ZERO, Amount::ZERO, Amount::ZERO);
    for effect in &outcome.verdict.effects {
        let amount = Amount::parse(&effect.amount);
        prop_assert!(amount.is_ok(), "effect amount {:?} does not parse", effect.amount);
        let amount = amount.unwrap();
        prop_assert_eq!(&amount.to_string(), &effect.amount, "a non-canonical effect amount");
        prop_assert!(!amount.is_zero(), "an effect of nothing");
        let total = match effect.kind.as_str() {
            "release" => &mut released,
            "refund" => &mut refunded,
            "claim" => &mut owed,
            other => return Err(TestCaseError::fail(format!("an effect of kind {other:?}"))),
        };
        *total = total.checked_add(amount).expect("effects within range");
    }
    let view = NativeRules.view(state);
    prop_assert!(view.is_ok(), "the new state has no view: {:?}", view.err());
    let [paid, frozen, released_now, refunded_now, pending, owed_now] = figures(&view.unwrap())?;
    let total = frozen
        .checked_add(released_now)
        .and_then(|sum| sum.checked_add(refunded_now));
    prop_assert_eq!(total, Some(paid), "paid != frozen + released + refunded");
    prop_assert!(pending <= frozen, "pending {} > frozen {}", pending, frozen);
    let (released_before, refunded_before, owed_before) = match &base.view {
        Some(view) => {
            let [_, _, released, refunded, _, owed] = figures(view)?;
            (released, refunded, owed)
        }
        None => (Amount::ZERO, Amount::ZERO, Amount::ZERO),
    };
    prop_assert_eq!(
        released_before.checked_add(released),
        Some(released_now),
        "releases differ from the effects"
    );
    prop_assert_eq!(
        refunded_before.checked_add(refunded),
        Some(refunded_now),
        "refunds differ from the effects"
    );
    prop_assert_eq!(
        owed_before.checked_add(owed),
        Some(owed_now),
        "what is owed differs from the claims"
    );
    Ok(())
}

/// Runs one input through the parsers and, when it parses and has a time, the rules.
fn check(input: &Input) -> Result<(), TestCaseError> {
    INPUTS.fetch_add(1, Ordering::Relaxed);
    let bytes = bytes_of(&input.source);
    // The service's parse of a body, and the host's own.
    let served = serde_json::from_slice::<Envelope>(&bytes);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(());
    };
    let parsed = Envelope::parse(text);
    let (ctx, body) = match &parsed {
        Ok(envelope) => {
            PARSED.fetch_add(1, Ordering::Relaxed);
            prop_assert!(served.is_ok(), "the host parses what the service refuses: {}", text);
            if envelope.at.is_none() {
                return Ok(());
            }
            let ctx = envelope.context();
            prop_assert!(ctx.is_ok(), "parsed, but no context: {:?}: {}", ctx.err(), text);
            (ctx.unwrap(), envelope.body())
        }
        // Bytes that are no envelope go to the contract as an event body, as a host that
        // did not parse bodies would send them.
        Err(_) if matches!(input.source, Source::Bytes(_)) => {
            let ctx = Context {
                wallet: WALLET.into(),
                event_id: "e1".into(),
                timestamp: OPENED + 30 * DAY,
                signature: None,
            };
            (ctx, text.to_owned())
        }
        Err(_) => return Ok(()),
    };
    let kind = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|event| event["type"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let base = bases()
        .iter()
        .find(|base| base.name == input.base)
        .expect("a base wallet");
    APPLIED.fetch_add(1, Ordering::Relaxed);
    let outcome = NativeRules.apply(base.state.as_deref(), &ctx, &body);
    prop_assert!(
        outcome.is_ok(),
        "the native rules failed on {}: {:?}",
        base.name,
        outcome.err()
    );
    let outcome = outcome.unwrap();
    check_outcome(base, &outcome, &kind)
        .map_err(|error| TestCaseError::fail(format!("{error} (on the {} wallet, for {text})", base.name)))?;
    // The journal records the envelope's JSON and replays the event from it: a recorded
    // event must parse back as the same event.
    let journaled = outcome.verdict.ok
        || base.state.is_some()
            && outcome
                .verdict
                .error
                .as_ref()
                .is_some_and(|error| !UNRECORDED.contains(&error.code.as_str()));
    if let (Ok(envelope), true) = (&parsed, journaled) {
        let recorded = Envelope::parse(&envelope.to_json()).ok();
        prop_assert_eq!(
            recorded.as_ref(),
            Some(envelope),
            "the journal's JSON of a recorded event does not parse back as it: {}",
            text
        );
    }
    Ok(())
}

#[test]
fn no_input_panics_and_every_accepted_event_keeps_the_books() {
    let cases = std::env::var("PREPAID_FUZZ_CASES")
        .ok()
        .map(|cases| cases.parse().expect("PREPAID_FUZZ_CASES is a number of cases"))
        .unwrap_or(20_000);
    bases();
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&input(), |input| check(&input));
    let accepted: Vec<String> = KINDS
        .iter()
        .zip(&ACCEPTED)
        .map(|(kind, count)| format!("{kind} {}", count.load(Ordering::Relaxed)))
        .collect();
    println!(
        "fuzzed {} inputs in {:.1?}: {} parsed as envelopes, {} applied, accepted: {}",
        INPUTS.load(Ordering::Relaxed),
        started.elapsed(),
        PARSED.load(Ordering::Relaxed),
        APPLIED.load(Ordering::Relaxed),
        accepted.join(", ")
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}
