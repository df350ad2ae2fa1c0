//! The regulator's statistics: money paid, frozen, released and refunded, what went outside
//! supervision, claims owed, collected and outstanding, each merchant's exposure, and counts
//! of wallets, requests, refunds and disputes, by merchant, industry, district and day.
//!
//! They are kept as events are journaled, not scanned for per request: each entry's
//! [`Facts`] are added to its merchant's figures for its day in the same transaction that
//! journals it (see [`crate::store::Store::append`]), and an accepted `open` indexes the
//! wallet under its merchant and listing. Industry and district come from the registry.
//! A day is a business day in China Standard Time (UTC+8), the platform's regulators' own.
//! [`Facts::of`] derives an entry's facts from the entry alone, so the figures can be
//! rebuilt from the journal and checked against it.

use std::collections::BTreeMap;

use anyhow::Context as _;
use prepaid_contract::Event;
use serde::Serialize;
use serde_json::Value;

use crate::clock::{day_number, CST_OFFSET};
use crate::disputes::QueuedDispute;
use crate::envelope::timestamp;
use crate::error::Result;
use crate::journal::Entry;
use crate::outcome::Verdict;
use crate::registry::{Industry, Registry};
use crate::text::{fen, yuan};

/// The figures of some wallets over some time, amounts in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Paid into wallets at open.
    pub paid: u64,
    /// Released to merchants.
    pub released: u64,
    /// Refunded to consumers.
    pub refunded: u64,
    /// Wallets opened.
    pub opened: u64,
    /// Requests merchants made.
    pub requests: u64,
    /// Refunds consumers asked for.
    pub refunds: u64,
    /// Disputes opened.
    pub disputes: u64,
    /// The change in requests awaiting authorization (a level, not a flow).
    pub pending: i64,
    /// The change in wallets with a dispute open, of the whole wallet or a request (a
    /// level, not a flow).
    pub disputed: i64,
    /// Released to merchants outside supervision (part of `released`): the share of the
    /// price a supervised share leaves out, at the end of the cooling-off period.
    pub unsupervised: u64,
    /// Owed to consumers by claims recorded (docs/CONTRACT.md, "Claims").
    pub owed: u64,
    /// Paid of claims out of the merchant's releases (part of `released`: the merchant
    /// is paid that much less).
    pub collected: u64,
    /// The change in what merchants hold of the part outside supervision that
    /// consumption has not earned, in wallets not ended (a level, not a flow): what their
    /// endings would owe.
    pub unearned: i64,
}

impl Figures {
    /// Adds `other` in.
    pub fn add(&mut self, other: &Figures) {
        self.paid += other.paid;
        self.released += other.released;
        self.refunded += other.refunded;
        self.opened += other.opened;
        self.requests += other.requests;
        self.refunds += other.refunds;
        self.disputes += other.disputes;
        self.pending += other.pending;
        self.disputed += other.disputed;
        self.unsupervised += other.unsupervised;
        self.owed += other.owed;
        self.collected += other.collected;
        self.unearned += other.unearned;
    }

    /// Whether nothing happened.
    pub fn is_zero(&self) -> bool {
        *self == Figures::default()
    }

    /// Paid less released and refunded: what these flows left frozen, in fen.
    pub fn frozen(&self) -> i128 {
        i128::from(self.paid) - i128::from(self.released) - i128::from(self.refunded)
    }

    /// Owed by claims less what was collected of them: what these flows left owed, in fen.
    pub fn outstanding(&self) -> i128 {
        i128::from(self.owed) - i128::from(self.collected)
    }
}

/// A wallet's merchant and listing, indexed when its `open` is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    /// The merchant's key.
    pub merchant: String,
    /// The catalogue listing bought, if the open named one.
    pub listing: Option<String>,
}

/// Where a wallet stands: its merchant and consumer, and what the merchant's levels count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// The wallet's merchant (hex).
    pub merchant: String,
    /// The wallet's consumer (hex): the key that signs for it now.
    pub consumer: String,
    /// Its requests awaiting authorization.
    pub pending: u64,
    /// Whether a dispute is open in it: of the whole wallet, of a request, or a refund's
    /// hold.
    pub disputed: bool,
    /// Whether the money has yet to reach it: nothing about it counts until then.
    pub awaiting_funding: bool,
    /// What its merchant holds of the part outside supervision beyond consumption, in fen,
    /// while it has not ended ([`prepaid_contract::claims::unearned_share`]).
    pub unearned: u64,
}

