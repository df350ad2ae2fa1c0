//! `prepaid serve`'s HTTP API, served for real on loopback over a SQLite journal: the
//! OpenAPI description against the routes, a wallet's life, roles on every endpoint, an
//! operator unable to forge a release, and bad requests answered with JSON errors that
//! change nothing.

use std::collections::BTreeSet;

use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::{routes, Service, MAX_BODY_BYTES, OPENAPI};
use prepaid_host::trust::{Regulator, Trust};
use prepaid_host::{Clock, Envelope, Funding};
use prepaid_tests::{
    component_bytes, dispute, funding_of, guest_bytes, ledger_in, scenario_events, serve_on_loopback, signed,
    two_sessions_used, EVIDENCE,
};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

const OPERATOR: &str = "operator-key-0123456789";
const GYM: &str = "gym-merchant-key-0123456789";
const SPA: &str = "spa-merchant-key-0123456789";
const REGULATOR: &str = "regulator-key-0123456789";
const AUDITOR: &str = "auditor-key-0123456789";

/// A wallet `w1`: alice buys ten sessions from gym; gym requests two; alice authorizes;
/// then an authorization signed by gym instead of alice (a forgery) and a refund.
fn events() -> Vec<Envelope> {
    scenario_events(
        r#"{"name": "api", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
             "event": {"type": "request", "request": "r1", "units": 2}},
            {"at": "2026-01-06T09:05:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "authorize", "request": "r1", "units": 2}},
            {"at": "2026-01-07T09:00:00Z", "wallet": "w1", "by": "gym",
             "event": {"type": "request", "request": "r2", "units": 3}},
            {"at": "2026-01-07T09:05:00Z", "wallet": "w1", "by": "gym",
             "event": {"type": "authorize", "request": "r2", "units": 3}}
        ]}"#,
    )
}

struct Server {
    url: String,
    http: Client,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        Server::start_with(|ledger| ledger, |service| service)
    }

    /// A service whose ledger and service `platform` and `serve` adjust.
    fn start_with(
        platform: impl FnOnce(prepaid_host::Ledger) -> prepaid_host::Ledger,
        serve: impl FnOnce(Service) -> Service,
    ) -> Server {
        let gym = events()[0].event["merchant"].as_str().unwrap().to_owned();
        let keys = ApiKeys::parse(
            &json!([
                {"key": OPERATOR, "role": "operator", "name": "platform"},
                {"key": GYM, "role": "merchant", "name": "gym", "merchant": gym},
                {"key": SPA, "role": "merchant", "name": "spa", "merchant": public_key(&dev_key("spa")).to_string()},
                {"key": REGULATOR, "role": "regulator", "name": "city"},
                {"key": AUDITOR, "role": "auditor", "name": "audit"}
            ])
            .to_string(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        // The service's clock is the host's: clients send events without times.
        let ledger = ledger_in(dir.path()).with_clock(Clock::System);
        // The platform trusts one regulator, the city, and the component it serves.
        let trust = Trust {
            regulators: vec![Regulator {
                key: events()[0].event["regulator"].as_str().unwrap().to_owned(),
                name: "city".into(),
                region: "Shanghai".into(),
            }],
            components: vec![ledger.current().unwrap()],
            revoked: Vec::new(),
        };
        // Checkpoints every second, so that a test sees one soon after its events.
        let service = Service::new(platform(ledger.with_trust(trust)), keys, dev_key("platform"))
            .with_checkpoint_every(std::time::Duration::from_secs(1));
        let (url, runtime) = serve_on_loopback(serve(service));
        Server {
            url,
            http: Client::new(),
            _runtime: runtime,
            _dir: dir,
        }
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn get(&self, path: &str, key: Option<&str>) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, key, None)
    }

    fn post(&self, path: &str, key: Option<&str>, body: &impl serde::Serialize) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            key,
            Some(serde_json::to_string(body).unwrap()),
        )
    }

    /// Submits `raw` where it belongs, as a client does, without a time: opens to
    /// /v1/wallets, the rest to the wallet.
    fn submit(&self, raw: &Envelope, key: &str) -> (StatusCode, Value) {
        self.submit_as_is(&raw.untimed(), key)
    }

    /// Submits `raw` with whatever time it carries.
    fn submit_as_is(&self, raw: &Envelope, key: &str) -> (StatusCode, Value) {
        if raw.event["type"] == "open" {
            self.post("/v1/wallets", Some(key), raw)
        } else {
            self.post(&format!("/v1/wallets/{}/events", raw.wallet), Some(key), raw)
        }
    }

    fn entries(&self, wallet: &str) -> usize {
        let (_, journal) = self.get(&format!("/v1/wallets/{wallet}/journal"), Some(AUDITOR));
        journal["entries"].as_array().map_or(0, Vec::len)
    }
}

