//! The supervision platform around the wallets: the registry of merchants and listings
//! (see [`crate::registry`]), merchants' closures applied on their date, and the
//! regulator's statistics (see [`crate::stats`]).

use prepaid_contract::money::Amount;
use serde_json::json;

use crate::alerts::{evaluate, Alert};
use crate::clock::CLOSURE_ID_PREFIX;
use crate::envelope::{rfc3339, Envelope};
use crate::error::{Error, Result};
use crate::ledger::{per_event, Ledger};
use crate::notices::{self, Audience, Notice};
use crate::registry::{Action, Actor, ClosureReport, MerchantClosure, MerchantStatus, Record, Registry};
use crate::stats::{business_day, Line, Query};
use crate::text::yuan;
use crate::webhooks::Delivery;
use prepaid_contract::policy::DAY_SECONDS;

/// How many times a registry change is tried again after another host recorded first.
const REGISTRY_ATTEMPTS: usize = 16;

/// Where a merchant's closure stands while the platform applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosureProgress {
    /// The merchant.
    pub merchant: String,
    /// Wallets done so far.
    pub done: usize,
    /// Wallets to do.
    pub total: usize,
}

/// The supervision platform's duties over a ledger's wallets: the registry, closures,
/// notices, webhook deliveries, alerts and statistics. Got from [`Ledger::platform`]; it
/// keeps nothing of its own, so it is made wherever it is needed.
#[derive(Clone, Copy)]
pub struct Platform<'a> {
    ledger: &'a Ledger,
}

impl Ledger {
    /// The platform's duties over this ledger's wallets (see [`Platform`]).
    pub fn platform(&self) -> Platform<'_> {
        Platform { ledger: self }
    }
}

