//! The supervision platform through the ledger, on SQLite and PostgreSQL: merchants
//! reviewed before they sell, listings approved for a time, revoked, and bought only as
//! approved; closures with notice, stopping sales at once and refunding every wallet on
//! their date, resumably; statistics kept as events are journaled. Each abuse a merchant or
//! a relay could try is refused and records nothing.

use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::registry::{
    Action, Actor, Industry, ListingDecision, ListingStatus, MerchantClosure, MerchantDecision, MerchantStatus,
};
use prepaid_host::stats::{GroupBy, Query};
use prepaid_host::trust::{Regulator, Trust};
use prepaid_host::{Envelope, Error, Ledger, RefusalCode, StoreConfig};
use prepaid_tests::{component_bytes, dispute, postgres_store, sell, signed, sqlite_store};
use serde_json::{json, Value};

/// `#[test]`s `$sqlite` and `$postgres`, running `$check` on a new store of each kind.
macro_rules! on_both_stores {
    ($sqlite:ident, $postgres:ident, $check:ident) => {
        #[test]
        fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $check(sqlite_store(dir.path()));
        }

        #[test]
        fn $postgres() {
            $check(postgres_store());
        }
    };
}

fn key(name: &str) -> String {
    public_key(&dev_key(name)).to_string()
}

fn actor(role: &str, name: &str) -> Actor {
    Actor {
        role: role.into(),
        name: name.into(),
    }
}