#[test]
fn the_openapi_description_lists_exactly_the_served_routes() {
    let spec: Value = serde_json::from_str(OPENAPI).unwrap();
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented, served);

    // Every documented route answers on the live service (not with the fallback), and its
    // documented statuses include what it answered.
    let server = Server::start();
    for (method, path) in &documented {
        let concrete = path.replace("{wallet}", "w1");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = server.send(method.clone(), &concrete, Some(OPERATOR), Some("{}".into()));
        assert_ne!(body["error"]["code"], "not_found", "{method} {path}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let responses = &spec["paths"][path][method.as_str().to_lowercase()]["responses"];
        assert!(
            responses.get(status.as_str()).is_some(),
            "{method} {path} answered {status}, which its description does not list"
        );
    }
    let (status, body) = server.get("/v1/nowhere", Some(OPERATOR));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[test]
fn a_wallet_lives_through_the_api_and_its_effects_reach_the_adapter_once() {
    let server = Server::start();
    let events = events();
    let (status, opened) = server.submit(&events[0], OPERATOR);
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!((opened["ok"].as_bool(), opened["seq"].as_u64()), (Some(true), Some(1)));
    let (status, requested) = server.submit(&events[1], GYM);
    assert_eq!((status, requested["ok"].as_bool()), (StatusCode::CREATED, Some(true)));
    let (status, authorized) = server.submit(&events[2], OPERATOR);
    assert_eq!((status, authorized["ok"].as_bool()), (StatusCode::CREATED, Some(true)));
    assert_eq!(authorized["effects"][0]["kind"], "release");
    assert_eq!(authorized["effects"][0]["amount"], "200.00");

    // The same event again: its recorded outcome. The same id for something else: refused.
    let (status, again) = server.submit(&events[2], OPERATOR);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["entry_hash"], authorized["entry_hash"]);
    let mut changed = events[2].clone();
    changed.event["units"] = json!(1);
    let (status, refused) = server.submit(&changed, OPERATOR);
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("event_id_reused"))
    );

    let (status, wallet) = server.get("/v1/wallets/w1", Some(AUDITOR));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wallet["seq"], 3);
    assert_eq!(wallet["view"]["released"], "200.00");
    assert_eq!(wallet["view"]["frozen"], "800.00");
    assert_eq!(server.entries("w1"), 3);
    let (status, verified) = server.get("/v1/wallets/w1/verify", Some(AUDITOR));
    assert_eq!(
        (status, verified["clean"].as_bool(), verified["entries"].as_u64()),
        (StatusCode::OK, Some(true), Some(3))
    );

    let (_, pending) = server.get("/v1/outbox", Some(OPERATOR));
    assert_eq!(pending["effects"].as_array().unwrap().len(), 1);
    let (status, claimed) = server.post(
        "/v1/outbox/claim",
        Some(OPERATOR),
        &json!({"limit": 10, "lease_seconds": 30}),
    );
    assert_eq!(status, StatusCode::OK);
    let effect_id = claimed["effects"][0]["effect_id"].as_str().unwrap().to_owned();
    assert_eq!(effect_id, "w1:3:0");
    let (_, claimed_again) = server.post("/v1/outbox/claim", Some(OPERATOR), &json!({}));
    assert_eq!(
        claimed_again["effects"],
        json!([]),
        "a claimed effect is not handed out twice"
    );
    let token = claimed["claim"].as_str().unwrap().to_owned();
    // An acknowledgement presents the claim that holds the effect: none, or another, is
    // refused and acknowledges nothing.
    let (status, _) = server.post("/v1/outbox/ack", Some(OPERATOR), &json!({"effect_ids": [effect_id]}));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, stale) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": "0".repeat(32), "references": {&effect_id: "RAIL-1"}}),
    );
    assert_eq!(
        (status, stale["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("stale_claim"))
    );
    let (_, pending) = server.get("/v1/outbox", Some(OPERATOR));
    assert_eq!(pending["effects"].as_array().unwrap().len(), 1);
    // The rail's reference goes with the acknowledgement, for every id listed and no other.
    let (status, missing) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": token}),
    );
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (status, stray) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": token, "references": {"w1:9:0": "RAIL-1"}}),
    );
    assert_eq!(
        (status, stray["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (status, malformed) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": token, "references": {&effect_id: "RAIL 1"}}),
    );
    assert_eq!(
        (status, malformed["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_reference"))
    );
    let (status, acked) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": token, "references": {&effect_id: "RAIL-1"}}),
    );
    assert_eq!((status, acked["acknowledged"].as_u64()), (StatusCode::OK, Some(1)));
    // A second payment's reference for the same effect is refused, not recorded over the
    // first: reconcile is where the rail's statement answers for it.
    let (status, twice) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": [effect_id], "claim": token, "references": {&effect_id: "RAIL-2"}}),
    );
    assert_eq!(
        (status, twice["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("reference_differs"))
    );
    let (_, pending) = server.get("/v1/outbox", Some(OPERATOR));
    assert_eq!(pending["effects"], json!([]));
    let (status, unknown) = server.post(
        "/v1/outbox/ack",
        Some(OPERATOR),
        &json!({"effect_ids": ["w9:1:0"], "claim": token, "references": {"w9:1:0": "RAIL-9"}}),
    );
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_effect"))
    );

    let mut stranger = events[1].clone();
    stranger.wallet = "w9".into();
    let (status, unknown) = server.submit(&stranger, OPERATOR);
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_wallet"))
    );
    let (status, _) = server.get("/v1/wallets/w9", Some(AUDITOR));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn every_endpoint_checks_the_callers_role() {
    let server = Server::start();
    let events = events();
    // Opening: operators and the wallet's own merchant; not another merchant, an auditor
    // or a regulator.
    for key in [SPA, AUDITOR, REGULATOR] {
        let (status, body) = server.submit(&events[0], key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{key}"
        );
    }
    assert_eq!(server.submit(&events[0], GYM).0, StatusCode::CREATED);

    let (status, body) = server.get("/v1/wallets/w1", None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = server.get("/v1/wallets/w1", Some("not-a-key-0123456789"));
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Reading: everyone with a key, but a merchant only its own wallets.
    for key in [OPERATOR, GYM, REGULATOR, AUDITOR] {
        for path in ["/v1/wallets/w1", "/v1/wallets/w1/journal", "/v1/wallets/w1/verify"] {
            assert_eq!(server.get(path, Some(key)).0, StatusCode::OK, "{key} {path}");
        }
    }
    for path in [
        "/v1/wallets/w1",
        "/v1/wallets/w1/journal",
        "/v1/wallets/w1/verify",
        "/v1/wallets/w1/proof",
    ] {
        assert_eq!(server.get(path, Some(SPA)).0, StatusCode::FORBIDDEN, "{path}");
    }
    // The latest checkpoint is open to all: its worth is in how widely it is kept. The
    // service signs one as it starts.
    let started = std::time::Instant::now();
    while server.get("/v1/checkpoint", None).0 != StatusCode::OK {
        assert!(started.elapsed().as_secs() < 30, "no checkpoint served");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Submitting: not auditors, not other merchants.
    assert_eq!(server.submit(&events[1], AUDITOR).0, StatusCode::FORBIDDEN);
    assert_eq!(server.submit(&events[1], SPA).0, StatusCode::FORBIDDEN);
    assert_eq!(server.submit(&events[1], GYM).0, StatusCode::CREATED);
    // The outbox: read by operator, regulator and auditor; claimed and acknowledged by the
    // operator alone.
    for key in [OPERATOR, REGULATOR, AUDITOR] {
        assert_eq!(server.get("/v1/outbox", Some(key)).0, StatusCode::OK, "{key}");
    }
    assert_eq!(server.get("/v1/outbox", Some(GYM)).0, StatusCode::FORBIDDEN);
    for key in [GYM, REGULATOR, AUDITOR] {
        assert_eq!(
            server.post("/v1/outbox/claim", Some(key), &json!({})).0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            server
                .post(
                    "/v1/outbox/ack",
                    Some(key),
                    &json!({"effect_ids": ["w1:1:0"], "claim": "0"})
                )
                .0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(server.entries("w1"), 2, "refused requests recorded nothing");
}

/// The regulator reads a migration's plan over the API before signing: for a stored
/// component, by the roles that read everything, and nothing is journaled.
#[test]
fn the_regulator_reads_a_migrations_plan_before_signing_and_nothing_is_recorded() {
    let changed = guest_bytes("paid-rate-sessions");
    let to = prepaid_host::outcome::sha256_hex(&changed);
    // The platform stores the changed rules beside the ones it opens wallets on.
    let server = Server::start_with(
        |ledger| {
            ledger.install(&changed).unwrap();
            ledger.install(&component_bytes()).unwrap();
            ledger
        },
        |service| service,
    );
    let events = events();
    for event in &events[..3] {
        assert_eq!(
            server
                .submit(
                    event,
                    if event.event["type"] == "authorize" {
                        OPERATOR
                    } else {
                        GYM
                    }
                )
                .0,
            StatusCode::CREATED
        );
    }
    let path = format!("/v1/migrations/plan?to={to}");
    for key in [REGULATOR, AUDITOR, OPERATOR] {
        let (status, plan) = server.get(&path, Some(key));
        assert_eq!(status, StatusCode::OK, "{key}: {plan}");
        assert_eq!(
            (plan["to"].as_str(), plan["totals"]["wallets"].as_u64()),
            (Some(to.as_str()), Some(1))
        );
        let refund = &plan["wallets"][0]["old"]["paths"]["refund_now"];
        // Inside the cooling-off period both rules give back everything frozen.
        assert_eq!(
            (refund["consumer"].as_str(), refund["merchant"].as_str()),
            (Some("800.00"), Some("0.00"))
        );
        assert_eq!(plan["hash"].as_str().map(str::len), Some(64));
    }
    assert_eq!(server.get(&path, Some(GYM)).0, StatusCode::FORBIDDEN);
    assert_eq!(server.get(&path, None).0, StatusCode::UNAUTHORIZED);
    let (status, body) = server.get(&format!("/v1/migrations/plan?to={}", "ab".repeat(32)), Some(REGULATOR));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    for bad in ["/v1/migrations/plan?to=xyz", "/v1/migrations/plan"] {
        assert_eq!(server.get(bad, Some(REGULATOR)).0, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(server.entries("w1"), 3, "a plan journals nothing");
}

/// A migration the regulator hands in over the API that would give the consumer less
/// waits: she finds it beside her wallet, old terms against new, and a notice; her consent
/// by her own key moves it. A merchant's key hands in no migration and consents to none,
/// and another consumer's token sees none.
#[test]
fn a_consumer_consents_over_the_api_to_a_migration_that_waits_for_her() {
    let changed = guest_bytes("paid-rate-sessions");
    let from = prepaid_host::outcome::sha256_hex(&changed);
    let to = prepaid_host::outcome::sha256_hex(&component_bytes());
    // Wallets open on the changed rule, which the platform trusts beside today's; today's
    // would give alice less at a refund.
    let server = Server::start_with(
        |ledger| {
            let mut trust = ledger.trust().unwrap().clone();
            trust.components.push(from.clone());
            let ledger = ledger.with_trust(trust);
            ledger.install(&changed).unwrap();
            two_sessions_used(&ledger, "w1");
            ledger
        },
        |service| service,
    );
    let event = json!({"type": "migrate", "from": from, "to": to});
    let migration = signed("w1", "m1", "city", event.clone());
    let path = "/v1/wallets/w1/migration";
    assert_eq!(server.post(path, Some(GYM), &migration).0, StatusCode::FORBIDDEN);
    let (status, body) = server.post(path, Some(REGULATOR), &migration);
    assert_eq!(
        (status, body["waiting_for"].as_str()),
        (StatusCode::ACCEPTED, Some("consent")),
        "{body}"
    );

    let alice = sign_in(&server, "alice");
    let (status, mine) = server.get("/v1/consumer/wallets", Some(&alice));
    assert_eq!(status, StatusCode::OK);
    let waiting = &mine["wallets"][0]["migration"];
    assert_eq!(waiting["event"]["signature"], json!(migration.signature));
    let refund = |terms: &str| waiting["plan"][terms]["paths"]["refund_now"]["consumer"].clone();
    assert_eq!((refund("old"), refund("new")), (json!("800.00"), json!("760.00")));
    let (_, notices) = server.get("/v1/notices", Some(&alice));
    assert!(
        notices["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|notice| notice["kind"] == "migration_awaits_consent"),
        "{notices}"
    );
    assert_eq!(
        server.get(path, Some(&sign_in(&server, "bob"))).0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(server.get(path, Some(AUDITOR)).0, StatusCode::OK);

    let consent = |signer: &str| json!({"consent": signed("w1", "m1", signer, event.clone()).signature});
    let consenting = "/v1/wallets/w1/migration/consent";
    assert_eq!(
        server.post(consenting, Some(GYM), &consent("gym")).0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = server.post(consenting, Some(&alice), &consent("gym"));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("migration_refused"))
    );
    let (status, body) = server.post(consenting, Some(&alice), &consent("alice"));
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let (_, wallet) = server.get("/v1/wallets/w1", Some(OPERATOR));
    assert_eq!(wallet["code_hash"].as_str(), Some(to.as_str()));
    let (status, body) = server.get(path, Some(OPERATOR));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_waiting_migration"))
    );
}

#[test]
fn an_operator_key_cannot_forge_a_release() {
    let server = Server::start();
    let events = events();
    for raw in &events[..2] {
        assert_eq!(server.submit(raw, OPERATOR).0, StatusCode::CREATED);
    }
    // Gym's request r2 and an authorization of it signed by gym, not the consumer, sent
    // with the operator's key; then the same authorization without any signature. Neither
    // comes from the consumer, so neither is even recorded.
    assert_eq!(server.submit(&events[3], OPERATOR).0, StatusCode::CREATED);
    let (status, forged) = server.submit(&events[4], OPERATOR);
    assert_eq!(
        (status, forged["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_signature")),
        "{forged}"
    );
    let mut unsigned = events[4].clone();
    unsigned.id = "unsigned".into();
    unsigned.signature = None;
    let (status, unsigned) = server.submit(&unsigned, OPERATOR);
    assert_eq!(
        (status, unsigned["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_signature"))
    );
    assert_eq!(server.entries("w1"), 3);

    let (_, wallet) = server.get("/v1/wallets/w1", Some(OPERATOR));
    assert_eq!(wallet["view"]["released"], "0.00");
    let (_, pending) = server.get("/v1/outbox", Some(OPERATOR));
    assert_eq!(pending["effects"], json!([]));
}

#[test]
fn bad_requests_get_json_errors_and_change_nothing() {
    let server = Server::start();
    let events = events();
    assert_eq!(server.submit(&events[0], OPERATOR).0, StatusCode::CREATED);
    let events_path = "/v1/wallets/w1/events";
    let cases: Vec<(Option<String>, StatusCode, &str)> = vec![
        (
            Some("x".repeat(MAX_BODY_BYTES + 1)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (Some("{not json".into()), StatusCode::BAD_REQUEST, "bad_request"),
        (
            Some(json!({"wallet": "w1"}).to_string()),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Some({
                let mut raw = serde_json::to_value(&events[1]).unwrap();
                raw["unexpected"] = json!(1);
                raw.to_string()
            }),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Some({
                let mut raw = events[1].untimed();
                raw.signature = Some("not hex".into());
                serde_json::to_string(&raw).unwrap()
            }),
            StatusCode::BAD_REQUEST,
            "bad_envelope",
        ),
        (
            Some(serde_json::to_string(&events[1]).unwrap()),
            StatusCode::BAD_REQUEST,
            "client_time",
        ),
        (
            Some({
                let mut raw = events[1].clone();
                raw.wallet = "w2".into();
                serde_json::to_string(&raw).unwrap()
            }),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (None, StatusCode::BAD_REQUEST, "bad_request"),
    ];
    for (body, status, code) in cases {
        let (got, error) = server.send(reqwest::Method::POST, events_path, Some(OPERATOR), body);
        assert_eq!((got, error["error"]["code"].as_str()), (status, Some(code)), "{error}");
        assert!(error["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()));
    }
    let (status, error) = server.post("/v1/wallets", Some(OPERATOR), &events[1]);
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    for (query, status) in [
        ("?limit=0", StatusCode::BAD_REQUEST),
        ("?limit=x", StatusCode::BAD_REQUEST),
        ("?limit=5", StatusCode::OK),
    ] {
        assert_eq!(
            server.get(&format!("/v1/outbox{query}"), Some(OPERATOR)).0,
            status,
            "{query}"
        );
    }
    let (status, _) = server.post("/v1/outbox/claim", Some(OPERATOR), &json!({"lease_seconds": 0}));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(server.entries("w1"), 1, "nothing was recorded");
}

#[test]
fn health_and_metrics_answer_without_a_key() {
    let server = Server::start();
    let (status, health) = server.get("/health", None);
    assert_eq!(
        (status, health["status"].as_str(), health["store"].as_str()),
        (StatusCode::OK, Some("ok"), Some("sqlite"))
    );
    assert_eq!(server.submit(&events()[0], OPERATOR).0, StatusCode::CREATED);
    let (status, metrics) = server.get("/metrics", None);
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains(r#"prepaid_events_total{result="accepted"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"prepaid_http_requests_total{method="POST",route="/v1/wallets",status="201"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("prepaid_http_request_seconds_bucket"), "{metrics}");
}

/// The attack of "Nobody but the consumer" (2): a merchant names its own key as regulator,
/// approves its own terms (a price of 50,000, supervised_share 1, no cooling-off) and opens
/// a wallet, to be paid at once. The platform's trust file lists the city only: the open is
/// refused as `untrusted_regulator`, and nothing is recorded.
#[test]
fn a_merchant_cannot_approve_its_own_terms() {
    let server = Server::start();
    let steps = r#"{"name": "self-approved", "steps": [
        {"at": "2026-01-05T09:00:00Z", "wallet": "w9", "by": "alice",
         "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "gym",
                   "product": {"kind": "sessions", "sessions": 10, "price": "50000.00", "list_price": "5000.00"},
                   "policy": {"cooling_off_days": 0, "deemed_confirm_days": 0, "supervised_share": 1}}}]}"#;
    let open = &scenario_events(steps)[0];
    let (status, body) = server.submit(open, GYM);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "untrusted_regulator", "{body}");
    assert_eq!(server.entries("w9"), 0, "nothing is recorded");
    let (status, _) = server.get("/v1/wallets/w9", Some(OPERATOR));
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same terms approved by the city are a normal open.
    let (status, body) = server.submit(&events()[0], OPERATOR);
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The attacks of "Nobody but the consumer" (5), over HTTP: merchant spa sends its own
/// `open` (naming itself) to gym's existing wallet, which would be journaled there; gym posts
/// an unsigned event under the id alice's refund will use, which would make the refund
/// fail as `event_id_reused`. Both are refused before the ledger and record nothing; and a
/// merchant asking about a wallet not its own hears the same whether or not it exists.
#[test]
fn a_merchant_key_stays_inside_its_own_wallets_and_requests() {
    let server = Server::start();
    let events = events();
    assert_eq!(server.submit(&events[0], OPERATOR).0, StatusCode::CREATED);

    let spa_open = &scenario_events(
        r#"{"name": "spa's open", "steps": [
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "id": "spa-open", "by": "bob",
             "event": {"type": "open", "consumer": "bob", "merchant": "spa", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}}]}"#,
    )[0];
    let (status, refused) = server.submit(spa_open, SPA);
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(server.entries("w1"), 1, "nothing is journaled in gym's wallet");

    // Gym squats the id of alice's coming refund with an unsigned event of its own.
    let refund = &scenario_events(
        r#"{"name": "refund", "steps": [
            {"at": "2026-01-08T09:00:00Z", "wallet": "w1", "id": "refund-1", "by": "alice", "event": {"type": "refund"}}]}"#,
    )[0];
    let mut squat = refund.clone();
    squat.signature = None;
    let (status, _) = server.submit(&squat, GYM);
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut tick = squat.clone();
    tick.event = json!({"type": "tick"});
    assert_eq!(server.submit(&tick, GYM).0, StatusCode::FORBIDDEN);
    // Nor can anyone else: an operator's (or a leaked key's) unsigned squat is refused as
    // not coming from a party of the wallet, and takes no id.
    let (status, body) = server.submit(&squat, OPERATOR);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_signature")),
        "{body}"
    );
    assert_eq!(server.entries("w1"), 1);
    let (status, body) = server.submit(refund, OPERATOR);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["ok"], true, "{body}");

    // Another merchant's wallet and no wallet at all look the same to spa.
    for path in [
        "/v1/wallets/w1",
        "/v1/wallets/w1/journal",
        "/v1/wallets/w1/verify",
        "/v1/wallets/w1/proof",
    ] {
        let theirs = server.get(path, Some(SPA));
        let nobodys = server.get(&path.replace("w1", "w404"), Some(SPA));
        assert_eq!(theirs, nobodys, "{path}");
        assert_eq!(theirs.0, StatusCode::FORBIDDEN);
    }
    let mut request = events[1].clone();
    request.wallet = "w404".into();
    assert_eq!(server.submit(&request, SPA), server.submit(&events[1], SPA));
}

/// The attacks of "Nobody but the consumer" (1), over HTTP: time was the caller's. A
/// membership opened today paid the merchant a year on a `tick` dated 400 days ahead; a
/// backdated or postdated event did the same. Now the service stamps every event with its
/// own clock, refuses one that names its time, and takes `tick` from nobody, the operator
/// included: it ticks due wallets itself.
#[test]
fn the_platform_owns_the_clock() {
    let server = Server::start();
    let membership = &scenario_events(
        r#"{"name": "membership", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "m1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "membership", "price": "3650.00", "term_days": 365},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2027-02-09T09:00:00Z", "wallet": "m1", "id": "far-future", "by": null, "event": {"type": "tick"}}]}"#,
    );
    // Backdated a year: refused, nothing recorded.
    let (status, body) = server.submit_as_is(&membership[0], GYM);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("client_time")),
        "{body}"
    );
    assert_eq!(server.entries("m1"), 0);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (status, body) = server.submit(&membership[0], GYM);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, journal) = server.get("/v1/wallets/m1/journal", Some(AUDITOR));
    let at = prepaid_host::envelope::timestamp(journal["entries"][0]["at"].as_str().unwrap()).unwrap();
    assert!(
        (before..before + 60).contains(&at),
        "stamped with the host's clock: {at}, now {before}"
    );
    // A tick dated 400 days ahead, with or without its date, from the merchant or the
    // operator: refused; nothing released.
    for key in [GYM, OPERATOR] {
        for tick in [membership[1].clone(), membership[1].untimed()] {
            let (status, body) = server.submit_as_is(&tick, key);
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
                "{status} {body}"
            );
        }
    }
    let (status, body) = server.submit(&membership[1], OPERATOR);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("platform_only")),
        "{body}"
    );
    // Nor may anyone take the id of a coming tick, which would hold the wallet's time still.
    let mut squat = membership[1].untimed();
    squat.event = json!({"type": "refund"});
    squat.id = "tick-2026-12-01T00:00:00Z".into();
    let (status, body) = server.submit(&squat, OPERATOR);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("platform_only")),
        "{body}"
    );
    let (_, wallet) = server.get("/v1/wallets/m1", Some(AUDITOR));
    assert_eq!(wallet["view"]["released"], "0.00");
    assert_eq!(server.entries("m1"), 1);
    // The wallet says when it next needs the clock: the first day's end, a day from now.
    let due = prepaid_host::envelope::timestamp(wallet["view"]["next_due"].as_str().unwrap()).unwrap();
    assert_eq!(due, at + 86_400);
}