impl Level {
    /// The level of a wallet in `state`; `None` for state this build does not read (a
    /// wallet pinned to code that writes another form).
    pub fn of(state: &[u8]) -> Option<Level> {
        Some(Level::of_wallet(&prepaid_contract::state::Wallet::decode(state).ok()?))
    }

    /// The level of `wallet`.
    fn of_wallet(wallet: &prepaid_contract::state::Wallet) -> Level {
        Level {
            merchant: wallet.merchant.to_string(),
            consumer: wallet.consumer.to_string(),
            pending: wallet.requests.len() as u64,
            disputed: !prepaid_contract::view::open_disputes(wallet).is_empty(),
            awaiting_funding: wallet.awaiting_funding,
            unearned: match wallet.status {
                prepaid_contract::state::Status::Closed => 0,
                _ => prepaid_contract::claims::unearned_share(wallet).fen(),
            },
        }
    }
}

/// What one journaled entry adds to the statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// For an accepted `open`, the wallet's merchant and listing.
    pub sale: Option<Sale>,
    /// The entry's time, as journaled.
    pub at: String,
    /// The entry's business day, `YYYY-MM-DD` in China Standard Time.
    pub day: String,
    /// The merchant whose figures it adds to: `None` for a rejected event, or a wallet
    /// whose state this build of the contract does not read (it adds nothing).
    pub merchant: Option<String>,
    /// The wallet's consumer, when the entry made it theirs (an `open`, a transfer, a
    /// re-key taking effect): the index of a consumer's wallets moves with it.
    pub holder: Option<String>,
    /// What it adds.
    pub figures: Figures,
    /// The wallet's open disputes after it, when it changed them: the regulator's queue
    /// keeps them ([`crate::disputes`]).
    pub queue: Option<Vec<QueuedDispute>>,
}

/// The business day of `at` (RFC 3339, UTC), in China Standard Time.
pub fn business_day(at: &str) -> Result<String> {
    let time = time::OffsetDateTime::from_unix_timestamp(timestamp(at)? + CST_OFFSET)
        .with_context(|| format!("{at} is out of range"))?;
    Ok(format!(
        "{:04}-{:02}-{:02}",
        time.year(),
        u8::from(time.month()),
        time.day()
    ))
}

impl Facts {
    /// The facts of `entry`, which took the wallet from state `before` (none before its
    /// `open`) to `after`: nothing for a rejected event; for an accepted one, the money its
    /// effects move, what kind of event it was (an `open` pays its price in) and how the
    /// wallet's levels moved.
    pub fn of(entry: &Entry, before: Option<&[u8]>, after: Option<&[u8]>) -> Result<Facts> {
        let verdict: Verdict = serde_json::from_str(&entry.outcome).context("reading an entry's outcome")?;
        let envelope: Value = serde_json::from_str(&entry.event).context("reading an entry's event")?;
        Facts::new(entry, &verdict, &envelope["event"], before, after)
    }