/// A ledger on the system clock that sells only listings, trusting the city, with
/// `notice_days` of closure notice.
fn platform(store: StoreConfig, notice_days: u32) -> Ledger {
    let ledger = Ledger::open(store, prepaid_tests::engine())
        .unwrap()
        .with_registry(notice_days)
        .unwrap();
    let code_hash = ledger.install(&component_bytes()).unwrap();
    ledger.with_trust(Trust {
        regulators: vec![Regulator {
            key: key("city"),
            name: "city".into(),
            region: "Suzhou".into(),
        }],
        components: vec![code_hash],
        revoked: Vec::new(),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn refusal<T: std::fmt::Debug>(result: prepaid_host::Result<T>) -> RefusalCode {
    match result {
        Err(Error::Refused(refusal)) => refusal.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// `merchant` registers as a dental clinic in Gusu.
fn register(ledger: &Ledger, merchant: &str) {
    ledger
        .platform()
        .record_change(
            actor("merchant", merchant),
            Action::RegisterMerchant {
                merchant: key(merchant),
                name: format!("{merchant} dental clinic"),
                industry: Industry::Dental,
                district: "Gusu".into(),
                licence: "91320508MA1".into(),
            },
        )
        .unwrap();
}

fn review_merchant(ledger: &Ledger, merchant: &str, decision: MerchantDecision) -> prepaid_host::Result<()> {
    ledger
        .platform()
        .record_change(
            actor("regulator", "city"),
            Action::ReviewMerchant {
                merchant: key(merchant),
                decision,
                reason: "licence checked".into(),
            },
        )
        .map(drop)
}

/// `merchant` submits an orthodontics plan; returns the listing's id.
fn submit_listing(ledger: &Ledger, merchant: &str, policy: Value) -> prepaid_host::Result<String> {
    let record = ledger.platform().record_change(
        actor("merchant", merchant),
        Action::SubmitListing {
            listing: String::new(),
            merchant: key(merchant),
            name: "Orthodontics, full course".into(),
            category: "orthodontics".into(),
            product: json!({"kind": "plan", "stages": [
                {"name": "assessment", "amount": "2000.00"}, {"name": "appliance", "amount": "8000.00"}]}),
            policy,
        },
    )?;
    match record.action {
        Action::SubmitListing { listing, .. } => Ok(listing),
        other => panic!("recorded {other:?}"),
    }
}

/// The city approves `listing` until `until`.
fn approve_listing(ledger: &Ledger, listing: &str, until: i64) -> prepaid_host::Result<()> {
    let approval = ledger
        .platform()
        .registry()?
        .listing(listing)
        .unwrap()
        .approve(&dev_key("city"), until)?;
    ledger
        .platform()
        .record_change(
            actor("regulator", "city"),
            Action::ReviewListing {
                listing: listing.into(),
                decision: ListingDecision::Approve,
                reason: "terms within the rules".into(),
                approval: Some(approval),
            },
        )
        .map(drop)
}

/// `consumer`'s signed open of `wallet` buying `listing` as the registry lists it, with
/// `change` made to the event before it is signed.
fn buy(ledger: &Ledger, wallet: &str, consumer: &str, listing: &str, change: impl FnOnce(&mut Value)) -> Envelope {
    let mut event = ledger
        .platform()
        .registry()
        .unwrap()
        .listing(listing)
        .unwrap()
        .open_event(&key(consumer))
        .unwrap();
    change(&mut event);
    signed(wallet, "open", consumer, event)
}

/// The clinic registered and approved, and its listing of an orthodontics plan under
/// `policy` approved by the city for a day: the listing's id.
fn approved_clinic(ledger: &Ledger, policy: Value) -> String {
    register(ledger, "clinic");
    review_merchant(ledger, "clinic", MerchantDecision::Approve).unwrap();
    let listing = submit_listing(ledger, "clinic", policy).unwrap();
    approve_listing(ledger, &listing, now() + 86_400).unwrap();
    listing
}

/// A platform in `dir` whose approved clinic has sold alice its listing under `policy`, as
/// wallet w1: the ledger and the listing.
fn sold_to_alice(dir: &std::path::Path, policy: Value) -> (Ledger, String) {
    let ledger = platform(sqlite_store(dir), 0);
    let listing = approved_clinic(&ledger, policy);
    let sold = sell(&ledger, &buy(&ledger, "w1", "alice", &listing, |_| {})).unwrap();
    assert!(sold.verdict.ok, "{:?}", sold.verdict);
    (ledger, listing)
}

/// The city's regulator records the clinic's closure, effective at `effective`.
fn close_clinic(ledger: &Ledger, effective: i64) -> prepaid_host::Result<prepaid_host::registry::Record> {
    ledger.platform().record_change(
        actor("regulator", "city"),
        Action::CloseMerchant {
            merchant: key("clinic"),
            reason: "relocating".into(),
            closure: MerchantClosure::sign(&dev_key("city"), &key("clinic"), effective).unwrap(),
        },
    )
}

/// Waits until the platform's time (seconds since the epoch) is `at`.
fn wait_until(at: i64) {
    while now() < at {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn policy() -> Value {
    json!({"cooling_off_days": 7, "deemed_confirm_days": 0})
}

fn sells_only_approved_listings_of_approved_merchants(store: StoreConfig) {
    let ledger = platform(store, 30);
    let in_a_year = now() + 365 * 86_400;

    // A merchant sells nothing before it is registered and approved.
    assert_eq!(
        refusal(submit_listing(&ledger, "clinic", policy())),
        RefusalCode::UnknownMerchant
    );
    register(&ledger, "clinic");
    assert_eq!(
        refusal(ledger.platform().record_change(
            actor("merchant", "clinic"),
            Action::RegisterMerchant {
                merchant: key("clinic"),
                name: "again".into(),
                industry: Industry::Dental,
                district: "Gusu".into(),
                licence: "x".into(),
            }
        )),
        RefusalCode::AlreadyRegistered
    );
    assert_eq!(
        refusal(submit_listing(&ledger, "clinic", policy())),
        RefusalCode::WrongStatus
    );
    review_merchant(&ledger, "clinic", MerchantDecision::Approve).unwrap();

    // Terms the contract would refuse are refused at submission, with the contract's reason.
    assert_eq!(
        refusal(submit_listing(
            &ledger,
            "clinic",
            json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "5000.00"})
        )),
        RefusalCode::BadRegistryEntry
    );
    let listing = submit_listing(&ledger, "clinic", policy()).unwrap();

    // An open of the pending listing, with an approval the city signed but never recorded,
    // is not for sale; without its listing, it is not listed at all.
    let mut unrecorded = ledger.platform().registry().unwrap().listing(&listing).unwrap().clone();
    unrecorded.approval = Some(unrecorded.approve(&dev_key("city"), in_a_year).unwrap());
    unrecorded.status = ListingStatus::Approved;
    let mut pending = Envelope {
        wallet: "w0".into(),
        id: "open".into(),
        at: None,
        event: unrecorded.open_event(&key("alice")).unwrap(),
        signature: None,
    };
    pending.sign(&dev_key("alice")).unwrap();
    assert_eq!(refusal(ledger.submit(&pending)), RefusalCode::ListingNotForSale);
    pending.event.as_object_mut().unwrap().remove("listing");
    assert_eq!(refusal(ledger.submit(&pending)), RefusalCode::Unlisted);
    assert!(ledger.wallets().unwrap().is_empty());

    // The regulator's approval must be its signature over this listing, unexpired.
    let forged = ledger
        .platform()
        .registry()
        .unwrap()
        .listing(&listing)
        .unwrap()
        .approve(&dev_key("clinic"), in_a_year)
        .unwrap();
    let review = |approval| Action::ReviewListing {
        listing: listing.clone(),
        decision: ListingDecision::Approve,
        reason: "ok".into(),
        approval: Some(approval),
    };
    assert_eq!(
        refusal(
            ledger
                .platform()
                .record_change(actor("regulator", "city"), review(forged))
        ),
        RefusalCode::UntrustedRegulator
    );
    let mut wrong = ledger
        .platform()
        .registry()
        .unwrap()
        .listing(&listing)
        .unwrap()
        .approve(&dev_key("city"), in_a_year)
        .unwrap();
    wrong.approved_until += 1;
    assert_eq!(
        refusal(
            ledger
                .platform()
                .record_change(actor("regulator", "city"), review(wrong))
        ),
        RefusalCode::BadRegistryEntry
    );
    assert_eq!(
        refusal(approve_listing(&ledger, &listing, now() - 1)),
        RefusalCode::BadRegistryEntry
    );
    approve_listing(&ledger, &listing, in_a_year).unwrap();

    // Bought as listed, it opens; bought with any field changed, it does not.
    let opened = sell(&ledger, &buy(&ledger, "w1", "alice", &listing, |_| {})).unwrap();
    assert!(opened.verdict.ok, "{:?}", opened.verdict);
    let cheaper = |event: &mut Value| event["product"]["stages"][1]["amount"] = json!("1.00");
    let longer = |event: &mut Value| event["listing"]["approved_until"] = json!(in_a_year + 86_400);
    let unapproved = |event: &mut Value| event["approval"] = json!("00".repeat(64));
    for (wallet, change) in [
        ("w2", &cheaper as &dyn Fn(&mut Value)),
        ("w3", &longer),
        ("w4", &unapproved),
    ] {
        let before = ledger.wallets().unwrap();
        assert_eq!(
            refusal(sell(&ledger, &buy(&ledger, wallet, "bob", &listing, change))),
            RefusalCode::ListingMismatch,
            "{wallet}"
        );
        assert_eq!(ledger.wallets().unwrap(), before, "a refused open records nothing");
    }
    // Another merchant naming this listing hears it does not exist, whatever its status.
    let probe = buy(&ledger, "w7", "bob", &listing, |event| {
        event["merchant"] = json!(key("spa"))
    });
    assert_eq!(refusal(ledger.submit(&probe)), RefusalCode::Unlisted);
    // The open of an existing wallet, sent again, still gets its recorded outcome.
    assert!(
        sell(&ledger, &buy(&ledger, "w1", "alice", &listing, |_| {}))
            .unwrap()
            .replayed
    );

    // Revoked, the listing sells no more, even to an open built while it sold; a new
    // listing, approved, does.
    let built_before = buy(&ledger, "w5", "bob", &listing, |_| {});
    ledger
        .platform()
        .record_change(
            actor("regulator", "city"),
            Action::RevokeListing {
                listing: listing.clone(),
                reason: "complaints".into(),
            },
        )
        .unwrap();
    assert_eq!(refusal(ledger.submit(&built_before)), RefusalCode::ListingNotForSale);
    assert_eq!(
        refusal(approve_listing(&ledger, &listing, in_a_year)),
        RefusalCode::WrongStatus
    );
    // An approval sent in upper-case hex is kept as opens carry it, so the listing sells.
    let second = submit_listing(&ledger, "clinic", policy()).unwrap();
    let mut shouted = ledger
        .platform()
        .registry()
        .unwrap()
        .listing(&second)
        .unwrap()
        .approve(&dev_key("city"), in_a_year)
        .unwrap();
    shouted.signature = shouted.signature.to_uppercase();
    ledger
        .platform()
        .record_change(
            actor("regulator", "city"),
            Action::ReviewListing {
                listing: second.clone(),
                decision: ListingDecision::Approve,
                reason: "ok".into(),
                approval: Some(shouted),
            },
        )
        .unwrap();
    assert!(
        sell(&ledger, &buy(&ledger, "w5", "bob", &second, |_| {}))
            .unwrap()
            .verdict
            .ok
    );

    // A suspended merchant sells nothing, approved listing or not.
    review_merchant(&ledger, "clinic", MerchantDecision::Suspend).unwrap();
    assert_eq!(
        refusal(sell(&ledger, &buy(&ledger, "w6", "carol", &second, |_| {}))),
        RefusalCode::MerchantNotSelling
    );
    review_merchant(&ledger, "clinic", MerchantDecision::Approve).unwrap();

    // Statistics follow the journal: two plans of 10,000.00 paid, by merchant and industry.
    let lines = ledger
        .platform()
        .stats(&Query {
            group_by: GroupBy::Industry,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (
            lines[0].group.as_str(),
            lines[0].paid.as_str(),
            lines[0].frozen.as_str(),
            lines[0].wallets
        ),
        ("dental", "20000.00", "20000.00", 2)
    );

    // Every change is on the record, chained, with who made it.
    let registry = ledger.platform().registry().unwrap();
    let merchant = registry.merchant(&key("clinic")).unwrap();
    assert_eq!(merchant.status, MerchantStatus::Approved);
    assert_eq!(registry.len(), 9);
}

fn closes_with_notice_and_refunds_every_wallet(store: StoreConfig) {
    let ledger = platform(store.clone(), 0);
    let listing = approved_clinic(&ledger, policy());
    for wallet in ["w1", "w2", "w3"] {
        assert!(
            sell(&ledger, &buy(&ledger, wallet, "alice", &listing, |_| {}))
                .unwrap()
                .verdict
                .ok
        );
    }
    // w3 is refunded by its consumer before the closure.
    let refund = signed("w3", "refund", "alice", json!({"type": "refund"}));
    assert!(ledger.submit(&refund).unwrap().verdict.ok);

    // The regulation's notice: a closure in less than 30 days is refused on a platform
    // that keeps it.
    let strict = platform(store.clone(), 30);
    assert_eq!(
        refusal(close_clinic(&strict, now() + 29 * 86_400)),
        RefusalCode::ShortNotice
    );
    // The notice is the journal's, whichever ledger set it last: this platform gives none.
    assert_eq!(
        refusal(close_clinic(&ledger, now() + 29 * 86_400)),
        RefusalCode::ShortNotice
    );
    let ledger = ledger.with_registry(0).unwrap();
    // Signed by anyone but a trusted regulator, it is refused.
    let forged = ledger.platform().record_change(
        actor("regulator", "city"),
        Action::CloseMerchant {
            merchant: key("clinic"),
            reason: "relocating".into(),
            closure: MerchantClosure::sign(&dev_key("clinic"), &key("clinic"), now() + 1).unwrap(),
        },
    );
    assert_eq!(refusal(forged), RefusalCode::UntrustedRegulator);

    let effective = now() + 2;
    close_clinic(&ledger, effective).unwrap();
    // From the moment the closure is recorded, sales stop.
    assert_eq!(
        refusal(sell(&ledger, &buy(&ledger, "w4", "bob", &listing, |_| {}))),
        RefusalCode::MerchantNotSelling
    );
    // Nor may it ask to be paid: a request the consumer left silent could otherwise be
    // deemed confirmed before the closure's date.
    let request = signed(
        "w1",
        "r1",
        "clinic",
        json!({"type": "request", "request": "r1", "stage": 0}),
    );
    assert_eq!(refusal(ledger.submit(&request)), RefusalCode::MerchantNotSelling);
    // A caller cannot take the closure's event id to hold it off.
    let mut squat = refund.clone();
    squat.wallet = "w1".into();
    squat.id = format!("closure-{effective}");
    squat.sign(&dev_key("alice")).unwrap();
    assert_eq!(refusal(ledger.submit(&squat)), RefusalCode::PlatformOnly);

    // Before the date nothing is applied.
    assert!(ledger.platform().close_due_merchants(|_| {}).unwrap().is_empty());
    wait_until(effective);
    // A run cut short after one wallet, then run again by another process, closes each
    // wallet once.
    let mut seen = Vec::new();
    let first = platform(store.clone(), 0);
    let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        first
            .platform()
            .close_due_merchants(|progress| {
                seen.push((progress.done, progress.total));
                assert!(progress.done < 1, "cut short");
            })
            .unwrap();
    }));
    assert!(cut.is_err());
    assert_eq!(seen, vec![(1, 3)]);
    let reports = ledger.platform().close_due_merchants(|_| {}).unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0].1;
    assert_eq!(
        (report.closed, report.already_closed, report.refunded.as_str()),
        (2, 1, "20000.00")
    );
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    for wallet in ["w1", "w2"] {
        let view = ledger.view(wallet).unwrap().unwrap();
        assert_eq!((view.status.as_str(), view.refunded.as_str()), ("closed", "10000.00"));
    }
    let registry = ledger.platform().registry().unwrap();
    assert_eq!(
        registry.merchant(&key("clinic")).unwrap().status,
        MerchantStatus::Closed
    );
    // Done once: nothing more is due.
    assert!(ledger.platform().close_due_merchants(|_| {}).unwrap().is_empty());
    assert!(ledger.verify().unwrap().is_clean());

    let totals = ledger.platform().stats(&Query::default()).unwrap();
    assert_eq!(
        (
            totals[0].paid.as_str(),
            totals[0].refunded.as_str(),
            totals[0].frozen.as_str(),
            totals[0].refunds
        ),
        ("30000.00", "30000.00", "0.00", 1)
    );
}

on_both_stores!(
    sqlite_sells_only_approved_listings_of_approved_merchants,
    postgres_sells_only_approved_listings_of_approved_merchants,
    sells_only_approved_listings_of_approved_merchants
);

on_both_stores!(
    sqlite_closes_with_notice_and_refunds_every_wallet,
    postgres_closes_with_notice_and_refunds_every_wallet,
    closes_with_notice_and_refunds_every_wallet
);

#[test]
fn an_altered_registry_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let ledger = platform(store.clone(), 30);
    register(&ledger, "clinic");
    review_merchant(&ledger, "clinic", MerchantDecision::Approve).unwrap();
    drop(ledger);
    // An insider approves the merchant's registration in place of its review.
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    conn.execute(
        "UPDATE registry SET record = replace(record, 'licence checked', 'fine') WHERE n = 2",
        [],
    )
    .unwrap();
    let error = platform(store, 30).platform().registry().unwrap_err();
    assert!(
        format!("{error:#}").contains("the registry's log was altered"),
        "{error:#}"
    );
}

#[test]
fn each_alert_rule_raises_its_alert() {
    use prepaid_host::alerts::{AlertKind, AlertRules};
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let ledger = platform(store.clone(), 0);
    let listing = approved_clinic(&ledger, policy());
    for wallet in ["w1", "w2", "w3"] {
        assert!(
            sell(&ledger, &buy(&ledger, wallet, "alice", &listing, |_| {}))
                .unwrap()
                .verdict
                .ok
        );
    }
    let raised = |ledger: &Ledger| -> Vec<AlertKind> {
        ledger
            .platform()
            .alerts()
            .unwrap()
            .iter()
            .map(|alert| alert.kind)
            .collect()
    };
    // Nothing is raised before the regulator sets a rule.
    assert!(raised(&ledger).is_empty());

    // Rules too sharp to configure are refused.
    let configure = |rules: AlertRules| {
        ledger
            .platform()
            .record_change(actor("regulator", "city"), Action::ConfigureAlerts { rules })
    };
    for bad in [
        AlertRules {
            frozen_over: Some("lots".into()),
            ..AlertRules::default()
        },
        AlertRules {
            trailing_days: 0,
            ..AlertRules::default()
        },
        AlertRules {
            refund_rate_multiple: Some(0),
            ..AlertRules::default()
        },
    ] {
        assert_eq!(refusal(configure(bad)), RefusalCode::BadRegistryEntry);
    }
    configure(AlertRules {
        frozen_over: Some("25000.00".into()),
        refund_rate_multiple: Some(1),
        request_rate_multiple: Some(1),
        min_events: 1,
        open_disputes_over: Some(0),
        pending_requests_over: Some(0),
        ..AlertRules::default()
    })
    .unwrap();
    // 30,000.00 frozen in three plans.
    assert_eq!(raised(&ledger), [AlertKind::FrozenOver]);

    // A request waits on w1, w2 is in dispute, w3 is refunded: each, on a day with none
    // before it, is over any multiple of its trailing average.
    let steps = [
        signed(
            "w1",
            "r1",
            "clinic",
            json!({"type": "request", "request": "r1", "stage": 0}),
        ),
        signed("w2", "d1", "alice", dispute(&[])),
        signed("w3", "refund", "alice", json!({"type": "refund"})),
    ];
    for step in &steps {
        let submitted = ledger.submit(step).unwrap();
        assert!(submitted.verdict.ok, "{:?}", submitted.verdict);
    }
    let lines = ledger.platform().stats(&Query::default()).unwrap();
    assert_eq!((lines[0].pending_requests, lines[0].open_disputes), (1, 1));
    assert_eq!(
        raised(&ledger),
        [
            AlertKind::RefundRate,
            AlertKind::RequestRate,
            AlertKind::OpenDisputes,
            AlertKind::PendingRequests
        ],
        "20,000.00 is frozen now, under the threshold"
    );

    // The clinic is closing; a host that does not enforce the registry still sells for it.
    // Every ledger on this journal enforces it now (the journal records that it sells only
    // listings): only someone who writes the database can unset that, as here.
    // (A second apart from the sales before: one in the notice's own second counts.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ledger
        .platform()
        .record_change(
            actor("regulator", "city"),
            Action::CloseMerchant {
                merchant: key("clinic"),
                reason: "relocating".into(),
                closure: MerchantClosure::sign(&dev_key("city"), &key("clinic"), now() + 3600).unwrap(),
            },
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    rusqlite::Connection::open(dir.path().join("journal.db"))
        .unwrap()
        .execute("DELETE FROM admission", [])
        .unwrap();
    let careless = Ledger::open(store, prepaid_tests::engine()).unwrap();
    careless.install(&component_bytes()).unwrap();
    assert!(
        sell(&careless, &buy(&ledger, "w4", "bob", &listing, |_| {}))
            .unwrap()
            .verdict
            .ok
    );
    let alerts = ledger.platform().alerts().unwrap();
    let late = alerts
        .iter()
        .find(|alert| alert.kind == AlertKind::SalesAfterClosure)
        .expect("the sale after the notice is raised");
    assert_eq!(
        (late.value.as_str(), late.name.as_deref()),
        ("1", Some("clinic dental clinic"))
    );
}

#[test]
fn a_wallet_journaled_before_merchants_were_indexed_is_closed_too() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = platform(sqlite_store(dir.path()), 0);
    let listing = approved_clinic(&ledger, policy());
    for wallet in ["w1", "w2"] {
        assert!(
            sell(&ledger, &buy(&ledger, wallet, "alice", &listing, |_| {}))
                .unwrap()
                .verdict
                .ok
        );
    }
    // As a journal written before this version holds it: w2 has no index row.
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    conn.execute("DELETE FROM sales WHERE wallet = 'w2'", []).unwrap();
    let effective = now() + 1;
    close_clinic(&ledger, effective).unwrap();
    while now() < effective {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let reports = ledger.platform().close_due_merchants(|_| {}).unwrap();
    assert_eq!(reports[0].1.closed, 2, "{:?}", reports[0].1);
    assert_eq!(ledger.view("w2").unwrap().unwrap().status, "closed");
}

#[test]
fn ticks_carry_the_platforms_calendar_into_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = platform(sqlite_store(dir.path()), 30);
    let listing = approved_clinic(
        &ledger,
        json!({"cooling_off_days": 7, "deemed_confirm_days": 7, "deemed_confirm_working_days": true}),
    );
    assert!(
        sell(&ledger, &buy(&ledger, "w1", "alice", &listing, |_| {}))
            .unwrap()
            .verdict
            .ok
    );

    // A calendar whose days are not what they say is refused.
    let set = |holidays: &[&str], workdays: &[&str]| {
        ledger.platform().record_change(
            actor("operator", "platform"),
            Action::ConfigureCalendar {
                holidays: holidays.iter().map(|day| day.to_string()).collect(),
                workdays: workdays.iter().map(|day| day.to_string()).collect(),
            },
        )
    };
    for (holidays, workdays) in [
        (&["2026-10-03"][..], &[][..]),
        (&[], &["2026-10-05"]),
        (&["2026-13-01"], &[]),
    ] {
        assert_eq!(
            refusal(set(holidays, workdays)),
            RefusalCode::BadRegistryEntry,
            "{holidays:?} {workdays:?}"
        );
    }
    // Today's date as a holiday (if a weekday) or a workday (if a weekend day).
    let today = prepaid_host::envelope::rfc3339(now()).unwrap()[..10].to_owned();
    let number = prepaid_host::clock::day_number(&today).unwrap();
    let weekend = (number + 3).rem_euclid(7) >= 5;
    match weekend {
        false => set(&[&today], &[]),
        true => set(&[], &[&today]),
    }
    .unwrap();
    let ticked = ledger.tick("w1").unwrap();
    let event: Value = serde_json::from_str(&ticked.entry.event).unwrap();
    let listed = if weekend { "workdays" } else { "holidays" };
    let days = event["event"]["calendar"][listed].as_array().unwrap();
    assert!(days.contains(&json!(number)), "{event}");
    // With the State Council's schedules shipped beside the days set.
    let national_day = prepaid_host::clock::day_number("2026-10-01").unwrap();
    assert!(event["event"]["calendar"]["holidays"]
        .as_array()
        .unwrap()
        .contains(&json!(national_day)));
    assert!(ledger.verify().unwrap().is_clean());
}

/// The State Council's 2026 schedule ships with the host, so a platform's tick carries it
/// with nothing set: a Zhejiang school's request, made the day before the National Day
/// holiday, is deemed confirmed after 7 working days counted around it (the weekdays off
/// from 1 to 7 October, and Saturday 10 October worked), at the end of 14 October, where
/// without the schedule it would have been the end of 8 October.
#[test]
fn the_shipped_calendar_moves_a_working_day_deadline_over_national_day() {
    let registry = prepaid_host::registry::Registry::read(std::iter::empty()).unwrap();
    let at = |rfc3339: &str| prepaid_host::envelope::timestamp(rfc3339).unwrap();
    let shipped = registry.calendar_around(at("2026-10-06T02:00:00Z")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = prepaid_tests::ledger_in(dir.path());
    let mut deadlines = Vec::new();
    for (wallet, calendar) in [("with", shipped), ("without", json!({}))] {
        let steps = json!({"name": "national day", "steps": [
            {"at": "2026-09-01T01:00:00Z", "wallet": wallet, "by": "erin",
             "event": {"type": "open", "consumer": "erin", "merchant": "school", "regulator": "zhejiang",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 7, "deemed_confirm_working_days": true}}},
            {"at": "2026-09-29T02:00:00Z", "wallet": wallet, "by": "school",
             "event": {"type": "request", "request": "lesson-1", "units": 1}},
            {"at": "2026-10-06T02:00:00Z", "wallet": wallet, "event": {"type": "tick", "calendar": calendar}}
        ]});
        for event in prepaid_tests::scenario_events(&steps.to_string()) {
            assert!(ledger.submit(&event).unwrap().verdict.ok);
        }
        deadlines.push(ledger.view(wallet).unwrap().unwrap().next_due);
    }
    assert_eq!(
        deadlines,
        [Some(at("2026-10-14T16:00:00Z")), Some(at("2026-10-08T16:00:00Z"))]
    );
}

/// A consumer's wallets follow the key that signs for them: listed under alice from her
/// open, under bob from her transfer, on both stores.
fn consumers_wallets_follow_their_key(store: StoreConfig) {
    let ledger = prepaid_tests::ledger(store);
    let events = prepaid_tests::scenario_events(
        r#"{"name": "holders", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "alice", "event": {"type": "transfer", "to": "bob"}}
        ]}"#,
    );
    let (alice, bob) = (
        public_key(&dev_key("alice")).to_string(),
        public_key(&dev_key("bob")).to_string(),
    );
    ledger.submit(&events[0]).unwrap();
    assert_eq!(ledger.wallets_of(&alice).unwrap(), ["w1"]);
    assert!(ledger.wallets_of(&bob).unwrap().is_empty());
    assert!(ledger.submit(&events[1]).unwrap().verdict.ok);
    assert!(ledger.wallets_of(&alice).unwrap().is_empty());
    assert_eq!(ledger.wallets_of(&bob).unwrap(), ["w1"]);
}

