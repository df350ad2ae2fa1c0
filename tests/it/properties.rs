//! Properties over thousands of random event sequences, across every product, event,
//! signer and time step, with and without a supervised share: the money always balances,
//! nothing moves without the consumer's signature or a policy rule, every wallet that
//! closes has made its consumer whole (refunded plus owed is the unconsumed value the terms
//! define, to the fen), and the component agrees with the native rules on every output.

use std::collections::HashMap;

use prepaid_contract::money::Amount;
use prepaid_host::engine::WasmContract;
use prepaid_host::outcome::WalletView;
use prepaid_host::testkit::scenario::Step;
use prepaid_host::NativeRules;
use prepaid_host::Rules;
use prepaid_tests::component_bytes;
use proptest::prelude::*;
use serde_json::{json, Value};

const CONSUMER: &str = "alice";
const MERCHANT: &str = "shop";
const REGULATOR: &str = "city";
const ACTORS: [&str; 5] = [CONSUMER, MERCHANT, REGULATOR, "eve", "lee"];
/// Stands for the id of the latest request the merchant made.
const LATEST: &str = "<latest>";
/// Stands for the request a dispute named last, in a generated ruling.
const DISPUTED: &str = "<disputed>";

fn amount(fen: u64) -> String {
    Amount::from_fen(fen).unwrap().to_string()
}

fn product() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1..500_000u64, 0..100_000u64).prop_map(|(price, bonus)| json!({
            "kind": "stored_value", "price": amount(price), "face_value": amount(price + bonus)})),
        (1..30u64, 1..500_000u64, 0..5_000u64).prop_map(|(sessions, price, markup)| json!({
            "kind": "sessions", "sessions": sessions, "price": amount(price),
            "list_price": amount(price.div_ceil(sessions) + markup)})),
        prop::collection::vec(1..300_000u64, 1..5).prop_map(|stages| json!({
            "kind": "plan",
            "stages": stages.iter().enumerate().map(|(i, fen)| json!({"name": format!("stage {i}"), "amount": amount(*fen)})).collect::<Vec<_>>()})),
        (1..500_000u64, 1..60u32).prop_map(|(price, term)| json!({
            "kind": "membership", "price": amount(price), "term_days": term})),
    ]
}

fn policy() -> impl Strategy<Value = Value> {
    let share = prop::option::weighted(0.2, 1..=100u8);
    // Answer and ruling days short enough that merchants' disputes and default rulings
    // happen within a history.
    let days = (
        prop::option::weighted(0.5, 1..5u32),
        prop::option::weighted(0.5, 1..10u32),
    );
    (0..16u32, 0..6u32, prop::option::of(Just("5000.00")), prop::option::weighted(0.3, 1..90u32), share, days).prop_map(
        |(cooling, deemed, cap, valid, share, (answer, ruling))| {
            let mut policy =
                json!({"cooling_off_days": cooling, "deemed_confirm_days": deemed, "max_price": cap, "valid_days": valid});
            if let Some(share) = share {
                policy["supervised_share"] = share.into();
            }
            if let Some(answer) = answer {
                policy["answer_days"] = answer.into();
            }
            if let Some(ruling) = ruling {
                policy["ruling_days"] = ruling.into();
            }
            policy
        },
    )
}