    /// [`Facts::of`] `entry`, its verdict and its event already read.
    pub fn new(
        entry: &Entry,
        verdict: &Verdict,
        event: &Value,
        before: Option<&[u8]>,
        after: Option<&[u8]>,
    ) -> Result<Facts> {
        let mut facts = Facts {
            sale: None,
            at: entry.at.clone(),
            day: business_day(&entry.at)?,
            merchant: None,
            holder: None,
            figures: Figures::default(),
            queue: None,
        };
        if !verdict.ok {
            return Ok(facts);
        }
        let read = |state: &[u8]| prepaid_contract::state::Wallet::decode(state).ok();
        let (wallet_before, wallet_after) = (before.and_then(read), after.and_then(read));
        let level_before = match before {
            None => Some(Level::default()),
            Some(_) => wallet_before.as_ref().map(Level::of_wallet),
        };
        let disputes = |wallet: Option<&prepaid_contract::state::Wallet>| {
            wallet.map_or_else(Vec::new, |wallet| crate::disputes::of_wallet(&entry.wallet, wallet))
        };
        // A state this build does not read (a wallet moved onto code that writes another
        // form) has no disputes the queue can show: its rows go.
        let queue = disputes(wallet_after.as_ref());
        if after.is_some() && (wallet_after.is_none() || queue != disputes(wallet_before.as_ref())) {
            facts.queue = Some(queue);
        }
        // A purchase called off before the money came (a refund of a wallet awaiting
        // funding) is no refund on the merchant's record.
        let unfunded = level_before.as_ref().is_some_and(|level| level.awaiting_funding);
        if let (Some(level_before), Some(level_after)) = (level_before, wallet_after.as_ref().map(Level::of_wallet)) {
            facts.figures.pending = level_after.pending as i64 - level_before.pending as i64;
            facts.figures.disputed = i64::from(level_after.disputed) - i64::from(level_before.disputed);
            facts.figures.unearned = level_after.unearned as i64 - level_before.unearned as i64;
            facts.merchant = Some(level_after.merchant);
            facts.holder = (level_after.consumer != level_before.consumer).then_some(level_after.consumer);
        }
        let figures = &mut facts.figures;
        match event["type"].as_str() {
            Some("open") => {
                let Ok(Event::Open(open)) = Event::parse(&event.to_string()) else {
                    return Err(anyhow::anyhow!("an accepted open of wallet {} does not parse", entry.wallet).into());
                };
                // A price still to come is counted when the rail reports it.
                if !open.awaiting_funding {
                    figures.paid = open.product.price().fen();
                }
                figures.opened = 1;
                facts.sale = Some(Sale {
                    merchant: open.merchant.to_string(),
                    listing: open.listing.map(|listing| listing.id),
                });
            }
            // The money in: the price of a wallet opened awaiting funding, or a top-up.
            Some("funded") => {
                let paid =
                    |wallet: Option<&prepaid_contract::state::Wallet>| wallet.map_or(0, |wallet| wallet.paid().fen());
                figures.paid = paid(wallet_after.as_ref()).saturating_sub(paid(wallet_before.as_ref()));
            }
            Some("request") => figures.requests = 1,
            Some("refund") if !unfunded => figures.refunds = 1,
            Some("dispute") => figures.disputes = 1,
            _ => {}
        }
        for effect in &verdict.effects {
            let amount = fen(&effect.amount)?;
            match (effect.kind.as_str(), effect.reason.as_str()) {
                ("release", "unsupervised_share") => {
                    figures.released += amount;
                    figures.unsupervised += amount;
                }
                ("release", _) => figures.released += amount,
                ("refund", _) => figures.refunded += amount,
                ("claim", _) => figures.owed += amount,
                _ => {}
            }
        }
        Ok(facts)
    }
}

/// A merchant's figures for one day, as the store keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRow {
    /// The merchant's key.
    pub merchant: String,
    /// The business day.
    pub day: String,
    /// Its figures that day.
    pub figures: Figures,
}

/// How a statistics query groups its figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One line for everything.
    #[default]
    Total,
    /// A line per merchant.
    Merchant,
    /// A line per industry.
    Industry,
    /// A line per district.
    District,
    /// A line per day.
    Day,
}

/// A statistics query: which wallets, which days, grouped how.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// The first day counted (`YYYY-MM-DD`); flows before it are left out, but count in
    /// what is frozen.
    pub from: Option<String>,
    /// The last day counted.
    pub to: Option<String>,
    /// Only this merchant's wallets.
    pub merchant: Option<String>,
    /// Only merchants of this industry.
    pub industry: Option<Industry>,
    /// Only merchants of this district.
    pub district: Option<String>,
    /// How to group.
    #[serde(default)]
    pub group_by: GroupBy,
}

/// One line of statistics, amounts in yuan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The group: a merchant's key, an industry, a district, a day, or `total`.
    pub group: String,
    /// Paid into wallets in the period.
    pub paid: String,
    /// Frozen at the end of the period (or of the day, by day).
    pub frozen: String,
    /// Released to merchants in the period.
    pub released: String,
    /// Of that, released outside supervision (a supervised share's part, at the end of the
    /// cooling-off period), apart from what consumers authorized or the rules released.
    pub unsupervised: String,
    /// Refunded to consumers in the period.
    pub refunded: String,
    /// Wallets opened in the period.
    pub wallets: u64,
    /// Requests made in the period.
    pub requests: u64,
    /// Refunds asked for in the period.
    pub refunds: u64,
    /// Disputes opened in the period.
    pub disputes: u64,
    /// Requests awaiting authorization at the end of the period.
    pub pending_requests: i64,
    /// Wallets in dispute at the end of the period.
    pub open_disputes: i64,
    /// Owed to consumers by claims recorded in the period.
    pub owed: String,
    /// Paid of claims out of merchants' releases in the period.
    pub collected: String,
    /// Claims not yet paid at the end of the period.
    pub claims_outstanding: String,
    /// What consumers paid and have not consumed, less what is frozen, at the end of the
    /// period: the claims outstanding, and what merchants hold of the part outside
    /// supervision beyond consumption in wallets not ended.
    pub exposure: String,
}