on_both_stores!(
    sqlite_consumers_wallets_follow_their_key,
    postgres_consumers_wallets_follow_their_key,
    consumers_wallets_follow_their_key
);

/// The notices feed: alice is told of the request waiting, when it would be deemed
/// confirmed, when her cooling-off period ends and, once recorded, her clinic's closure;
/// the clinic of what concerns its wallets, never of what waits on alice; bob of nothing.
/// Each notice keeps its id from one reading to the next, and a dispute silences the
/// request it names.
#[test]
fn notices_tell_each_party_what_needs_them() {
    use prepaid_host::notices::{Audience, NoticeKind};
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = sold_to_alice(
        dir.path(),
        json!({"cooling_off_days": 7, "deemed_confirm_days": 3, "valid_days": 20}),
    );
    let request = signed(
        "w1",
        "s0",
        "clinic",
        json!({"type": "request", "request": "s0", "stage": 0}),
    );
    assert!(ledger.submit(&request).unwrap().verdict.ok);

    let (alice, clinic) = (Audience::Consumer(key("alice")), Audience::Merchant(key("clinic")));
    let kinds = |audience: &Audience, days: u32| -> Vec<(NoticeKind, Option<String>)> {
        let notices = ledger.platform().notices_at(audience, now(), days).unwrap();
        notices
            .into_iter()
            .map(|notice| (notice.kind, notice.request))
            .collect()
    };
    let s0 = Some("s0".to_owned());
    assert_eq!(
        kinds(&alice, 7),
        [
            (NoticeKind::RequestWaiting, s0.clone()),
            (NoticeKind::DeemedConfirmationDue, s0.clone()),
            (NoticeKind::CoolingOffEnding, None)
        ]
    );
    assert_eq!(kinds(&alice, 30).last(), Some(&(NoticeKind::ExpiryComing, None)));
    assert_eq!(
        kinds(&clinic, 7),
        [
            (NoticeKind::DeemedConfirmationDue, s0.clone()),
            (NoticeKind::CoolingOffEnding, None)
        ]
    );
    assert!(kinds(&Audience::Consumer(key("bob")), 30).is_empty());
    let ids = |audience: &Audience| -> Vec<String> {
        let notices = ledger.platform().notices_at(audience, now(), 7).unwrap();
        notices.into_iter().map(|notice| notice.id).collect()
    };
    assert_eq!(ids(&alice), ids(&alice), "a notice keeps its id");

    // The closure, recorded 40 days ahead, is news at once, to both.
    let effective = now() + 40 * 86_400;
    close_clinic(&ledger, effective).unwrap();
    for audience in [&alice, &clinic] {
        let notices = ledger.platform().notices_at(audience, now(), 7).unwrap();
        let closing = notices.iter().find(|notice| notice.kind == NoticeKind::MerchantClosing);
        assert_eq!(closing.map(|notice| notice.at), Some(effective), "{notices:?}");
    }

    // A dispute of s0: nothing waits on alice, and nothing will be deemed confirmed; both
    // parties are told the dispute is open.
    let dispute = signed("w1", "d", "alice", dispute(&["s0"]));
    assert!(ledger.submit(&dispute).unwrap().verdict.ok);
    for audience in [&alice, &clinic] {
        let about_s0: Vec<(NoticeKind, Option<String>)> = kinds(audience, 7)
            .into_iter()
            .filter(|(_, request)| request.is_some())
            .collect();
        assert_eq!(about_s0, [(NoticeKind::DisputeOpen, s0.clone())], "{audience:?}");
    }
}