/// Who signs a generated event.
#[derive(Clone, Debug)]
enum Signer {
    /// The actor the rules expect (so most events can be accepted).
    Expected,
    /// Any actor, usually the wrong one.
    Actor(&'static str),
    /// Nobody.
    Unsigned,
}

/// How a generated request names its quantity.
#[derive(Clone, Debug)]
enum Quantity {
    /// The kind the product takes: units, a face amount or a stage.
    Fitting { units: u64, fen: u64, stage: u32 },
    /// A field of the generator's choosing, fitting or not.
    Any(Value),
}

/// A random event (actors by name; a request's quantity still to fit to the product).
#[derive(Clone, Debug)]
struct Action {
    event: Value,
    quantity: Option<Quantity>,
    signer: Signer,
    /// Seconds since the previous event (sometimes negative).
    delay: i64,
}

fn action() -> impl Strategy<Value = Action> {
    let signer = prop_oneof![
        8 => Just(Signer::Expected),
        2 => prop::sample::select(ACTORS.to_vec()).prop_map(Signer::Actor),
        1 => Just(Signer::Unsigned),
    ];
    let request_id = prop::sample::select(vec!["r0", "r1", "r2", "r3", "r4", "r5"]);
    // Mostly the latest request the merchant made, so authorizations and disputes land.
    let target = prop_oneof![3 => Just(LATEST), 1 => request_id.clone()];
    // Mostly the request a dispute named last, so rulings land.
    let ruled = prop_oneof![3 => Just(DISPUTED), 1 => target.clone()];
    let any_quantity = prop_oneof![
        (0..6u64).prop_map(|units| json!({"units": units})),
        (0..40_000u64).prop_map(|fen| json!({"amount": amount(fen)})),
        (0..6u32).prop_map(|stage| json!({"stage": stage})),
    ]
    .prop_map(Quantity::Any);
    let quantity = prop_oneof![
        4 => (1..4u64, 1..20_000u64, 0..5u32).prop_map(|(units, fen, stage)| Quantity::Fitting { units, fen, stage }),
        1 => any_quantity.clone(),
    ];
    // An authorization mostly names its request's own quantity (none here: filled in from
    // the request when the step is made), sometimes another.
    let authorized = prop::option::weighted(0.2, any_quantity);
    let event = prop_oneof![
        8 => (request_id, quantity).prop_map(|(id, quantity)| (json!({"type": "request", "request": id}), Some(quantity))),
        8 => (target.clone(), authorized).prop_map(|(id, quantity)| (json!({"type": "authorize", "request": id}), quantity)),
        1 => Just((json!({"type": "refund"}), None)),
        1 => Just((json!({"type": "merchant_closed"}), None)),
        3 => prop::option::weighted(0.8, target.clone()).prop_map(|id| match id {
            Some(id) => (prepaid_tests::dispute(&[id]), None),
            None => (prepaid_tests::dispute(&[]), None),
        }),
        2 => Just((json!({"type": "dispute", "requests": [LATEST], "reason": "unanswered", "evidence": prepaid_tests::EVIDENCE}), None)),
        1 => prop::sample::select(vec!["continue", "refund"]).prop_map(|outcome| (json!({"type": "resolve", "outcome": outcome}), None)),
        4 => (ruled.clone(), prop::sample::select(vec!["continue", "release", "refund"])).prop_map(|(id, outcome)| {
            (json!({"type": "resolve", "requests": [id], "outcome": outcome, "reason": "ruled"}), None)
        }),
        2 => (ruled, prop_oneof![0..500u64, 0..40_000u64]).prop_map(|(id, fen)| {
            (json!({"type": "resolve", "requests": [id], "outcome": "split", "release": amount(fen), "reason": "ruled"}), None)
        }),
        1 => (0..40_000u64).prop_map(|fen| (json!({"type": "resolve", "outcome": "split", "release": amount(fen)}), None)),
        2 => target.clone().prop_map(|id| (json!({"type": "withdraw", "request": id}), None)),
        1 => prop::sample::select(ACTORS.to_vec()).prop_map(|to| (json!({"type": "transfer", "to": to}), None)),
        4 => Just((json!({"type": "tick"}), None)),
        2 => Just((json!({"type": "funded", "reference": "RAIL-1"}), None)),
        2 => (1..50_000u64).prop_map(|fen| (json!({"type": "top_up", "amount": amount(fen)}), None)),
    ];
    let delay = prop_oneof![
        12 => 0..(3 * 86_400i64),
        3 => 0..(40 * 86_400i64),
        1 => -3_600..0i64,
    ];
    (event, signer, delay).prop_map(|((event, quantity), signer, delay)| Action {
        event,
        quantity,
        signer,
        delay,
    })
}

/// A wallet's terms and what happens to it.
fn history() -> impl Strategy<Value = (Value, Vec<Action>)> {
    let awaiting = prop::bool::weighted(0.2);
    (product(), policy(), awaiting, prop::collection::vec(action(), 1..30)).prop_map(
        |(product, policy, awaiting, actions)| {
            let mut open = json!({"type": "open", "consumer": CONSUMER, "merchant": MERCHANT, "regulator": REGULATOR,
                                  "product": product, "policy": policy});
            if awaiting {
                open["awaiting_funding"] = true.into();
            }
            (open, actions)
        },
    )
}

/// The step for `action` on a wallet whose product kind is `kind`, consumer `consumer`,
/// latest request `latest`, request a dispute named last `disputed` and accepted
/// requests' quantities `asked` (by id).
fn step_for(
    action: &Action,
    time: i64,
    kind: &str,
    consumer: &'static str,
    latest: &str,
    disputed: &str,
    asked: &HashMap<String, Value>,
) -> Step {
    let mut event = action.event.clone();
    if event.get("request").and_then(Value::as_str) == Some(LATEST) {
        event["request"] = latest.into();
    }
    if let Some(requests) = event.get_mut("requests").and_then(Value::as_array_mut) {
        for id in requests.iter_mut() {
            match id.as_str() {
                Some(LATEST) => *id = latest.into(),
                Some(DISPUTED) => *id = disputed.into(),
                _ => {}
            }
        }
    }
    if event["type"] == "authorize" && action.quantity.is_none() {
        let asked = event["request"].as_str().and_then(|id| asked.get(id));
        event
            .as_object_mut()
            .unwrap()
            .extend(asked.and_then(Value::as_object).cloned().unwrap_or_default());
    }
    match &action.quantity {
        Some(Quantity::Fitting { units, fen, stage }) => match kind {
            "stored_value" => event["amount"] = amount(*fen).into(),
            "plan" => event["stage"] = (*stage).into(),
            _ => event["units"] = (*units).into(),
        },
        Some(Quantity::Any(field)) => event
            .as_object_mut()
            .unwrap()
            .extend(field.as_object().unwrap().clone()),
        None => {}
    }
    let event_type = event["type"].as_str().unwrap();
    let by = match action.signer {
        Signer::Expected => match event_type {
            "request" | "withdraw" => Some(MERCHANT),
            "merchant_closed" | "resolve" => Some(REGULATOR),
            "dispute" if event["reason"] == "unanswered" => Some(MERCHANT),
            "tick" | "funded" => None,
            _ => Some(consumer),
        },
        Signer::Actor(name) => Some(name),
        Signer::Unsigned => None,
    };
    step(time, by, event)
}

fn step(time: i64, by: Option<&str>, event: Value) -> Step {
    let at = time::OffsetDateTime::from_unix_timestamp(time).unwrap();
    let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
    Step {
        at,
        wallet: "w".into(),
        by: Some(by.map(Into::into)),
        event,
        id: None,
        expect: None,
    }
}

fn figures(view: &WalletView) -> [Amount; 5] {
    [&view.paid, &view.frozen, &view.released, &view.refunded, &view.pending]
        .map(|text| Amount::parse(text).unwrap_or_else(|error| panic!("the view shows a bad amount: {error}")))
}

/// The actor who must sign `kind` for it to be accepted, given the current consumer.
fn may_sign(kind: &str, signer: Option<&str>, consumer: &str) -> bool {
    match kind {
        "open" | "authorize" | "refund" | "transfer" | "top_up" => signer == Some(consumer),
        "request" | "withdraw" => signer == Some(MERCHANT),
        "merchant_closed" | "resolve" => signer == Some(REGULATOR),
        "dispute" => signer == Some(consumer) || signer == Some(REGULATOR) || signer == Some(MERCHANT),
        "tick" | "funded" => true,
        other => panic!("unexpected event {other}"),
    }
}

fn check_history(wasm: &WasmContract, open: &Value, actions: &[Action]) -> Result<(), TestCaseError> {
    let mut state: Option<Vec<u8>> = None;
    let mut consumer = CONSUMER;
    let mut latest = String::from("r0");
    let mut disputed = String::from("r0");
    let mut asked: HashMap<String, Value> = HashMap::new();
    let mut previous: Option<WalletView> = None;
    let mut ruled_back = Amount::ZERO;
    let mut time = 1_767_225_600i64; // 2026-01-01T00:00:00Z
    let product_kind = open["product"]["kind"].as_str().unwrap();
    // What the wallet awaits from the rail: its price, if opened awaiting funding, then
    // each top-up asked for. A `funded` reports it, mostly.
    let mut awaited = match open["awaiting_funding"] == true {
        true => serde_json::from_value::<prepaid_contract::products::Product>(open["product"].clone())
            .map(|product| product.price().to_string())
            .unwrap_or_default(),
        false => String::new(),
    };
    for index in 0..=actions.len() {
        // Each step is made when it comes, so `Signer::Expected` follows transfers.
        let mut step = match index {
            0 => step(time, Some(CONSUMER), open.clone()),
            _ => {
                time += actions[index - 1].delay;
                step_for(
                    &actions[index - 1],
                    time,
                    product_kind,
                    consumer,
                    &latest,
                    &disputed,
                    &asked,
                )
            }
        };
        if step.event["type"] == "funded" && step.event.get("amount").is_none() {
            step.event["amount"] = (if awaited.is_empty() { "1.00" } else { awaited.as_str() }).into();
        }
        let step = &step;
        let raw = step.raw_event(index).unwrap();
        let ctx = raw.context().unwrap();
        let native = NativeRules.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
        let component = wasm.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
        prop_assert_eq!(&native.verdict, &component.verdict, "step {}: verdicts differ", index);
        prop_assert_eq!(&native.state, &component.state, "step {}: state bytes differ", index);

        let kind = step.event["type"].as_str().unwrap();
        let Some(new_state) = native.state else {
            prop_assert!(native.verdict.effects.is_empty(), "a rejection moved money");
            continue;
        };
        prop_assert!(
            may_sign(kind, step.signer(), consumer),
            "step {}: {} accepted from {:?}",
            index,
            kind,
            step.by
        );
        let view = NativeRules.view(&new_state).unwrap();
        let [paid, frozen, released, refunded, pending] = figures(&view);
        let total = frozen.checked_add(released).and_then(|sum| sum.checked_add(refunded));
        prop_assert_eq!(
            total,
            Some(paid),
            "step {}: paid != frozen + released + refunded",
            index
        );
        prop_assert!(
            pending <= frozen,
            "step {}: pending {} > frozen {}",
            index,
            pending,
            frozen
        );
        if view.status == "closed" {
            prop_assert!(
                frozen.is_zero() && pending.is_zero(),
                "step {}: closed with money frozen",
                index
            );
        }
        let (before_released, before_refunded) = match &previous {
            Some(before) => {
                let [_, _, released, refunded, _] = figures(before);
                (released, refunded)
            }
            None => (Amount::ZERO, Amount::ZERO),
        };
        let moved = |kind: &str| {
            native
                .verdict
                .effects
                .iter()
                .filter(|effect| effect.kind == kind)
                .fold(Amount::ZERO, |sum, effect| {
                    sum.checked_add(Amount::parse(&effect.amount).unwrap()).unwrap()
                })
        };
        prop_assert_eq!(
            before_released.checked_add(moved("release")),
            Some(released),
            "step {}: releases",
            index
        );
        prop_assert_eq!(
            before_refunded.checked_add(moved("refund")),
            Some(refunded),
            "step {}: refunds",
            index
        );
        if !moved("release").is_zero() {
            // Money reaches the merchant only on the consumer's signature (open's unsupervised
            // share, authorize, the list-price part of a refund) or a policy rule (tick;
            // accrual before a regulator's settlement; the unsupervised share when the rail
            // reports the money in, without a cooling-off period).
            prop_assert!(
                matches!(
                    kind,
                    "open" | "authorize" | "refund" | "tick" | "merchant_closed" | "resolve" | "funded"
                ),
                "step {}: {} released money",
                index,
                kind
            );
        }
        let quantity_of = |event: &Value| -> Value {
            let fields = event.as_object().unwrap().iter();
            fields
                .filter(|(name, _)| ["units", "amount", "stage"].contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        if kind == "top_up" {
            awaited = step.event["amount"].as_str().unwrap().to_owned();
        }
        if let Some(named) = step.event["requests"].as_array().filter(|_| kind == "dispute") {
            disputed = named.last().and_then(Value::as_str).unwrap_or_default().to_owned();
        }
        if kind == "request" {
            latest = step.event["request"].as_str().unwrap().to_owned();
            asked.insert(latest.clone(), quantity_of(&step.event));
        }
        if kind == "authorize" {
            let id = step.event["request"].as_str().unwrap();
            prop_assert_eq!(
                asked.get(id),
                Some(&quantity_of(&step.event)),
                "step {}: an authorization released a quantity its request did not ask",
                index
            );
        }
        if kind == "transfer" {
            let to = step.event["to"].as_str().unwrap();
            consumer = ACTORS.into_iter().find(|actor| *actor == to).unwrap();
        }
        // What rulings on requests gave back of units counted consumed: the consumer's
        // too when the wallet ends.
        for effect in &native.verdict.effects {
            REASONS.with(|reasons| reasons.borrow_mut().insert(effect.reason.clone()));
            if effect.kind == "refund" && effect.reason == "ruled_split" {
                ruled_back = ruled_back.checked_add(Amount::parse(&effect.amount).unwrap()).unwrap();
            }
        }
        if view.status == "closed" && previous.as_ref().is_some_and(|before| before.status != "closed") {
            let before = prepaid_contract::state::Wallet::decode(state.as_deref().unwrap()).unwrap();
            made_whole(&before, &new_state, step, time, index, ruled_back)?;
        }
        prop_assert_eq!(&wasm.view(&new_state).unwrap(), &view);
        previous = Some(view);
        state = Some(new_state);
    }
    Ok(())
}

thread_local! {
    /// Histories on this thread whose ending owed the consumer a claim.
    static OWED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Why money moved, in the histories on this thread.
    static REASONS: std::cell::RefCell<std::collections::BTreeSet<String>> = const {
        std::cell::RefCell::new(std::collections::BTreeSet::new())
    };
}

/// The consumer is made whole when `step` at `time` closes a wallet that was `before`:
/// what they were refunded and what the merchant owes them (a claim) come to the
/// unconsumed value the terms define, to the fen, less what the regulator valued disputed
/// requests at for the merchant, and counting what rulings on single requests gave back
/// (`ruled_back`, of units they count consumed); and the merchant keeps, net of what it
/// owes, no more than the value of what it delivered and those valuations. The terms, by
/// the ending: a refund after the cooling-off period (now, or earlier with requests held)
/// values consumption at the list price, every other ending at the paid rate as if the
/// part outside supervision had stayed frozen.
fn made_whole(
    before: &prepaid_contract::state::Wallet,
    after: &[u8],
    step: &Step,
    time: i64,
    index: usize,
    ruled_back: Amount,
) -> Result<(), TestCaseError> {
    let wallet = prepaid_contract::state::Wallet::decode(after).unwrap();
    let refund_at = match step.event["type"].as_str() {
        Some("refund") if !prepaid_contract::time::expired(before, time) && before.refunded_at.is_none() => Some(time),
        _ => wallet.refunded_at,
    };
    let consumed = match refund_at {
        // At the list price, but for the units a ruling split, which the regulator valued.
        Some(at) if !wallet.policy.in_cooling_off(wallet.opened_at, at) => wallet.list_value(wallet.consumed),
        _ => wallet.entitlement_as(wallet.consumed, false),
    };
    // A ruling on the whole wallet's split values its disputed requests; one on a single
    // request is counted in `ruled_back`.
    let awarded = match (step.event["type"].as_str(), step.event["outcome"].as_str()) {
        (Some("resolve"), Some("split")) if step.event.get("requests").is_none() => {
            Amount::parse(step.event["release"].as_str().unwrap()).unwrap()
        }
        _ => Amount::ZERO,
    };
    let entitled = wallet
        .paid()
        .checked_add(ruled_back)
        .and_then(|due| due.checked_sub(consumed))
        .unwrap_or(Amount::ZERO);
    let due = entitled.checked_sub(awarded).unwrap_or(Amount::ZERO);
    let received = wallet.refunded.checked_add(wallet.owed).unwrap();
    prop_assert_eq!(
        received,
        due.max(wallet.refunded),
        "step {}: refunded {} and owed {}, where the terms give {} less {} valued for the merchant",
        index,
        wallet.refunded,
        wallet.owed,
        entitled,
        awarded
    );
    let kept = wallet.released.checked_sub(wallet.owed);
    let earned = wallet.paid().checked_sub(due).unwrap();
    prop_assert!(
        kept.is_some_and(|kept| kept <= earned),
        "step {}: the merchant keeps {:?} net of what it owes, for {} delivered and valued",
        index,
        kept,
        earned
    );
    if !wallet.owed.is_zero() {
        OWED.with(|owed| owed.set(owed.get() + 1));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn money_balances_and_native_and_wasm_agree((open, actions) in history()) {
        thread_local! {
            static WASM: WasmContract = prepaid_tests::engine().load(&component_bytes()).unwrap();
        }
        WASM.with(|wasm| check_history(wasm, &open, &actions))?;
    }
}

#[test]
fn some_histories_owe_the_consumer_a_claim_and_rule_on_requests() {
    // The property above holds them to the terms; this says it saw some.
    let (owed, reasons) = std::thread::spawn(|| {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 1000,
            ..ProptestConfig::default()
        });
        let wasm = prepaid_tests::engine().load(&component_bytes()).unwrap();
        runner
            .run(&history(), |(open, actions)| check_history(&wasm, &open, &actions))
            .unwrap();
        (OWED.with(std::cell::Cell::get), REASONS.with(|reasons| reasons.take()))
    })
    .join()
    .unwrap();
    assert!(owed > 0, "no history of 1000 owed a claim");
    for ruling in ["ruled_release", "ruled_split"] {
        assert!(
            reasons.contains(ruling),
            "no history of 1000 moved money by {ruling}: {reasons:?}"
        );
    }
}