/// The attacks of "Nobody but the consumer" (3 and 4), over HTTP with the merchant's key:
/// requests piled up until the consumer's refund ran out of fuel, and a request recorded as
/// more than the consumer believed it authorized. The 65th pending request is refused
/// (`too_many_pending`), an authorization naming another quantity releases nothing
/// (`authorization_mismatch`), and the refund goes through, whole: inside the cooling-off
/// period requests she never authorized hold nothing back.
#[test]
fn a_merchant_key_can_neither_hold_the_refund_hostage_nor_inflate_an_authorization() {
    let server = Server::start();
    let mut steps = vec![json!({"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
        "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                  "product": {"kind": "sessions", "sessions": 100, "price": "10000.00", "list_price": "100.00"},
                  "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}})];
    for index in 0..65 {
        let id = format!("{index:x>64}");
        steps.push(json!({"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
                          "event": {"type": "request", "request": id, "units": 1}}));
    }
    let first = format!("{:x>64}", 0);
    steps.push(json!({"at": "2026-01-06T10:00:00Z", "wallet": "w1", "by": "alice",
                      "event": {"type": "authorize", "request": first, "units": 10}}));
    steps.push(json!({"at": "2026-01-06T10:00:00Z", "wallet": "w1", "by": "alice", "event": {"type": "refund"}}));
    let events = scenario_events(&json!({"name": "hostage", "steps": steps}).to_string());

    assert_eq!(server.submit(&events[0], OPERATOR).0, StatusCode::CREATED);
    for request in &events[1..65] {
        let (status, body) = server.submit(request, GYM);
        assert_eq!(
            (status, body["ok"].as_bool()),
            (StatusCode::CREATED, Some(true)),
            "{body}"
        );
    }
    let (_, one_more) = server.submit(&events[65], GYM);
    assert_eq!(one_more["error"]["code"], "too_many_pending", "{one_more}");
    let (_, inflated) = server.submit(&events[66], OPERATOR);
    assert_eq!(inflated["error"]["code"], "authorization_mismatch", "{inflated}");
    assert_eq!(inflated["effects"], json!([]));
    let (status, refund) = server.submit(&events[67], OPERATOR);
    assert_eq!(
        (status, refund["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{refund}"
    );
    // Inside the cooling-off period the 64 requests she never authorized hold nothing
    // back: everything comes back at once, and the wallet closes.
    let (_, wallet) = server.get("/v1/wallets/w1", Some(AUDITOR));
    assert_eq!(
        (
            wallet["view"]["frozen"].as_str(),
            wallet["view"]["refunded"].as_str(),
            wallet["view"]["status"].as_str()
        ),
        (Some("0.00"), Some("10000.00"), Some("closed"))
    );
}

/// A service that sells only approved listings, applies closures on no notice (so that a
/// test sees one applied) and ticks every second.
fn platform_server() -> Server {
    Server::start_with(
        |ledger| ledger.with_registry(0).unwrap().with_funding(Funding::Rail),
        |service| service.with_tick_every(std::time::Duration::from_secs(1)),
    )
}

fn key_of(name: &str) -> String {
    public_key(&dev_key(name)).to_string()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// gym's registration, as it posts it.
fn registration() -> Value {
    json!({"name": "Gym dental", "industry": "dental", "district": "Gusu", "licence": "91320508"})
}

/// gym's orthodontics listing, as it posts it.
fn orthodontics() -> Value {
    json!({"name": "Orthodontics", "category": "orthodontics",
           "product": {"kind": "plan", "stages": [{"name": "assessment", "amount": "2000.00"},
                                                  {"name": "appliance", "amount": "8000.00"}]},
           "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}})
}

/// alice's signed open of `wallet`, buying `listing` as the service gives it, `change`d
/// before she signs.
fn buy(listing: &Value, wallet: &str, change: impl FnOnce(&mut Value)) -> Envelope {
    let listing: prepaid_host::registry::Listing = serde_json::from_value(listing.clone()).unwrap();
    let mut event = listing.open_event(&key_of("alice")).unwrap();
    change(&mut event);
    signed(wallet, "open", "alice", event)
}

/// The open of `listing` as `wallet` that says alice paid, without the rail's report.
fn bought_without_the_rail(listing: &Value, wallet: &str) -> Envelope {
    buy(listing, wallet, |event| {
        event.as_object_mut().unwrap().remove("awaiting_funding");
    })
}

#[test]
fn every_platform_route_admits_exactly_its_roles() {
    let server = platform_server();
    // gym is registered and approved, and has a listing pending.
    assert_eq!(
        server.post("/v1/merchants", Some(GYM), &registration()).0,
        StatusCode::CREATED
    );
    let gym = key_of("gym");
    let approve = json!({"decision": "approve", "reason": "licence checked"});
    let review = format!("/v1/merchants/{gym}/review");
    assert_eq!(server.post(&review, Some(REGULATOR), &approve).0, StatusCode::CREATED);
    let (status, listed) = server.post("/v1/listings", Some(GYM), &orthodontics());
    assert_eq!(status, StatusCode::CREATED, "{listed}");
    let listing = listed["action"]["listing"].as_str().unwrap().to_owned();

    let name = |key: Option<&str>| key.unwrap_or("anonymous").split('-').next().unwrap().to_owned();
    // Each route, and who it admits: the others get 401 (no key) or 403. Admitted callers
    // send an empty body, which changes nothing, or gym's registration, which is theirs.
    let everyone = [
        None,
        Some(OPERATOR),
        Some(GYM),
        Some(SPA),
        Some(REGULATOR),
        Some(AUDITOR),
    ];
    let table: Vec<(&str, String, Value, Vec<Option<&str>>)> = vec![
        (
            "POST",
            "/v1/merchants".into(),
            json!({}),
            vec![Some(OPERATOR), Some(GYM), Some(SPA)],
        ),
        (
            "GET",
            "/v1/merchants".into(),
            Value::Null,
            vec![Some(OPERATOR), Some(GYM), Some(SPA), Some(REGULATOR), Some(AUDITOR)],
        ),
        (
            "GET",
            format!("/v1/merchants/{gym}"),
            Value::Null,
            vec![Some(OPERATOR), Some(GYM), Some(REGULATOR), Some(AUDITOR)],
        ),
        ("POST", review.clone(), json!({}), vec![Some(REGULATOR)]),
        (
            "POST",
            format!("/v1/merchants/{gym}/closure"),
            json!({}),
            vec![Some(REGULATOR)],
        ),
        ("POST", "/v1/listings".into(), json!({}), vec![Some(GYM), Some(SPA)]),
        ("GET", "/v1/listings".into(), Value::Null, everyone.to_vec()),
        ("GET", format!("/v1/listings/{listing}"), Value::Null, everyone.to_vec()),
        (
            "POST",
            format!("/v1/listings/{listing}/review"),
            json!({}),
            vec![Some(REGULATOR)],
        ),
        (
            "POST",
            format!("/v1/listings/{listing}/revoke"),
            json!({}),
            vec![Some(GYM), Some(REGULATOR)],
        ),
        (
            "GET",
            "/v1/registry".into(),
            Value::Null,
            vec![Some(OPERATOR), Some(REGULATOR), Some(AUDITOR)],
        ),
        (
            "GET",
            "/v1/stats".into(),
            Value::Null,
            vec![Some(REGULATOR), Some(AUDITOR)],
        ),
        (
            "GET",
            "/v1/disputes".into(),
            Value::Null,
            vec![Some(REGULATOR), Some(AUDITOR)],
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, admitted) in &table {
        for caller in everyone {
            let (status, answer) = match *method {
                "GET" => server.get(path, caller),
                _ => server.post(path, caller, body),
            };
            let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
            if refused == admitted.contains(&caller) {
                wrong.push(format!("{method} {path} by {}: {status} {answer}", name(caller)));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The pending listing is gym's to see, not spa's nor the public's.
    let (status, _) = server.get(&format!("/v1/listings/{listing}"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, public) = server.get("/v1/listings", Some(SPA));
    assert_eq!(public["listings"], json!([]));
    let (_, own) = server.get("/v1/listings", Some(GYM));
    assert_eq!(own["listings"][0]["id"], listing.as_str());
}

/// The regulator's path, through the API: gym registers and is approved, lists
/// orthodontics, the city approves the listing with its signature; alice buys it; the
/// statistics show it; the city closes gym on no notice; sales stop at once and on the date
/// the platform refunds alice in full. Every abuse on the way is refused and records
/// nothing.
#[test]
fn a_clinic_is_registered_reviewed_listed_sold_and_closed_through_the_api() {
    let server = platform_server();
    let gym = key_of("gym");
    assert_eq!(
        server.post("/v1/merchants", Some(GYM), &registration()).0,
        StatusCode::CREATED
    );
    // Not approved yet: it may not list.
    let (status, body) = server.post("/v1/listings", Some(GYM), &orthodontics());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("wrong_status"))
    );
    let (_, pending) = server.get("/v1/merchants?status=pending", Some(REGULATOR));
    assert_eq!(pending["merchants"][0]["merchant"], gym.as_str());
    let review = json!({"decision": "approve", "reason": "licence checked"});
    assert_eq!(
        server
            .post(&format!("/v1/merchants/{gym}/review"), Some(REGULATOR), &review)
            .0,
        StatusCode::CREATED
    );
    let (_, listed) = server.post("/v1/listings", Some(GYM), &orthodontics());
    let id = listed["action"]["listing"].as_str().unwrap().to_owned();

    // The city approves it with its own signature; spa's signature is not the city's.
    let (_, listing) = server.get(&format!("/v1/listings/{id}"), Some(REGULATOR));
    let parsed: prepaid_host::registry::Listing = serde_json::from_value(listing).unwrap();
    let until = unix_now() + 86_400;
    for (signer, code) in [("spa", "untrusted_regulator"), ("city", "")] {
        let approval = parsed.approve(&dev_key(signer), until).unwrap();
        let (status, body) = server.post(
            &format!("/v1/listings/{id}/review"),
            Some(REGULATOR),
            &json!({"decision": "approve", "reason": "terms within the rules", "approval": approval}),
        );
        match code {
            "" => assert_eq!(status, StatusCode::CREATED, "{body}"),
            code => assert_eq!(body["error"]["code"], code, "{body}"),
        }
    }
    let (status, listing) = server.get(&format!("/v1/listings/{id}"), None);
    assert_eq!((status, listing["status"].as_str()), (StatusCode::OK, Some("approved")));

    // alice buys it as listed; a cheaper copy, or an open naming no listing, is refused.
    let bought = buy(&listing, "w1", |_| {});
    let (status, body) = server.submit(&bought, OPERATOR);
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let (_, body) = server.submit(&funding_of(&bought), OPERATOR);
    assert_eq!(body["ok"], true, "{body}");
    let cheaper = buy(&listing, "w2", |event| {
        event["product"]["stages"][1]["amount"] = json!("1.00")
    });
    let mut unlisted = events()[0].untimed();
    unlisted.wallet = "w4".into();
    unlisted.event["awaiting_funding"] = json!(true);
    unlisted.sign(&dev_key("alice")).unwrap();
    for (open, code) in [(&cheaper, "listing_mismatch"), (&unlisted, "unlisted")] {
        let (status, body) = server.submit(open, OPERATOR);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
        assert_eq!(server.entries(&open.wallet), 0);
    }

    // The statistics, for the regulator and auditors only.
    let (status, stats) = server.get("/v1/stats?group_by=industry", Some(REGULATOR));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats["lines"],
        json!([{"group": "dental", "paid": "10000.00", "frozen": "10000.00", "released": "0.00",
                "refunded": "0.00", "wallets": 1, "requests": 0, "refunds": 0, "disputes": 0,
                "pending_requests": 0, "open_disputes": 0, "unsupervised": "0.00", "owed": "0.00",
                "collected": "0.00", "claims_outstanding": "0.00", "exposure": "0.00"}])
    );
    let (status, body) = server.get("/v1/stats?group_by=planet", Some(REGULATOR));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );

    // The city sets a threshold the clinic is over: the alert is raised, and Prometheus
    // sees it with what is frozen.
    let (status, body) = server.post("/v1/alerts/rules", Some(REGULATOR), &json!({"frozen_over": "5000.00"}));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, raised) = server.get("/v1/alerts", Some(REGULATOR));
    assert_eq!(
        (
            raised["alerts"][0]["kind"].as_str(),
            raised["alerts"][0]["value"].as_str()
        ),
        (Some("frozen_over"), Some("10000.00")),
        "{raised}"
    );
    let (_, metrics) = server.get("/metrics", None);
    let metrics = metrics.as_str().unwrap().to_owned();
    for line in [
        "prepaid_alerts{kind=\"frozen_over\"} 1",
        "prepaid_frozen_fen{industry=\"dental\"} 1000000",
    ] {
        assert!(metrics.lines().any(|shown| shown == line), "{line} not in:\n{metrics}");
    }

    // The city closes gym: sales stop now; on the date alice gets everything back.
    let effective = unix_now() + 2;
    let closure = prepaid_host::registry::MerchantClosure::sign(&dev_key("city"), &gym, effective).unwrap();
    let (status, body) = server.post(
        &format!("/v1/merchants/{gym}/closure"),
        Some(REGULATOR),
        &json!({"reason": "relocating", "closure": closure}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.submit(&buy(&listing, "w3", |_| {}), OPERATOR);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("merchant_not_selling"))
    );
    let started = std::time::Instant::now();
    loop {
        let (_, merchant) = server.get(&format!("/v1/merchants/{gym}"), Some(AUDITOR));
        if merchant["status"] == "closed" {
            assert_eq!(merchant["closure"]["report"]["closed"], 1, "{merchant}");
            assert_eq!(merchant["closure"]["report"]["refunded"], "10000.00", "{merchant}");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "the closure was not applied: {merchant}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, wallet) = server.get("/v1/wallets/w1", Some(AUDITOR));
    assert_eq!(
        (wallet["view"]["status"].as_str(), wallet["view"]["refunded"].as_str()),
        (Some("closed"), Some("10000.00"))
    );
    let (_, stats) = server.get("/v1/stats", Some(AUDITOR));
    assert_eq!(
        (
            stats["lines"][0]["refunded"].as_str(),
            stats["lines"][0]["frozen"].as_str()
        ),
        (Some("10000.00"), Some("0.00"))
    );

    // Every change is on the record, chained, with who made it.
    let (_, log) = server.get("/v1/registry", Some(AUDITOR));
    let records = log["records"].as_array().unwrap();
    let made: Vec<(&str, &str)> = records
        .iter()
        .map(|record| {
            (
                record["action"]["action"].as_str().unwrap(),
                record["by"]["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        made,
        [
            ("register_merchant", "merchant"),
            ("review_merchant", "regulator"),
            ("submit_listing", "merchant"),
            ("review_listing", "regulator"),
            ("configure_alerts", "regulator"),
            ("close_merchant", "regulator"),
            ("closure_applied", "platform"),
        ]
    );
    for pair in records.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
}

/// gym registered and approved, its orthodontics listed and approved by the city until a
/// day from now: the listing as the service serves it.
fn approved_orthodontics(server: &Server) -> Value {
    let gym = key_of("gym");
    server.post("/v1/merchants", Some(GYM), &registration());
    let review = json!({"decision": "approve", "reason": "licence checked"});
    server.post(&format!("/v1/merchants/{gym}/review"), Some(REGULATOR), &review);
    let (_, listed) = server.post("/v1/listings", Some(GYM), &orthodontics());
    let id = listed["action"]["listing"].as_str().unwrap().to_owned();
    let (_, listing) = server.get(&format!("/v1/listings/{id}"), Some(REGULATOR));
    let parsed: prepaid_host::registry::Listing = serde_json::from_value(listing).unwrap();
    let approval = parsed.approve(&dev_key("city"), unix_now() + 86_400).unwrap();
    let (status, body) = server.post(
        &format!("/v1/listings/{id}/review"),
        Some(REGULATOR),
        &json!({"decision": "approve", "reason": "terms within the rules", "approval": approval}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    server.get(&format!("/v1/listings/{id}"), None).1
}

/// `name`'s token, signed in with their wallet key alone.
fn sign_in(server: &Server, name: &str) -> String {
    use ed25519_dalek::Signer as _;
    let (status, challenge) = server.post("/v1/consumer/challenge", None, &json!({"consumer": key_of(name)}));
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let challenge = challenge["challenge"].as_str().unwrap();
    let signature = dev_key(name).sign(format!("prepaid-login/v1\n{challenge}").as_bytes());
    let (status, token) = server.post(
        "/v1/consumer/token",
        None,
        &json!({"challenge": challenge, "signature": hex::encode(signature.to_bytes())}),
    );
    assert_eq!(status, StatusCode::OK, "{token}");
    token["token"].as_str().unwrap().to_owned()
}

/// Issue 15's consumer path, after a purchase at the platform's checkout: alice reads every pending request in full, authorizes, asks what a refund would return
/// and refunds, through the API with her wallet key alone (no API key); and her token
/// reaches nobody else's wallet, nor any event not hers.
#[test]
fn a_consumer_goes_from_purchase_to_refund_with_their_own_key() {
    let server = platform_server();
    let listing = approved_orthodontics(&server);
    let alice = sign_in(&server, "alice");
    let bob = sign_in(&server, "bob");

    // Signing in takes the wallet key's signature of this platform's challenge.
    let (_, challenge) = server.post("/v1/consumer/challenge", None, &json!({"consumer": key_of("alice")}));
    let challenge = challenge["challenge"].as_str().unwrap();
    for (body, status) in [
        (
            json!({"challenge": challenge, "signature": "00".repeat(64)}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            json!({"challenge": challenge.replacen('.', "1.", 1), "signature": "00".repeat(64)}),
            StatusCode::UNAUTHORIZED,
        ),
        (json!({"challenge": challenge}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(server.post("/v1/consumer/token", None, &body).0, status, "{body}");
    }
    let (status, body) = server.post("/v1/consumer/challenge", None, &json!({"consumer": "alice"}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sign_in_refused"))
    );
    let forged = alice.replacen(&key_of("alice")[..4], "0000", 1);
    assert_eq!(server.get("/v1/wallets/c1", Some(&forged)).0, StatusCode::UNAUTHORIZED);

    // The purchase at the platform's checkout: the platform opens the wallet she signed,
    // and its payment adapter reports her payment. No key may open one that says the
    // price is paid in, not even an operator's: money comes only from the rail.
    let paid_in = bought_without_the_rail(&listing, "c1");
    for key in [bob.as_str(), alice.as_str(), GYM, OPERATOR] {
        let (status, body) = server.submit(&paid_in, key);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    assert_eq!(server.entries("c1"), 0);
    let open = buy(&listing, "c1", |_| {});
    assert_eq!(server.submit(&open, &bob).0, StatusCode::FORBIDDEN);
    let (status, body) = server.submit(&open, OPERATOR);
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let (_, body) = server.submit(&funding_of(&open), OPERATOR);
    assert_eq!(body["ok"], true, "{body}");
    // Her wallets, listed for her token alone.
    let (_, hers) = server.get("/v1/consumer/wallets", Some(&alice));
    assert_eq!(hers["wallets"][0]["wallet"], "c1", "{hers}");
    assert_eq!(hers["wallets"][0]["view"]["paid"], "10000.00", "{hers}");
    let (_, his) = server.get("/v1/consumer/wallets", Some(&bob));
    assert_eq!(his["wallets"], json!([]));
    assert_eq!(
        server.get("/v1/consumer/wallets", Some(OPERATOR)).0,
        StatusCode::FORBIDDEN
    );

    // gym asks for the assessment; alice sees it in full before she signs.
    let request = signed(
        "c1",
        "s0",
        "gym",
        json!({"type": "request", "request": "s0", "stage": 0}),
    );
    assert_eq!(
        server.submit(&request, &alice).0,
        StatusCode::FORBIDDEN,
        "a merchant's event"
    );
    assert_eq!(server.submit(&request, GYM).0, StatusCode::CREATED);
    let (status, wallet) = server.get("/v1/wallets/c1", Some(&alice));
    assert_eq!(status, StatusCode::OK);
    let pending = &wallet["details"]["requests"][0];
    assert_eq!(
        (
            pending["request"].as_str(),
            pending["stage_name"].as_str(),
            pending["release"].as_str()
        ),
        (Some("s0"), Some("assessment"), Some("2000.00")),
        "{wallet}"
    );
    assert!(pending["requested_at"].is_string() && wallet["details"]["cooling_off_ends"].is_string());
    assert_eq!(wallet["details"]["stages_left"], json!(["appliance"]));
    let (status, notices) = server.get("/v1/notices", Some(&alice));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(notices["notices"][0]["kind"], "request_waiting", "{notices}");
    assert_eq!(notices["notices"][0]["amount"], "2000.00", "{notices}");
    let (_, gyms) = server.get("/v1/notices", Some(GYM));
    assert!(gyms["notices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|notice| notice["kind"] != "request_waiting"));
    assert_eq!(server.get("/v1/notices", Some(REGULATOR)).0, StatusCode::FORBIDDEN);
    assert_eq!(
        server.get("/v1/notices?within_days=400", Some(&alice)).0,
        StatusCode::BAD_REQUEST
    );
    for path in ["/v1/wallets/c1", "/v1/wallets/c1/statement", "/v1/wallets/c1/journal"] {
        assert_eq!(server.get(path, Some(&bob)).0, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(server.get("/v1/outbox", Some(&alice)).0, StatusCode::FORBIDDEN);
    assert_eq!(server.get("/v1/stats", Some(&alice)).0, StatusCode::FORBIDDEN);

    let authorize = signed(
        "c1",
        "a0",
        "alice",
        json!({"type": "authorize", "request": "s0", "stage": 0}),
    );
    assert_eq!(server.submit(&authorize, &bob).0, StatusCode::FORBIDDEN);
    let (_, authorized) = server.submit(&authorize, &alice);
    assert_eq!(authorized["effects"][0]["amount"], "2000.00", "{authorized}");

    // A request made in error, withdrawn by gym; then what a refund would return, computed
    // and not journaled, and the refund itself.
    let wrong = signed(
        "c1",
        "s1",
        "gym",
        json!({"type": "request", "request": "s1", "stage": 1}),
    );
    assert_eq!(server.submit(&wrong, GYM).0, StatusCode::CREATED);
    let withdraw = signed("c1", "w1", "gym", json!({"type": "withdraw", "request": "s1"}));
    assert_eq!(server.submit(&withdraw, &alice).0, StatusCode::FORBIDDEN);
    let (_, withdrawn) = server.submit(&withdraw, GYM);
    assert_eq!(withdrawn["ok"], true, "{withdrawn}");
    let entries = server.entries("c1");
    let refund = signed("c1", "refund", "alice", json!({"type": "refund"}));
    let (status, preview) = server.post("/v1/wallets/c1/dry-run", Some(&alice), &refund);
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (
            preview["verdict"]["effects"][0]["amount"].as_str(),
            preview["view"]["status"].as_str()
        ),
        (Some("8000.00"), Some("closed")),
        "{preview}"
    );
    assert_eq!(server.entries("c1"), entries, "a dry run journals nothing");
    assert_eq!(
        server.post("/v1/wallets/c1/dry-run", Some(&bob), &refund).0,
        StatusCode::FORBIDDEN
    );
    let (_, refunded) = server.submit(&refund, &alice);
    assert_eq!(refunded["effects"], preview["verdict"]["effects"], "{refunded}");

    // The statement: every movement with its signed receipt.
    let (_, statement) = server.get("/v1/wallets/c1/statement", Some(&alice));
    let lines = statement["statement"].as_array().unwrap();
    assert_eq!(lines.len(), server.entries("c1"));
    let last = lines.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["effects"][0]["amount"].as_str()),
        (Some("refund"), Some("8000.00"))
    );
    assert!(
        lines
            .iter()
            .all(|line| line["receipt"].as_str().is_some_and(|note| note.contains("prepaid"))),
        "{statement}"
    );
}

/// Issue 15's "done when": with her token alone alice buys (a wallet awaiting funding; one
/// not saying so is refused, since her token cannot say money was paid), authorizes and
/// refunds. Nothing can be asked of the wallet until the payment adapter's `funded` (an
/// operator key's; not hers, not the merchant's, not the regulator's).
#[test]
fn a_consumer_opens_her_own_wallet_which_runs_once_the_rail_funds_it() {
    let server = platform_server();
    let listing = approved_orthodontics(&server);
    let alice = sign_in(&server, "alice");

    let paid_in = bought_without_the_rail(&listing, "c2");
    let (_, refused) = server.submit(&paid_in, &alice);
    assert_eq!(refused["error"]["code"], "unfunded_open", "{refused}");
    let open = buy(&listing, "c2", |_| {});
    let (status, opened) = server.submit(&open, &alice);
    assert_eq!(
        (status, opened["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{opened}"
    );
    let (_, wallet) = server.get("/v1/wallets/c2", Some(&alice));
    assert_eq!(
        (
            wallet["view"]["paid"].as_str(),
            wallet["details"]["awaiting_funding"].as_bool()
        ),
        (Some("0.00"), Some(true)),
        "{wallet}"
    );

    let request = signed(
        "c2",
        "s0",
        "gym",
        json!({"type": "request", "request": "s0", "stage": 0}),
    );
    let (_, refused) = server.submit(&request, GYM);
    assert_eq!(refused["error"]["code"], "not_funded", "{refused}");
    // The rail's report of a stranger's payment lands nowhere: the wallet is alice's.
    let mut strangers = funding_of(&open);
    strangers.event["payer"] = json!(key_of("bob"));
    strangers.id = "funded-by-bob".into();
    let (_, refused) = server.submit(&strangers, OPERATOR);
    assert_eq!(refused["error"]["code"], "bad_funding", "{refused}");
    let funded = funding_of(&open);
    for key in [alice.as_str(), GYM, REGULATOR] {
        assert_eq!(server.submit(&funded, key).0, StatusCode::FORBIDDEN, "{key}");
    }
    let (_, applied) = server.submit(&funded, OPERATOR);
    assert_eq!(applied["ok"], true, "{applied}");
    let (_, wallet) = server.get("/v1/wallets/c2", Some(&alice));
    assert_eq!(
        (
            wallet["view"]["paid"].as_str(),
            wallet["details"]["rail_reference"].as_str()
        ),
        (Some("10000.00"), Some("RAIL-c2")),
        "{wallet}"
    );
    let request = signed(
        "c2",
        "s0-again",
        "gym",
        json!({"type": "request", "request": "s0", "stage": 0}),
    );
    let (_, asked) = server.submit(&request, GYM);
    assert_eq!(asked["ok"], true, "{asked}");
    // From here to her refund, her token alone: she authorizes the assessment and leaves.
    let authorize = signed(
        "c2",
        "a0",
        "alice",
        json!({"type": "authorize", "request": "s0", "stage": 0}),
    );
    let (_, authorized) = server.submit(&authorize, &alice);
    assert_eq!(authorized["effects"][0]["amount"], "2000.00", "{authorized}");
    let refund = signed("c2", "refund", "alice", json!({"type": "refund"}));
    let (_, refunded) = server.submit(&refund, &alice);
    assert_eq!(
        (
            refunded["effects"][0]["kind"].as_str(),
            refunded["effects"][0]["amount"].as_str()
        ),
        (Some("refund"), Some("8000.00")),
        "{refunded}"
    );
    let (_, stats) = server.get("/v1/stats", Some(REGULATOR));
    assert_eq!(stats["lines"][0]["paid"], "10000.00", "{stats}");
}

/// What a test receiver of webhooks got: each request's delivery id, signature, body, and
/// the status it answered.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String, u16)>>>;

/// A receiver on loopback that answers its first request 500 and the rest 200, keeping
/// what it got: its URL.
fn webhook_receiver(runtime: &tokio::runtime::Runtime, received: Received) -> String {
    use axum::http::HeaderMap as Headers;
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(received): axum::extract::State<Received>, headers: Headers, body: String| async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let mut received = received.lock().unwrap();
                    let status = if received.is_empty() { 500 } else { 200 };
                    received.push((header("x-prepaid-delivery"), header("x-prepaid-signature"), body, status));
                    axum::http::StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state(received);
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });
    url
}

/// Webhooks: the platform registers one for alice's notices; the request waiting on her
/// is posted, signed by the platform's key, the failed first attempt tried again after
/// the backoff, and once answered 2xx never posted again; the delivery log says so. Only
/// the operator registers or reads webhooks, and a bad address is refused.
#[test]
fn webhooks_deliver_signed_notices_at_least_once_with_backoff() {
    let server = Server::start_with(
        |ledger| ledger.with_registry(0).unwrap(),
        |service| {
            service
                .with_tick_every(std::time::Duration::from_secs(1))
                .with_webhook_backoff(std::time::Duration::from_secs(1))
        },
    );
    let received = Received::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = webhook_receiver(&runtime, received.clone());

    let registration = json!({"url": url, "consumer": key_of("alice"), "within_days": 7});
    for key in [GYM, REGULATOR, AUDITOR] {
        assert_eq!(
            server.post("/v1/webhooks", Some(key), &registration).0,
            StatusCode::FORBIDDEN
        );
    }
    for bad in [
        json!({"url": "ftp://example/hook", "consumer": key_of("alice")}),
        json!({"url": url, "consumer": key_of("alice"), "merchant": key_of("gym")}),
        json!({"url": url}),
    ] {
        let (status, body) = server.post("/v1/webhooks", Some(OPERATOR), &bad);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_registry_entry")),
            "{bad}"
        );
    }
    let (status, registered) = server.post("/v1/webhooks", Some(OPERATOR), &registration);
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let hook = registered["action"]["webhook"].as_str().unwrap().to_owned();
    let (_, listed) = server.get("/v1/webhooks", Some(OPERATOR));
    assert_eq!(listed["webhooks"][0]["webhook"], hook.as_str());

    let listing = approved_orthodontics(&server);
    let bought = buy(&listing, "c1", |_| {});
    assert_eq!(server.submit(&bought, OPERATOR).0, StatusCode::CREATED);
    assert_eq!(server.submit(&funding_of(&bought), OPERATOR).0, StatusCode::CREATED);
    let request = signed(
        "c1",
        "s0",
        "gym",
        json!({"type": "request", "request": "s0", "stage": 0}),
    );
    assert_eq!(server.submit(&request, GYM).0, StatusCode::CREATED);

    let waiting = |received: &[(String, String, String, u16)]| -> Vec<(String, String, String, u16)> {
        received
            .iter()
            .filter(|(id, ..)| id.contains("/request_waiting/s0/"))
            .cloned()
            .collect()
    };
    let started = std::time::Instant::now();
    while !waiting(&received.lock().unwrap())
        .iter()
        .any(|(.., status)| *status == 200)
    {
        assert!(
            started.elapsed().as_secs() < 60,
            "no delivery succeeded: {:?}",
            received.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Two more rounds: a delivered notice is not posted again.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let got = waiting(&received.lock().unwrap());
    let statuses: Vec<u16> = got.iter().map(|(.., status)| *status).collect();
    assert_eq!(statuses, [500, 200], "{got:?}");
    let platform = dev_key("platform").verifying_key();
    for (id, signature, body, _) in &got {
        assert_eq!(id, &got[0].0, "the same id on every attempt");
        assert!(prepaid_host::webhooks::verify(&platform, body, signature), "{body}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (body["id"].as_str(), body["notice"]["amount"].as_str()),
            (Some(id.as_str()), Some("2000.00"))
        );
    }

    let path = format!("/v1/webhooks/{hook}/deliveries");
    assert_eq!(server.get(&path, Some(REGULATOR)).0, StatusCode::FORBIDDEN);
    let (_, log) = server.get(&path, Some(OPERATOR));
    let entry = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|delivery| delivery["notice"] == got[0].0.as_str())
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(
        (entry["attempts"].as_u64(), entry["last_result"].as_str()),
        (Some(2), Some("200")),
        "{log}"
    );
    assert!(entry["delivered_at"].is_string(), "{log}");

    assert_eq!(
        server
            .post(&format!("/v1/webhooks/{hook}/remove"), Some(OPERATOR), &json!({}))
            .0,
        StatusCode::CREATED
    );
    let (status, body) = server.post(&format!("/v1/webhooks/{hook}/remove"), Some(OPERATOR), &json!({}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_webhook"))
    );
}

/// The pages' answers keep them to this origin: scripts and styles from the service only,
/// none inline, requests to the service only, never framed, no handle for an opener; and
/// every answer, the API's too, is read as the type it says and framed by no one.
#[test]
fn the_pages_are_served_under_a_policy_that_keeps_them_to_this_origin() {
    let server = Server::start();
    let header = |response: &reqwest::blocking::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    for page in ["/consumer", "/regulator", "/assets/common.js", "/assets/pages.css"] {
        let response = server.http.get(format!("{}{page}", server.url)).send().unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let policy = header(&response, "content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{page}: {policy}");
        }
        assert!(!policy.contains("unsafe"), "{page}: {policy}");
        assert_eq!(header(&response, "cross-origin-opener-policy"), "same-origin", "{page}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{page}");
    }
    for path in ["/health", "/v1/nowhere"] {
        let response = server.http.get(format!("{}{path}", server.url)).send().unwrap();
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header(&response, "content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
}

/// Who may see a wallet is read from the store's index of its parties, not from its
/// component: a wallet journaled before the index (its rows removed here, as a journal
/// from before them has none) is indexed as the service starts, and then its merchant
/// reads it and another merchant is told nothing, as for any wallet.
#[test]
fn a_wallet_journaled_before_its_parties_were_indexed_keeps_its_merchants_access() {
    let server = Server::start_with(
        |ledger| {
            assert!(ledger.submit(&events()[0].untimed()).unwrap().verdict.ok);
            let prepaid_host::StoreConfig::Sqlite(path) = ledger.config().clone() else {
                unreachable!("the service tests run on SQLite")
            };
            let legacy = rusqlite::Connection::open(path).unwrap();
            legacy.execute_batch("DELETE FROM sales; DELETE FROM holders").unwrap();
            assert_eq!(ledger.parties("w1").unwrap(), (None, None));
            ledger
        },
        |service| service,
    );
    for path in ["/v1/wallets/w1", "/v1/wallets/w1/journal"] {
        assert_eq!(server.get(path, Some(GYM)).0, StatusCode::OK, "{path}");
        assert_eq!(server.get(path, Some(SPA)).0, StatusCode::FORBIDDEN, "{path}");
    }
}

/// Disputes over the API, as each party and the regulator meet them. Gym may take its own
/// request alice left unanswered past the answer days to the regulator, but not another
/// merchant's wallet, nor rule on it; both parties' notices say a dispute is open; the
/// regulator's queue lists it with its ruling due, to the regulator and the auditor only;
/// alice answers with her own dispute, and the regulator's ruling empties the queue.
#[test]
fn disputes_reach_the_regulators_queue_and_both_parties() {
    // Opened and asked for in January: alice's answer days are long past.
    let server = Server::start_with(
        |ledger| {
            let ledger = ledger.with_clock(Clock::Scripted);
            for event in &events()[..2] {
                assert!(ledger.submit(event).unwrap().verdict.ok);
            }
            ledger.with_clock(Clock::System)
        },
        |service| service,
    );
    let gyms = signed(
        "w1",
        "gym-dispute",
        "gym",
        json!({"type": "dispute", "requests": ["r1"], "reason": "unanswered", "evidence": EVIDENCE}),
    );
    let mut spas = gyms.clone();
    spas.id = "spa-dispute".into();
    assert_eq!(server.submit(&spas, SPA).0, StatusCode::FORBIDDEN);
    let (status, body) = server.submit(&gyms, GYM);
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let ruling = |id: &str, outcome: &str| {
        signed(
            "w1",
            id,
            "city",
            json!({"type": "resolve", "outcome": outcome, "requests": ["r1"], "reason": "not_delivered"}),
        )
    };
    assert_eq!(
        server.submit(&ruling("gym-ruling", "release"), GYM).0,
        StatusCode::FORBIDDEN
    );

    // The queue is the regulator's and the auditor's.
    assert_eq!(server.get("/v1/disputes", Some(GYM)).0, StatusCode::FORBIDDEN);
    let (status, queue) = server.get("/v1/disputes", Some(AUDITOR));
    assert_eq!(status, StatusCode::OK, "{queue}");
    let queued = &queue["disputes"][0];
    assert_eq!(
        (
            queued["wallet"].as_str(),
            queued["request"].as_str(),
            queued["by"].as_str()
        ),
        (Some("w1"), Some("r1"), Some("merchant"))
    );
    assert_eq!(
        (
            queued["reason"].as_str(),
            queued["evidence"].as_str(),
            queued["amount"].as_str()
        ),
        (Some("unanswered"), Some(EVIDENCE), Some("200.00"))
    );
    assert_eq!(queued["days_left"], 30, "{queued}");

    // Both parties are told.
    let opened = |notices: &Value| {
        notices["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|notice| notice["kind"] == "dispute_open" && notice["request"] == "r1")
    };
    let (_, gym_notices) = server.get("/v1/notices", Some(GYM));
    assert!(opened(&gym_notices), "{gym_notices}");
    let alice = sign_in(&server, "alice");
    let (_, alice_notices) = server.get("/v1/notices", Some(&alice));
    assert!(opened(&alice_notices), "{alice_notices}");
    let (_, mine) = server.get("/v1/consumer/wallets", Some(&alice));
    assert_eq!(mine["wallets"][0]["disputes"][0]["by"], "merchant", "{mine}");

    // Alice answers: the dispute is hers now, and the regulator rules it not owed.
    let (status, body) = server.submit(&signed("w1", "alice-dispute", "alice", dispute(&["r1"])), OPERATOR);
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let (_, queue) = server.get("/v1/disputes", Some(REGULATOR));
    assert_eq!(queue["disputes"][0]["by"], "consumer", "{queue}");
    let (status, body) = server.submit(&ruling("city-ruling", "refund"), REGULATOR);
    assert_eq!(
        (status, body["ok"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{body}"
    );
    let (_, queue) = server.get("/v1/disputes", Some(REGULATOR));
    assert_eq!(queue["disputes"], json!([]));
    let (_, wallet) = server.get("/v1/wallets/w1", Some(AUDITOR));
    assert_eq!(wallet["view"]["pending"], "0.00", "{wallet}");
    assert_eq!(wallet["disputes"], json!([]));
}

/// The public register (the city's own rules, part 5): anyone looks a merchant up by its
/// licence number or a part of its name, and sees whether it may sell and its approved
/// listings; a licence is registered once, so a second "Gym dental" under gym's licence
/// is refused; a name with a direction override (which would reverse the figures beside
/// it on a page) is refused; and a consumer's token reads the catalogue it buys from.
#[test]
fn anyone_looks_a_merchant_up_in_the_public_register() {
    let server = platform_server();
    let listing = approved_orthodontics(&server);
    for q in ["91320508", "GYM%20DEN"] {
        let (status, found) = server.get(&format!("/v1/register?q={q}"), None);
        assert_eq!(status, StatusCode::OK, "{found}");
        let gym = &found["merchants"][0];
        assert_eq!(
            (gym["name"].as_str(), gym["status"].as_str(), gym["industry"].as_str()),
            (Some("Gym dental"), Some("approved"), Some("dental")),
            "{found}"
        );
        assert_eq!(gym["merchant"], key_of("gym"));
        assert_eq!(gym["listings"][0]["id"], listing["id"], "{found}");
    }
    let (_, none) = server.get("/v1/register?q=9132050", None);
    assert_eq!(none["merchants"], json!([]), "a licence matches whole, not in part");
    assert_eq!(server.get("/v1/register?q=g", None).0, StatusCode::BAD_REQUEST);
    assert_eq!(server.get("/v1/register", None).0, StatusCode::BAD_REQUEST);

    let registry_length = |server: &Server| {
        server.get("/v1/registry", Some(AUDITOR)).1["records"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = registry_length(&server);
    let (status, refused) = server.post("/v1/merchants", Some(SPA), &registration());
    assert_eq!(refused["error"]["code"], "already_registered", "{status} {refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("licence 91320508"),
        "{refused}"
    );
    let mut hidden = registration();
    hidden["name"] = "Spa \u{202E}00.0001".into();
    hidden["licence"] = "91320599".into();
    let (status, refused) = server.post("/v1/merchants", Some(SPA), &hidden);
    assert_eq!(refused["error"]["code"], "bad_registry_entry", "{status} {refused}");
    assert_eq!(registry_length(&server), before, "nothing recorded");

    // One licence has one spelling: spaces, hyphens, full-width digits and look-alike
    // letters (a Kelvin sign for a K) are refused, not taken for another licence.
    for licence in ["9132 0508", "91320508-1", "９１３２０５０８", "91320508\u{212A}"] {
        let mut spelled = registration();
        spelled["licence"] = licence.into();
        let (status, refused) = server.post("/v1/merchants", Some(SPA), &spelled);
        assert_eq!(
            refused["error"]["code"], "bad_registry_entry",
            "{licence}: {status} {refused}"
        );
    }
    // A name blank to the eye (a Hangul filler) is refused too.
    let mut blank = registration();
    blank["name"] = "\u{3164}".into();
    blank["licence"] = "91320599".into();
    assert_eq!(
        server.post("/v1/merchants", Some(SPA), &blank).1["error"]["code"],
        "bad_registry_entry"
    );
    assert_eq!(registry_length(&server), before, "nothing recorded");
    // A merchant awaiting its first review is not in the register: registering a known
    // name does not make anyone pass as that business.
    let mut impostor = registration();
    impostor["licence"] = "91320599".into();
    assert_eq!(
        server.post("/v1/merchants", Some(SPA), &impostor).0,
        StatusCode::CREATED
    );
    let (_, found) = server.get("/v1/register?q=gym%20dental", None);
    assert_eq!(found["merchants"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["merchants"][0]["licence"], "91320508");

    let alice = sign_in(&server, "alice");
    let (status, catalogue) = server.get("/v1/listings", Some(&alice));
    assert_eq!(status, StatusCode::OK, "{catalogue}");
    assert_eq!(catalogue["listings"][0]["id"], listing["id"]);
}