/// The webhook delivery log keeps each notice's latest attempt, replacing the one before,
/// on both stores.
fn the_delivery_log_keeps_each_notices_latest_attempt(store: StoreConfig) {
    use prepaid_host::webhooks::Delivery;
    let ledger = platform(store, 0);
    assert_eq!(ledger.platform().delivery("H1", "n1").unwrap(), None);
    let failed = Delivery::attempted(
        None,
        "H1",
        "n1",
        (1000, "2026-01-01T00:16:40Z"),
        "500".into(),
        false,
        30,
    );
    ledger.platform().record_delivery(&failed).unwrap();
    let other = Delivery::attempted(None, "H2", "n1", (1001, "2026-01-01T00:16:41Z"), "200".into(), true, 30);
    ledger.platform().record_delivery(&other).unwrap();
    let delivered = Delivery::attempted(
        Some(failed.clone()),
        "H1",
        "n1",
        (1030, "2026-01-01T00:17:10Z"),
        "200".into(),
        true,
        30,
    );
    ledger.platform().record_delivery(&delivered).unwrap();
    assert_eq!(ledger.platform().delivery("H1", "n1").unwrap(), Some(delivered.clone()));
    assert_eq!(ledger.platform().deliveries("H1", 10).unwrap(), [delivered]);
    assert_eq!(ledger.platform().deliveries("H2", 10).unwrap(), [other]);
}