impl Platform<'_> {
    /// The registry as the store holds it now.
    pub fn registry(&self) -> Result<Registry> {
        Ok(self.ledger.fresh_registry()?.clone())
    }

    /// Up to `limit` records of the registry's log after number `after`, checked as
    /// a chain.
    pub fn registry_records(&self, after: u64, limit: usize) -> Result<Vec<Record>> {
        drop(self.ledger.fresh_registry()?);
        let mut records = self.ledger.with_store(|store| store.registry_since(after))?;
        records.truncate(limit);
        Ok(records)
    }

    /// Records `action` by `by` now, on the ledger's clock (see [`Platform::record_at`]).
    pub fn record_change(&self, by: Actor, action: Action) -> Result<Record> {
        self.record_at(by, action, self.ledger.clock().now()?)
    }

    /// Records `action` by `by` at `now` (seconds since the Unix epoch) in the registry, if
    /// the registry as it is allows it; another host recording first makes it check again.
    /// A refusal says why, and records nothing.
    pub fn record_at(&self, by: Actor, action: Action, now: i64) -> Result<Record> {
        let notice_days = self.closure_notice_days()?;
        for _ in 0..REGISTRY_ATTEMPTS {
            // The connection first, then the registry's lock, as admission takes them.
            let recorded = self.ledger.with_store(|store| {
                let mut registry = self.ledger.registry_on(store)?;
                let record = registry.next(by.clone(), action.clone(), now, self.ledger.trust(), notice_days)?;
                store.registry_append(&record)?;
                registry.apply(&record)?;
                Ok(record)
            });
            match recorded {
                Err(Error::Conflict { .. }) => continue,
                recorded => return recorded,
            }
        }
        Err(Error::Busy("the registry: other hosts kept recording first".into()))
    }

    /// The days of notice a closure must give: as the journal records them (see
    /// [`Ledger::with_registry`]), else the regulation's 30.
    pub fn closure_notice_days(&self) -> Result<u32> {
        Ok(self
            .ledger
            .catalogue()?
            .unwrap_or(crate::registry::DEFAULT_CLOSURE_NOTICE_DAYS))
    }

    /// Indexes every wallet journaled before its parties were: under its merchant (from its
    /// accepted `open`), so that a closure reaches it, and under its consumer (from its
    /// head's state, read natively, or by its component where this build does not read
    /// it), so that the consumer's and the merchant's access checks and lists find it.
    /// Returns the wallets it could not index, with why: one wallet's fault holds up
    /// neither the others nor the service. `prepaid serve` runs it as it starts.
    pub fn index_parties(&self) -> Result<Vec<(String, Error)>> {
        let unindexed = self.ledger.with_store(|store| store.unindexed())?;
        let mut failed = Vec::new();
        for wallet in unindexed {
            if let Err(error) = self.index_wallet(&wallet) {
                failed.push((wallet, error));
            }
        }
        Ok(failed)
    }

    /// Indexes `wallet` under whichever of its parties it is not indexed under yet.
    fn index_wallet(&self, wallet: &str) -> Result<()> {
        let consumer = self.ledger.with_store(|store| {
            if store.merchant_of(wallet)?.is_none() {
                for entry in store.entries(wallet)? {
                    if let Some(sale) = crate::stats::Facts::of(&entry, None, None)?.sale {
                        store.index_sale(wallet, &sale, &entry.at)?;
                        break;
                    }
                }
            }
            if store.holder_of(wallet)?.is_some() {
                return Ok(None);
            }
            Ok(store
                .wallet(wallet)?
                .and_then(|head| head.state)
                .map(|state| prepaid_contract::details(&state).map(|details| details.view.consumer.to_string())))
        })?;
        let consumer = match consumer {
            None => return Ok(()),
            Some(Ok(consumer)) => consumer,
            // A state this build does not read: its component says whose it is.
            Some(Err(_)) => match self.ledger.view(wallet)? {
                Some(view) => view.consumer,
                None => return Ok(()),
            },
        };
        self.ledger.with_store(|store| store.index_holder(wallet, &consumer))
    }

    /// Applies every closure due by now to every wallet of its merchant still holding
    /// money, then records the merchant closed with a report, unless a wallet was refused
    /// (the report names it; the merchant stays closing and the next call tries again).
    /// `progress` hears of each wallet done. Each wallet's closure is an event with an id of the closure's own
    /// ([`CLOSURE_ID_PREFIX`] and its time), so a run cut short (a crash, a restart) and
    /// run again takes up where it stopped: what was done is replayed, not done twice.
    pub fn close_due_merchants(
        &self,
        mut progress: impl FnMut(&ClosureProgress),
    ) -> Result<Vec<(String, ClosureReport)>> {
        let now = self.ledger.clock().now()?;
        let due = self.ledger.fresh_registry()?.closures_due(now);
        if !due.is_empty() {
            self.index_parties()?;
        }
        let mut reports = Vec::new();
        for (merchant, closure) in due {
            let wallets = self.ledger.with_store(|store| store.sales_of(&merchant))?;
            let mut report = ClosureReport::default();
            let (mut refunded, mut owed) = (Amount::ZERO, Amount::ZERO);
            let add = |sum: Amount, amount: Amount| {
                sum.checked_add(amount)
                    .ok_or_else(|| Error::fault("a closure's refunds overflow"))
            };
            for (done, wallet) in wallets.iter().enumerate() {
                // One wallet's fault (a component that will not load) holds up neither
                // the others nor the merchants after it: it is named in the report.
                match self.close_wallet(wallet, &merchant, &closure) {
                    Ok(Closed::Already) => report.already_closed += 1,
                    Ok(Closed::Now {
                        refunded: back,
                        owed: claimed,
                    }) => {
                        report.closed += 1;
                        refunded = add(refunded, back)?;
                        owed = add(owed, claimed)?;
                    }
                    Ok(Closed::Refused(why)) => report.refused.push(format!("{wallet}: {why}")),
                    Err(error) => report.refused.push(format!("{wallet}: {error}")),
                }
                progress(&ClosureProgress {
                    merchant: merchant.clone(),
                    done: done + 1,
                    total: wallets.len(),
                });
            }
            report.refunded = yuan(refunded.fen());
            report.owed = (!owed.is_zero()).then(|| owed.to_string());
            // Closed only once every wallet is: a wallet refused (a regulator other than
            // the closure's approved its terms) keeps the merchant closing, and the next
            // round tries it again, replaying what is done.
            if report.refused.is_empty() {
                let action = Action::ClosureApplied {
                    merchant: merchant.clone(),
                    report: report.clone(),
                };
                self.record_at(Actor::platform(), action, now)?;
            }
            reports.push((merchant, report));
        }
        Ok(reports)
    }

    /// Applies `closure` to `wallet` now, unless the wallet was closed before it.
    fn close_wallet(&self, wallet: &str, merchant: &str, closure: &MerchantClosure) -> Result<Closed> {
        let id = format!("{CLOSURE_ID_PREFIX}{}", closure.effective);
        let lock = self.ledger.lock_wallet(wallet)?;
        let done = self.ledger.with_store(|store| store.entry_by_event_id(wallet, &id))?;
        if done.is_none() && self.ledger.view(wallet)?.is_none_or(|view| view.status == "closed") {
            return Ok(Closed::Already);
        }
        let envelope = Envelope {
            wallet: wallet.to_owned(),
            id,
            at: Some(rfc3339(self.ledger.clock().now()?)?),
            event: json!({"type": "merchant_closed", "closure": {"merchant": merchant, "effective": closure.effective}}),
            signature: Some(closure.signature.clone()),
        };
        match per_event(self.ledger.record(&envelope, lock))? {
            Ok(submitted) => match submitted.verdict.error {
                Some(error) => Ok(Closed::Refused(error.code)),
                None => {
                    let total = |kind: &str| -> Result<Amount> {
                        let mut sum = Amount::ZERO;
                        for effect in submitted.verdict.effects.iter().filter(|effect| effect.kind == kind) {
                            let amount = Amount::parse(&effect.amount).map_err(|_| {
                                Error::fault(format!("a {kind} of {} in wallet {wallet}", effect.amount))
                            })?;
                            sum = sum
                                .checked_add(amount)
                                .ok_or_else(|| Error::fault("a closure's refunds overflow"))?;
                        }
                        Ok(sum)
                    };
                    Ok(Closed::Now {
                        refunded: total("refund")?,
                        owed: total("claim")?,
                    })
                }
            },
            Err(Error::Refused(refusal)) => Ok(Closed::Refused(refusal.code.as_str().to_owned())),
            Err(error) => Err(error),
        }
    }

    /// The notices for `audience` at `now`, looking `within_days` ahead (see
    /// [`crate::notices`]), soonest first: over the consumer's wallets, or the merchant's.
    pub fn notices_at(&self, audience: &Audience, now: i64, within_days: u32) -> Result<Vec<Notice>> {
        let until = now.saturating_add(i64::from(within_days) * DAY_SECONDS);
        let wallets = self.ledger.with_store(|store| match audience {
            Audience::Consumer(key) => store.holdings(key),
            Audience::Merchant(key) => store.sales_of(key),
        })?;
        let registry = self.ledger.fresh_registry()?.clone();
        let mut notices = Vec::new();
        for id in wallets {
            let Some(state) = self.ledger.head(&id)?.and_then(|head| head.state) else {
                continue;
            };
            // A wallet pinned to code whose state this build does not read has no notices.
            let Ok(details) = prepaid_contract::details(&state) else {
                continue;
            };
            let merchant = details.view.merchant.to_string();
            // The index may lag the head by a transfer: a wallet is the audience's only if
            // its head says so.
            let theirs = match audience {
                Audience::Consumer(key) => details.view.consumer.to_string() == *key,
                Audience::Merchant(key) => merchant == *key,
            };
            if !theirs {
                continue;
            }
            let closure = registry
                .merchant(&merchant)
                .filter(|found| found.status == MerchantStatus::Closing)
                .and_then(|found| found.closure.as_ref())
                .map(|closure| closure.effective);
            notices.extend(notices::of_wallet(&id, &details, closure, audience, now, until));
            if !details.view.owed.is_zero() {
                for claim in self.ledger.claims_of(&id)? {
                    notices.extend(notices::of_claim(&claim, audience));
                }
            }
            // A closed wallet moves no more: what waited for its consumer waits no more.
            if matches!(audience, Audience::Consumer(_))
                && details.view.status != prepaid_contract::state::Status::Closed
            {
                if let Some(asked_at) = self.ledger.migration_asked_at(&id)? {
                    notices.push(notices::migration_waiting(&id, asked_at));
                }
            }
        }
        notices.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(notices)
    }

    /// Where the delivery of notice `notice` to webhook `webhook` stands (see
    /// [`crate::webhooks`]).
    pub fn delivery(&self, webhook: &str, notice: &str) -> Result<Option<Delivery>> {
        self.ledger.with_store(|store| store.delivery(webhook, notice))
    }

    /// Records a webhook delivery attempt in the delivery log.
    pub fn record_delivery(&self, delivery: &Delivery) -> Result<()> {
        self.ledger.with_store(|store| store.record_delivery(delivery))
    }

    /// The latest `limit` deliveries to `webhook`, the latest attempt first.
    pub fn deliveries(&self, webhook: &str, limit: usize) -> Result<Vec<Delivery>> {
        self.ledger.with_store(|store| store.deliveries(webhook, limit))
    }

    /// The alerts the regulator's rules raise now (see [`crate::alerts`]).
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        self.alerts_at(self.ledger.clock().now()?)
    }

    /// The alerts the regulator's rules raise at `now` (seconds since the Unix epoch): on a
    /// scripted clock, the time of the history's last event.
    pub fn alerts_at(&self, now: i64) -> Result<Vec<Alert>> {
        let registry = self.ledger.fresh_registry()?.clone();
        let rules = registry.alert_rules();
        let today = business_day(&rfc3339(now)?)?;
        let first = business_day(&rfc3339(now - i64::from(rules.trailing_days) * DAY_SECONDS)?)?;
        let rows = self.ledger.with_store(|store| store.day_rows(Some(&today)))?;
        // Each merchant's oldest claim not yet paid (they come oldest first).
        let mut overdue = std::collections::BTreeMap::new();
        if rules.claim_older_than_days.is_some() {
            for claim in self.ledger.open_claims()? {
                let age = (now - claim.at).max(0) / DAY_SECONDS;
                overdue.entry(claim.merchant).or_insert((claim.claim, age));
            }
        }
        evaluate(
            rules,
            &rows,
            &registry,
            &today,
            &first,
            |merchant, at| self.ledger.with_store(|store| store.sales_after(merchant, at)),
            &overdue,
        )
    }

    /// The regulator's statistics for `query` (see [`crate::stats`]).
    pub fn stats(&self, query: &Query) -> Result<Vec<Line>> {
        query.check()?;
        let rows = self.ledger.with_store(|store| store.day_rows(query.to.as_deref()))?;
        Ok(query.lines(&rows, &*self.ledger.fresh_registry()?))
    }
}

/// What applying a closure to one wallet did.
enum Closed {
    /// The wallet was closed before.
    Already,
    /// It closed the wallet, refunding this much, with this much owed besides (claims).
    Now {
        /// What went back from the wallet.
        refunded: Amount,
        /// What the merchant owes the consumer besides.
        owed: Amount,
    },
    /// The contract or the host refused it, with the code.
    Refused(String),
}
