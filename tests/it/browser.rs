//! The consumer's page and the regulator's dashboard in a real browser: headless Chromium
//! (Debian's `chromium`, driven by WebDriver through Debian's `chromedriver`, which `cargo
//! xtask test` installs when missing) against `prepaid serve`'s router on SQLite. The keys
//! live in the browser, which signs; the journal shows what it signed. Each test saves
//! screenshots to target/screenshots/ (docs/screenshots/ holds the README's copies).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::registry::Listing;
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::Service;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store;
use prepaid_host::trust::{Regulator, Trust};
use prepaid_host::{Clock, Envelope};
use prepaid_tests::{component_bytes, guest_bytes, ledger_in, scenario_events, serve_on_loopback};
use serde_json::{json, Value};

const OPERATOR: &str = "operator-key-0123456789";
const REGULATOR: &str = "regulator-key-0123456789";
const GYM: &str = "gym-merchant-key-0123456789";
const CLINIC: &str = "clinic-merchant-key-0123456789";

/// `prepaid serve` on loopback over a fresh SQLite journal, trusting the city's regulator.
struct Platform {
    url: String,
    journal: PathBuf,
    http: reqwest::Client,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Platform {
    fn start() -> Platform {
        Platform::start_with(|_| {})
    }

    /// The platform, its journal first given what `journal` records (through the ledger,
    /// before the service starts): both the changed rules and today's are trusted.
    fn start_with(journal: impl FnOnce(&prepaid_host::Ledger)) -> Platform {
        let key = |name: &str| public_key(&dev_key(name)).to_string();
        let keys = ApiKeys::parse(
            &json!([
                {"key": OPERATOR, "role": "operator", "name": "platform"},
                {"key": REGULATOR, "role": "regulator", "name": "city"},
                {"key": GYM, "role": "merchant", "name": "gym", "merchant": key("gym")},
                {"key": CLINIC, "role": "merchant", "name": "clinic", "merchant": key("clinic")}
            ])
            .to_string(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_in(dir.path()).with_clock(Clock::System);
        // The changed rules the regulator plans a migration onto are stored beside the
        // ones wallets open on.
        let changed = ledger.install(&guest_bytes("paid-rate-sessions")).unwrap();
        journal(&ledger);
        ledger.install(&component_bytes()).unwrap();
        let trust = Trust {
            regulators: vec![Regulator {
                key: key("city"),
                name: "city".into(),
                region: "Suzhou".into(),
            }],
            components: vec![ledger.current().unwrap(), changed],
            revoked: Vec::new(),
        };
        let service = Service::new(ledger.with_trust(trust), keys, dev_key("platform"));
        let (url, runtime) = serve_on_loopback(service);
        Platform {
            url,
            journal: dir.path().join("journal.db"),
            http: reqwest::Client::new(),
            _runtime: runtime,
            _dir: dir,
        }
    }

    async fn post(&self, path: &str, key: &str, body: &impl serde::Serialize) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn get(&self, path: &str, key: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// The wallet's journal as the store holds it: (event type, event id, outcome) each.
    fn journal(&self, wallet: &str) -> Vec<(String, String, Value)> {
        let store = SqliteStore::open_read_only(&self.journal).unwrap();
        store
            .entries(wallet)
            .unwrap()
            .into_iter()
            .map(|entry| {
                let event: Value = serde_json::from_str(&entry.event).unwrap();
                let kind = event["event"]["type"].as_str().unwrap().to_owned();
                (kind, entry.event_id, serde_json::from_str(&entry.outcome).unwrap())
            })
            .collect()
    }
}

/// Headless Chromium under chromedriver, with a fresh profile.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn installed(variable: &str, default: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: run the tests with `cargo xtask test`, which installs Debian's chromium and \
         chromium-driver, or set {variable}"
    );
    path
}

impl Browser {
    async fn start(width: u32, height: u32) -> Browser {
        let chromium = installed("PREPAID_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = installed("PREPAID_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=en-GB",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("chromedriver did not start a session: {error}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// The consumer's page on a phone-sized screen `height` tall, `name`'s key loaded.
    async fn consumer(platform: &Platform, name: &str, height: u32) -> Browser {
        let browser = Browser::start(412, height).await;
        browser
            .client
            .goto(&format!("{}/consumer", platform.url))
            .await
            .unwrap();
        browser.type_in("#key-secret", &secret(name)).await;
        browser.click("#key-import").await;
        browser
    }

    /// The city's regulator's page on `platform`, connected with its API key and its key.
    async fn regulator(platform: &Platform) -> Browser {
        let browser = Browser::start(1280, 1400).await;
        browser
            .client
            .goto(&format!("{}/regulator", platform.url))
            .await
            .unwrap();
        browser.type_in("#api-key", REGULATOR).await;
        browser.type_in("#regulator-secret", &secret("city")).await;
        browser.click("#connect-button").await;
        browser
    }

    /// Waits until the page is not busy (it redraws what it shows after each answer), then
    /// for `css`.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.gone("body[aria-busy]").await;
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!("no {css} on the page: {error}; {}", self.error().await),
        }
    }

    /// What `act` does with `css`, found again if the page redrew it between finding and
    /// acting.
    async fn on<T, F>(&self, css: &str, act: impl Fn(fantoccini::elements::Element) -> F) -> T
    where
        F: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        for _ in 0..50 {
            match act(self.find(css).await).await {
                Ok(done) => return done,
                Err(error) if error.is_stale_element_reference() => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(error) => panic!("{css}: {error}"),
            }
        }
        panic!("{css} kept being redrawn");
    }

    async fn click(&self, css: &str) {
        self.on(css, |element| async move { element.click().await }).await
    }

    async fn type_in(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.on(css, |element| async move { element.text().await }).await
    }

    /// What the page's error banner says, if it shows one.
    async fn error(&self) -> String {
        match self.client.find(Locator::Css("#error:not([hidden])")).await {
            Ok(banner) => banner.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until `css` matches nothing.
    async fn gone(&self, css: &str) {
        let started = Instant::now();
        while !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{css} is still on the page; {}",
                self.error().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `css`'s text is `expected`.
    async fn shows(&self, css: &str, expected: &str) {
        let started = Instant::now();
        loop {
            let found = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if found == expected {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{css} shows {found:?}, not {expected:?}; {}",
                self.error().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn secret(name: &str) -> String {
    hex::encode(dev_key(name).to_bytes())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Alice, on a phone-sized screen, loads her key into the page, sees the gym's request in
/// full and authorizes it: the authorization in the journal is the one her browser signed,
/// and it released the money. Her refund shows what would come back before she confirms
/// it, then its receipt, and the journal has the refund.
#[test]
fn a_consumer_authorizes_and_refunds_from_her_browser() {
    let platform = Platform::start();
    runtime().block_on(async {
        let events = scenario_events(
            r#"{"name": "browser", "steps": [
                {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
                 "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                           "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                           "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
                {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
                 "event": {"type": "request", "request": "r1", "units": 2}},
                {"at": "2026-01-05T09:00:00Z", "wallet": "w2", "by": "alice",
                 "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                           "product": {"kind": "stored_value", "price": "500.00", "face_value": "600.00"},
                           "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
                {"at": "2026-01-06T09:00:00Z", "wallet": "w2", "by": "gym",
                 "event": {"type": "request", "request": "tea", "amount": "60.00"}}
            ]}"#,
        );
        for event in &events {
            let (key, path) = match event.event["type"].as_str() {
                Some("open") => (OPERATOR, "/v1/wallets".to_owned()),
                _ => (GYM, format!("/v1/wallets/{}/events", event.wallet)),
            };
            platform.post(&path, key, &event.untimed()).await;
        }

        let browser = Browser::consumer(&platform, "alice", 1600).await;
        let request = "[data-wallet='w1'] li.request[data-request='r1']";
        browser.find(request).await;
        assert_eq!(browser.text(&format!("{request} .amount")).await, "¥200.00");
        assert_eq!(
            browser.text("[data-wallet='w1'] [data-figure='frozen']").await,
            "¥1,000.00"
        );
        browser.screenshot("consumer.png").await;
        // The same page in Chinese, as the language button leaves it for the next visit.
        browser.click("#lang").await;
        browser.shows("h1", "我的预付钱包").await;
        browser.shows(&format!("{request} button.authorize"), "确认消费").await;
        browser.screenshot("consumer-zh.png").await;
        browser.click("#lang").await;
        browser.shows("h1", "My prepaid wallets").await;

        browser.click(&format!("{request} button.authorize")).await;
        browser.gone(request).await;
        browser
            .shows("[data-wallet='w1'] [data-figure='released']", "¥200.00")
            .await;
        let journal = platform.journal("w1");
        let (kind, id, outcome) = journal.last().unwrap();
        assert_eq!(kind, "authorize");
        assert!(id.starts_with("web-authorize-"), "{id}: the page's own event id");
        // Signed with a deadline in the service's time, a few minutes ahead.
        let store = SqliteStore::open_read_only(&platform.journal).unwrap();
        let signed: Value = serde_json::from_str(&store.entries("w1").unwrap().last().unwrap().event).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let deadline = signed["event"]["not_after"].as_i64().unwrap();
        assert!((now..=now + 300).contains(&deadline), "{signed}");
        assert_eq!(
            outcome["effects"],
            json!([{"kind": "release", "to": public_key(&dev_key("gym")).to_string(),
                    "amount": "200.00", "reason": "authorized"}])
        );

        // A stored-value card's request is its face value, and so is its authorization.
        let tea = "[data-wallet='w2'] li.request[data-request='tea']";
        assert_eq!(browser.text(&format!("{tea} strong")).await, "¥60.00");
        browser.click(&format!("{tea} button.authorize")).await;
        browser.gone(tea).await;
        let (kind, _, outcome) = platform.journal("w2").last().cloned().unwrap();
        assert_eq!(kind, "authorize");
        assert_eq!(outcome["effects"][0]["amount"], "50.00", "{outcome}");

        // The preview is the wallet's component's dry run: nothing is journaled.
        browser.click("[data-wallet='w1'] button.refund").await;
        browser.shows(".refund-amount", "¥800.00").await;
        assert_eq!(platform.journal("w1").len(), journal.len());
        browser.screenshot("consumer-refund.png").await;
        browser.click("button.confirm-refund").await;
        let receipt = browser.text("pre.receipt").await;
        assert!(receipt.starts_with("prepaid-platform/receipt/v1"), "{receipt}");
        let journal = platform.journal("w1");
        let (kind, _, outcome) = journal.last().unwrap();
        assert_eq!(kind, "refund");
        assert_eq!(outcome["effects"][0]["amount"], "800.00");
        assert_eq!(outcome["effects"][0]["kind"], "refund");

        // The statement lists every movement with its receipt.
        browser.click("[data-wallet='w1'] button.show-statement").await;
        browser.find("table.statement tbody tr:nth-child(4)").await;
        browser.close().await;
    });
}

/// Alice's wallet runs the rules that value used sessions at the paid rate; the regulator
/// moves it back onto today's, which would give her less at a refund, so the migration
/// waits. Her page tells her, shows each path under both rules side by side, and her
/// browser signs her consent: the journal's migration carries it, and the wallet runs
/// today's rules.
#[test]
fn a_consumer_reads_new_rules_beside_the_old_and_consents_from_her_browser() {
    let platform = Platform::start_with(|ledger| prepaid_tests::two_sessions_used(ledger, "w1"));
    let (from, to) = (
        prepaid_host::outcome::sha256_hex(&guest_bytes("paid-rate-sessions")),
        prepaid_host::outcome::sha256_hex(&component_bytes()),
    );
    // The regulator asks for her consent, as `prepaid migrate run` does where the plan
    // found she would get less: her page signs the field too.
    let migration = prepaid_tests::signed(
        "w1",
        "m1",
        "city",
        json!({"type": "migrate", "from": from, "to": to, "ask_consent": true}),
    );
    // Someone with the database plants a migration the gym signed: the page shows it, but
    // will not sign a consent to a migration that is not the wallet's regulator's.
    let forged = prepaid_tests::signed("w1", "m0", "gym", json!({"type": "migrate", "from": from, "to": to}));
    SqliteStore::open(&platform.journal)
        .unwrap()
        .set_waiting_migration("w1", Some((&forged.to_json(), 0)))
        .unwrap();
    runtime().block_on(async {
        let browser = Browser::consumer(&platform, "alice", 1400).await;
        browser.click("[data-wallet='w1'] button.consent").await;
        let error = browser.text("#error").await;
        assert!(
            error.contains("does not carry your wallet regulator's signature"),
            "{error}"
        );
        assert_eq!(
            platform.journal("w1").last().unwrap().0,
            "authorize",
            "nothing was signed"
        );

        // The regulator's own replaces it.
        let answer = platform.post("/v1/wallets/w1/migration", REGULATOR, &migration).await;
        assert_eq!(answer["waiting_for"], "consent", "{answer}");
        browser.click("#refresh").await;
        browser.find("li.notice.migration_awaits_consent").await;
        let row = "[data-wallet='w1'] .proposal tr[data-path='refund_now']";
        assert_eq!(browser.text(&format!("{row} td.old")).await, "¥800.00 (merchant ¥0.00)");
        assert_eq!(
            browser.text(&format!("{row} td.new")).await,
            "¥760.00 (merchant ¥40.00)"
        );
        browser.find(&format!("{row}.worse")).await;
        browser.screenshot("consumer-migration.png").await;
        browser.click("[data-wallet='w1'] button.consent").await;
        browser.find("[data-wallet='w1'] .consented").await;
        browser.gone(".proposal").await;
        let (kind, id, outcome) = platform.journal("w1").last().cloned().unwrap();
        assert_eq!(
            (kind.as_str(), id.as_str(), outcome["ok"].as_bool()),
            ("migrate", "m1", Some(true))
        );
        let wallet = platform.get("/v1/wallets/w1", OPERATOR).await;
        assert_eq!(wallet["code_hash"].as_str(), Some(to.as_str()));
        browser.close().await;
    });
}

/// Alice refunded a wallet whose 80% had gone to the gym: her page shows the wallet
/// settling, what the gym owes her, what its next sale paid her and what it still owes,
/// and her notices say both; there is nothing left to refund.
#[test]
fn a_consumer_sees_what_the_merchant_owes_her_and_what_its_sales_paid() {
    let platform = Platform::start_with(|ledger| prepaid_tests::owed_to_alice(ledger, "w1"));
    runtime().block_on(async {
        let browser = Browser::consumer(&platform, "alice", 1400).await;
        let wallet = "[data-wallet='w1']";
        assert_eq!(
            browser.text(&format!("{wallet} .status")).await,
            "settling: owed to you"
        );
        assert_eq!(browser.text(&format!("{wallet} [data-figure='owed']")).await, "¥600.00");
        let claim = format!("{wallet} li.claim");
        assert_eq!(
            browser.text(&format!("{claim} [data-figure='claim.paid']")).await,
            "¥200.00"
        );
        assert_eq!(
            browser.text(&format!("{claim} [data-figure='claim.remaining']")).await,
            "¥400.00"
        );
        assert!(browser.text(&format!("{claim} ul.payments")).await.contains("¥200.00"));
        browser.find("li.notice.claim_owed").await;
        browser.find("li.notice.claim_paid").await;
        assert!(browser
            .client
            .find_all(Locator::Css(&format!("{wallet} button.refund")))
            .await
            .unwrap()
            .is_empty());
        browser.screenshot("consumer-claim.png").await;
        browser.close().await;
    });
}

/// The regulator's page lists what merchants owe consumers, oldest first, and the
/// industry's claims outstanding and exposure beside its funds.
#[test]
fn a_regulator_sees_what_merchants_owe_consumers() {
    let platform = Platform::start_with(|ledger| prepaid_tests::owed_to_alice(ledger, "w1"));
    runtime().block_on(async {
        let browser = Browser::regulator(&platform).await;
        let claim = "#claims tr[data-claim='w1:4:1']";
        assert_eq!(
            browser.text(&format!("{claim} td[data-column='remaining']")).await,
            "¥400.00"
        );
        assert_eq!(browser.text(&format!("{claim} td[data-column='age']")).await, "0");
        let other = "tr[data-group='other']";
        assert_eq!(
            browser
                .text(&format!("{other} td[data-column='claims_outstanding']"))
                .await,
            "¥400.00"
        );
        // Bob's wallet holds nothing unearned; Alice's claim is what the gym owes.
        assert_eq!(
            browser.text(&format!("{other} td[data-column='exposure']")).await,
            "¥400.00"
        );
        browser.close().await;
    });
}

/// Alice disputes the gym's request from her browser, with a reason and an account of
/// what happened that the event carries as its SHA-256; her notices and the gym's say it
/// is open; the regulator's page queues it with its ruling due, and the regulator's split,
/// signed in the page, pays the gym part of the session and gives alice the rest.
#[test]
fn a_consumer_disputes_a_request_and_the_regulator_splits_it() {
    let platform = Platform::start();
    runtime().block_on(async {
        let events = scenario_events(
            r#"{"name": "dispute", "steps": [
                {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
                 "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                           "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                           "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
                {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
                 "event": {"type": "request", "request": "r1", "units": 1}}
            ]}"#,
        );
        platform.post("/v1/wallets", OPERATOR, &events[0].untimed()).await;
        platform.post("/v1/wallets/w1/events", GYM, &events[1].untimed()).await;

        let browser = Browser::consumer(&platform, "alice", 1600).await;
        let request = "[data-wallet='w1'] li.request[data-request='r1']";
        browser.click(&format!("{request} button.dispute")).await;
        browser
            .click(&format!(
                "{request} select.dispute-reason option[value='not_as_agreed']"
            ))
            .await;
        let account = "Half a session: the coach left at 9:30.";
        browser
            .type_in(&format!("{request} textarea.dispute-text"), account)
            .await;
        browser.click(&format!("{request} button.send-dispute")).await;
        let dispute = "[data-wallet='w1'] li.dispute[data-dispute='r1']";
        browser
            .shows(&format!("{dispute} [data-figure='dispute.reason']"), "not as agreed")
            .await;
        browser.find("li.notice.dispute_open").await;
        browser.screenshot("consumer-dispute.png").await;
        browser.close().await;
        // What happened stays with alice; the event carries its digest.
        use prepaid_contract::Crypto as _;
        let digest = prepaid_contract::NativeCrypto.sha256(account.as_bytes());
        let store = SqliteStore::open_read_only(&platform.journal).unwrap();
        let sent: Value = serde_json::from_str(&store.entries("w1").unwrap().last().unwrap().event).unwrap();
        assert_eq!(
            sent["event"]["evidence"],
            prepaid_contract::keys::HexBytes(digest).to_string()
        );
        assert_eq!(sent["event"]["requests"], json!(["r1"]));
        // The gym is told too.
        let notices = platform.get("/v1/notices", GYM).await;
        assert!(
            notices["notices"]
                .as_array()
                .unwrap()
                .iter()
                .any(|notice| notice["kind"] == "dispute_open"),
            "{notices}"
        );

        let regulator = Browser::regulator(&platform).await;
        let row = "#disputes tr[data-dispute='w1/r1']";
        assert_eq!(browser_text(&regulator, row, "reason").await, "not as agreed");
        assert_eq!(browser_text(&regulator, row, "by").await, "consumer");
        assert_eq!(browser_text(&regulator, row, "amount").await, "¥100.00");
        assert_eq!(browser_text(&regulator, row, "days_left").await, "30");
        regulator.screenshot("regulator-disputes.png").await;
        regulator
            .click(&format!("{row} select.outcome option[value='split']"))
            .await;
        regulator.type_in(&format!("{row} input.release"), "60.00").await;
        regulator
            .type_in(&format!("{row} input.ruling-reason"), "partly_delivered")
            .await;
        regulator.click(&format!("{row} button.rule")).await;
        regulator.gone(row).await;
        let (kind, _, outcome) = platform.journal("w1").last().cloned().unwrap();
        assert_eq!(kind, "resolve");
        let moved: Vec<(&str, &str)> = outcome["effects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|effect| (effect["kind"].as_str().unwrap(), effect["amount"].as_str().unwrap()))
            .collect();
        assert_eq!(moved, [("release", "60.00"), ("refund", "40.00")], "{outcome}");
        regulator.close().await;
    });
}

/// Alice's wallet names the gym by the name the register has for it, and the register,
/// which anyone may read, finds the gym by its licence number: approved, a dental clinic
/// in Gusu. A name with a direction override never gets into the register to reverse
/// what the page shows (tests/it/service.rs).
#[test]
fn a_consumer_sees_whom_she_pays_and_looks_a_merchant_up() {
    let platform = Platform::start();
    runtime().block_on(async {
        let gym = public_key(&dev_key("gym")).to_string();
        platform
            .post(
                "/v1/merchants",
                GYM,
                &json!({"name": "Sunny Dental", "industry": "dental", "district": "Gusu", "licence": "91320508MA1X"}),
            )
            .await;
        platform
            .post(
                &format!("/v1/merchants/{gym}/review"),
                REGULATOR,
                &json!({"decision": "approve", "reason": "licence checked"}),
            )
            .await;
        let events = scenario_events(
            r#"{"name": "named", "steps": [
                {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
                 "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                           "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                           "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}}
            ]}"#,
        );
        platform.post("/v1/wallets", OPERATOR, &events[0].untimed()).await;

        let browser = Browser::consumer(&platform, "alice", 1600).await;
        browser
            .shows("[data-wallet='w1'] .merchant-name", "Merchant: Sunny Dental")
            .await;
        browser.type_in("#register-q", "91320508ma1x").await;
        browser.click("#register-button").await;
        let entry = "#register li.registered[data-licence='91320508MA1X']";
        browser.shows(&format!("{entry} strong"), "Sunny Dental").await;
        assert_eq!(
            browser.text(&format!("{entry} [data-figure='register.status']")).await,
            "approved"
        );
        // The same page in Chinese says it in Chinese.
        browser.click("#lang").await;
        browser.click("#register-button").await;
        browser
            .shows(&format!("{entry} [data-figure='register.status']"), "已批准")
            .await;
        browser.click("#lang").await;
        browser.screenshot("consumer-register.png").await;
        browser.close().await;
    });
}

/// The text of `row`'s cell in `column`.
async fn browser_text(browser: &Browser, row: &str, column: &str) -> String {
    browser.text(&format!("{row} td[data-column='{column}']")).await
}

/// A listing name with markup, as a hostile merchant would submit it.
const MARKUP_NAME: &str = "Aligners <img src=x onerror=\"document.title='owned'\">";

/// The city's regulator connects with its API key and its key, approves a dental clinic
/// and then its listing (the approval signed in the browser over the terms it shows), and,
/// once a consumer buys the listing, sees the dental figures change. The listing's name,
/// the merchant's own text, carries markup that the page shows as text.
#[test]
fn a_regulator_approves_a_listing_and_sees_the_funds_change() {
    let platform = Platform::start();
    runtime().block_on(async {
        platform
            .post(
                "/v1/merchants",
                CLINIC,
                &json!({"name": "Smile Dental", "industry": "dental", "district": "Gusu", "licence": "91320500MA1"}),
            )
            .await;
        let browser = Browser::regulator(&platform).await;
        // The card shows the licence, to tell two clinics of one name apart, and the
        // trade in the page's language.
        let card = "article.review.merchant";
        assert_eq!(browser.text(&format!("{card} dd.licence")).await, "91320500MA1");
        assert_eq!(browser.text(&format!("{card} dd.industry")).await, "dental");
        browser.click("#lang").await;
        browser.shows(&format!("{card} dd.industry"), "口腔").await;
        browser.click("#lang").await;
        browser.click("article.review.merchant button.approve").await;
        browser.gone("article.review.merchant").await;
        let merchant = platform
            .get(&format!("/v1/merchants/{}", public_key(&dev_key("clinic"))), OPERATOR)
            .await;
        assert_eq!(merchant["status"], "approved", "{merchant}");
        // No dental wallet yet.
        assert!(browser
            .client
            .find_all(Locator::Css("tr[data-group='dental']"))
            .await
            .unwrap()
            .is_empty());

        // The approved clinic lists a product for review.
        let submitted = platform
            .post(
                "/v1/listings",
                CLINIC,
                &json!({"name": MARKUP_NAME, "category": "orthodontics",
                        "product": {"kind": "sessions", "sessions": 12, "price": "2400.00", "list_price": "250.00"},
                        "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}),
            )
            .await;
        let listing_id = submitted["action"]["listing"].as_str().unwrap().to_owned();
        browser.click("#refresh").await;
        let listing = format!("article.review.listing[data-listing='{listing_id}']");
        browser.find(&format!("{listing} pre.terms")).await;
        // The merchant's text is shown as text: its markup neither renders nor runs.
        assert_eq!(
            browser.text(&format!("{listing} h3")).await,
            format!("Listings: {MARKUP_NAME}")
        );
        assert!(browser
            .client
            .find_all(Locator::Css("article.review img"))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            browser.client.execute("return document.title", vec![]).await.unwrap(),
            json!("Prepaid supervision")
        );
        browser.click(&format!("{listing} button.approve")).await;
        browser.gone(&listing).await;
        let approved = platform.get(&format!("/v1/listings/{listing_id}"), OPERATOR).await;
        assert_eq!(approved["status"], "approved", "{approved}");
        assert_eq!(
            approved["approval"]["regulator"],
            public_key(&dev_key("city")).to_string()
        );

        // A consumer buys it: the approval the browser signed opens the wallet.
        let listing: Listing = serde_json::from_value(approved).unwrap();
        let mut open = Envelope {
            wallet: "d1".into(),
            id: "buy".into(),
            at: None,
            event: listing.open_event(&public_key(&dev_key("bob")).to_string()).unwrap(),
            signature: None,
        };
        open.sign(&dev_key("bob")).unwrap();
        let opened = platform.post("/v1/wallets", OPERATOR, &open).await;
        assert_eq!(opened["ok"], true, "{opened}");
        let funded = platform
            .post("/v1/wallets/d1/events", OPERATOR, &prepaid_tests::funding_of(&open))
            .await;
        assert_eq!(funded["ok"], true, "{funded}");

        browser.click("#refresh").await;
        browser
            .shows("tr[data-group='dental'] td[data-column='frozen']", "¥2,400.00")
            .await;
        browser.find("#chart-time svg polyline").await;
        browser.find("#chart-district svg rect").await;

        // Any wallet's history, receipts and replay, its events named in the page's
        // language.
        browser.type_in("#lookup-wallet", "d1").await;
        browser.click("#lookup-button").await;
        browser.shows("#lookup p.clean", "Replayed: clean (2)").await;
        browser
            .shows("#lookup td[data-event='funded']", "payment arrived")
            .await;
        browser.click("#lang").await;
        browser.shows("tr[data-group='dental'] td:first-child", "口腔").await;
        browser.click("#lookup-button").await;
        browser.shows("#lookup td[data-event='open']", "购买").await;
        browser.click("#lang").await;

        // The plan of moving the live wallets onto changed rules, before anyone signs:
        // inside its cooling-off period, d1's consumer gets the same either way.
        let changed = prepaid_host::outcome::sha256_hex(&guest_bytes("paid-rate-sessions"));
        browser.type_in("#plan-to", &changed).await;
        browser.click("#plan-button").await;
        browser
            .shows(
                "#plan p.plan-summary",
                "Live wallets 1 · changing 0 · consumer gets less 0 · refused 0",
            )
            .await;
        let shown = browser.text("#plan code.plan-hash").await;
        let planned = platform
            .get(&format!("/v1/migrations/plan?to={changed}"), REGULATOR)
            .await;
        assert_eq!(shown.len(), 64);
        assert_eq!(planned["totals"]["wallets"], 1, "{planned}");
        browser.screenshot("regulator.png").await;
        browser.close().await;
    });
}