on_both_stores!(
    sqlite_the_delivery_log_keeps_each_notices_latest_attempt,
    postgres_the_delivery_log_keeps_each_notices_latest_attempt,
    the_delivery_log_keeps_each_notices_latest_attempt
);

/// The catalogue binds every ledger on a journal that sells only listings, however it was
/// opened: one opened before the platform set the journal so learns of it at its next
/// `open`, and an `open` of a wallet id whose only head is a rejected `open` (journaled
/// before those went unrecorded) is checked like any new sale.
#[test]
fn the_catalogue_binds_ledgers_opened_before_it_and_heads_with_no_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let early = Ledger::open(store.clone(), prepaid_tests::engine()).unwrap();
    let code_hash = early.install(&component_bytes()).unwrap();
    let early = early.with_trust(Trust {
        regulators: vec![Regulator {
            key: key("city"),
            name: "city".into(),
            region: "Suzhou".into(),
        }],
        components: vec![code_hash.clone()],
        revoked: Vec::new(),
    });
    let ledger = platform(store, 30);
    let listing = approved_clinic(&ledger, policy());
    let unlisted = |wallet: &str| {
        buy(&ledger, wallet, "alice", &listing, |event| {
            event.as_object_mut().unwrap().remove("listing");
        })
    };
    assert_eq!(refusal(early.submit(&unlisted("w1"))), RefusalCode::Unlisted);

    rusqlite::Connection::open(dir.path().join("journal.db"))
        .unwrap()
        .execute(
            "INSERT INTO wallets (wallet, code_hash, seq, state, state_hash, head_hash) VALUES ('w2', ?1, 1, NULL, ?2, ?2)",
            [&code_hash, &prepaid_host::outcome::sha256_hex(&[])],
        )
        .unwrap();
    for ledger in [&early, &ledger] {
        assert_eq!(refusal(ledger.submit(&unlisted("w2"))), RefusalCode::Unlisted);
    }
    assert_eq!(ledger.head("w2").unwrap().unwrap().seq, 1, "nothing was recorded");
    assert!(ledger.head("w1").unwrap().is_none());
}

/// A closure of a merchant that was paid a supervised share outside the wallets: each
/// wallet returns what is frozen and records the rest as owed, and the closure's report,
/// on the registry's record, says how much the merchant owes besides what it refunded.
#[test]
fn a_closure_report_says_what_the_merchant_owes_besides() {
    let dir = tempfile::tempdir().unwrap();
    // Nantong's model without a cooling-off period: 80% goes to the clinic at once.
    let (ledger, _) = sold_to_alice(
        dir.path(),
        json!({"cooling_off_days": 0, "deemed_confirm_days": 0, "supervised_share": 20}),
    );
    let effective = now() + 2;
    close_clinic(&ledger, effective).unwrap();
    wait_until(effective);
    let reports = ledger.platform().close_due_merchants(|_| {}).unwrap();
    let report = &reports[0].1;
    assert_eq!(
        (report.closed, report.refunded.as_str(), report.owed.as_deref()),
        (1, "2000.00", Some("8000.00"))
    );
    let view = ledger.view("w1").unwrap().unwrap();
    assert_eq!((view.status.as_str(), view.owed.as_str()), ("settling", "8000.00"));
    assert!(ledger.verify().unwrap().is_clean());
}