/// Whether `day` is a calendar day written `YYYY-MM-DD`.
fn is_day(day: &str) -> bool {
    day_number(day).is_some()
}

fn check_day(field: &str, day: &Option<String>) -> Result<()> {
    match day {
        Some(day) if !is_day(day) => Err(crate::Error::refused(
            crate::RefusalCode::BadRegistryEntry,
            format!("`{field}` is a day as YYYY-MM-DD, got {day:?}"),
        )),
        _ => Ok(()),
    }
}

impl Query {
    /// Rejects days that are not `YYYY-MM-DD`.
    pub fn check(&self) -> Result<()> {
        check_day("from", &self.from)?;
        check_day("to", &self.to)
    }

    /// The lines of this query over `rows` (every row up to `to`), with merchants'
    /// industries and districts from `registry`. Figures of a wallet opened without a
    /// registered merchant count under industry `other` and district `unregistered`.
    pub fn lines(&self, rows: &[DayRow], registry: &Registry) -> Vec<Line> {
        let mut groups: BTreeMap<String, (Figures, Stock)> = BTreeMap::new();
        let mut stock_by_day: BTreeMap<String, Stock> = BTreeMap::new();
        for row in rows {
            let merchant = registry.merchant(&row.merchant);
            let industry = merchant.map_or(Industry::Other, |merchant| merchant.industry);
            let district = merchant.map_or("unregistered", |merchant| merchant.district.as_str());
            let selected = self.merchant.as_ref().is_none_or(|wanted| *wanted == row.merchant)
                && self.industry.is_none_or(|wanted| wanted == industry)
                && self.district.as_ref().is_none_or(|wanted| wanted == district);
            if !selected || self.to.as_ref().is_some_and(|to| row.day > *to) {
                continue;
            }
            let group = match self.group_by {
                GroupBy::Total => "total".to_owned(),
                GroupBy::Merchant => row.merchant.clone(),
                GroupBy::Industry => serde_json::to_value(industry)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                GroupBy::District => district.to_owned(),
                GroupBy::Day => row.day.clone(),
            };
            let change = Stock::of(&row.figures);
            if self.group_by == GroupBy::Day {
                stock_by_day.entry(row.day.clone()).or_default().add(change);
            }
            let (figures, stock) = groups.entry(group).or_default();
            stock.add(change);
            if self.from.as_ref().is_none_or(|from| row.day >= *from) {
                figures.add(&row.figures);
            }
        }
        // By day, what stands at the end of each day is everything before it too.
        let mut running = Stock::default();
        let stock_at: BTreeMap<String, Stock> = stock_by_day
            .into_iter()
            .map(|(day, change)| {
                running.add(change);
                (day, running)
            })
            .collect();
        groups
            .into_iter()
            .filter(|(group, (figures, _))| {
                self.group_by != GroupBy::Day
                    || (!figures.is_zero() && self.from.as_ref().is_none_or(|from| group >= from))
            })
            .map(|(group, (figures, stock))| {
                let stock = stock_at.get(&group).copied().unwrap_or(stock);
                Line {
                    frozen: yuan(stock.frozen),
                    pending_requests: stock.pending,
                    open_disputes: stock.disputed,
                    claims_outstanding: yuan(stock.outstanding),
                    exposure: yuan(stock.outstanding + stock.unearned),
                    unsupervised: yuan(figures.unsupervised),
                    owed: yuan(figures.owed),
                    collected: yuan(figures.collected),
                    paid: yuan(figures.paid),
                    released: yuan(figures.released),
                    refunded: yuan(figures.refunded),
                    wallets: figures.opened,
                    requests: figures.requests,
                    refunds: figures.refunds,
                    disputes: figures.disputes,
                    group,
                }
            })
            .collect()
    }
}

/// What stands at a moment, summed from changes: money frozen, claims outstanding and
/// the unearned part outside supervision (fen), requests awaiting authorization, wallets
/// in dispute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stock {
    frozen: i128,
    outstanding: i128,
    unearned: i128,
    pending: i64,
    disputed: i64,
}

impl Stock {
    fn of(figures: &Figures) -> Stock {
        Stock {
            frozen: figures.frozen(),
            outstanding: figures.outstanding(),
            unearned: i128::from(figures.unearned),
            pending: figures.pending,
            disputed: figures.disputed,
        }
    }

    fn add(&mut self, change: Stock) {
        self.frozen += change.frozen;
        self.outstanding += change.outstanding;
        self.unearned += change.unearned;
        self.pending += change.pending;
        self.disputed += change.disputed;
    }
}
