//! The platform's registry: merchants reviewed before they sell, a catalogue of listings
//! the regulator approves for a time, and merchants' closures.
//!
//! On Suzhou's platform merchants register and are reviewed before they list products, and
//! a consumer buys a listed product; a closure is announced 30 days ahead, after which sales
//! stop and balances come back (Shanghai, Beijing; Jinan refunds automatically). Here:
//! - a merchant registers (name, industry, district, licence, its public key) and is
//!   `pending` until the regulator approves it; the regulator may suspend it;
//! - an approved merchant submits a [`Listing`] (name, category, product terms, policy),
//!   `pending` until the regulator approves it, with the regulator's signature over the
//!   listing and its expiry (the approval the contract checks), or rejects it; an approved
//!   listing can be revoked, or approved again with a new expiry;
//! - the regulator records a merchant's closure, signed once for all its wallets, at least
//!   the notice ahead; the merchant is `closing` from then on and `closed` once the platform
//!   has applied the closure to every wallet ([`crate::Platform::close_due_merchants`]).
//!
//! A ledger with the registry ([`crate::Ledger::with_registry`]) refuses an `open` that
//! does not name an approved, unexpired listing of an approved merchant with the listing's
//! exact terms and approval ([`Registry::admit_open`]), recording nothing.
//!
//! Every change is a [`Record`] of an append-only log, hash-chained, with who made it and
//! when; the registry is that log folded ([`Registry::apply`]), so any host sharing the store
//! reads the same registry.

use std::collections::BTreeMap;

use anyhow::Context as _;
use ed25519_dalek::{Signature, VerifyingKey};
use prepaid_contract::authorization::{approval_message, closure_message, terms_json};
use prepaid_contract::event::Listing as ListedAs;
use prepaid_contract::money::Amount;
use prepaid_contract::policy::{Policy, DAY_SECONDS};
use prepaid_contract::products::Product;
use prepaid_contract::{Event, NativeCrypto};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::{rfc3339, Envelope};
use crate::error::{Error, RefusalCode, Result};
use crate::journal::GENESIS_HASH;
use crate::notices::Audience;
use crate::outcome::{is_hex64, sha256_hex};
use crate::text::word;
use crate::trust::Trust;

/// Days of notice a closure must give, by default: Shanghai's and Beijing's 30.
pub const DEFAULT_CLOSURE_NOTICE_DAYS: u32 = 30;
/// The most days a calendar lists of each kind.
pub const MAX_CALENDAR_DAYS: usize = 2000;
/// The longest name, district, licence number, category or reason, in characters.
pub const MAX_TEXT_LEN: usize = 200;

/// What a merchant sells, as the regulator's statistics group it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    /// Dental clinics: orthodontics, implants, extractions, cleaning, root canals.
    Dental,
    /// Gyms, pools, fitness studios.
    Fitness,
    /// Schools and training.
    Education,
    /// Beauty and medical aesthetics.
    Beauty,
    /// Anything else.
    Other,
}

/// Where a merchant is in its life on the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MerchantStatus {
    /// Registered, awaiting the regulator's review: sells nothing.
    Pending,
    /// Approved: may list products and sell approved listings.
    Approved,
    /// Suspended by the regulator: sells nothing until approved again.
    Suspended,
    /// Its closure is recorded: sells nothing; its wallets are refunded on the date.
    Closing,
    /// Closed, every wallet's closure applied.
    Closed,
}

/// Where a listing is in its review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Submitted, awaiting review.
    Pending,
    /// Approved until its approval's `approved_until`.
    Approved,
    /// Rejected, with a reason.
    Rejected,
    /// Approved once, then revoked.
    Revoked,
}

/// A merchant as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merchant {
    /// Its public key (64 hex digits): the key its wallets name and its requests are
    /// signed with.
    pub merchant: String,
    /// Its name.
    pub name: String,
    /// What it sells.
    pub industry: Industry,
    /// The district it trades in.
    pub district: String,
    /// Its business licence number.
    pub licence: String,
    /// Where it is in its life.
    pub status: MerchantStatus,
    /// The reason of the latest review, suspension or closure.
    pub reason: Option<String>,
    /// Its closure, once recorded.
    pub closure: Option<MerchantClosure>,
    /// When its closure was recorded: from then on it sells nothing.
    pub closure_recorded_at: Option<String>,
    /// When it registered.
    pub registered_at: String,
    /// When its status last changed.
    pub changed_at: String,
}

/// A merchant's closure as the regulator signed it, and, once applied, what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantClosure {
    /// When it takes effect, seconds since the Unix epoch.
    pub effective: i64,
    /// The regulator's public key.
    pub regulator: String,
    /// The regulator's signature over the closure (`closure_message`).
    pub signature: String,
    /// What applying it did, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ClosureReport>,
}

/// What applying a closure to a merchant's wallets did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureReport {
    /// Wallets whose frozen money the closure returned.
    pub closed: u64,
    /// Wallets that were already closed (refunded, expired, consumed).
    pub already_closed: u64,
    /// Wallets the closure could not close, with why (another regulator's approval, for one).
    pub refused: Vec<String>,
    /// Everything the closure refunded, in yuan.
    pub refunded: String,
    /// What the closed wallets' claims say the merchant owes their consumers besides, in
    /// yuan, where it owes anything (a supervised share it was paid outside the wallets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed: Option<String>,
}

/// A listing of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Its id, given by the registry.
    pub id: String,
    /// The merchant selling it.
    pub merchant: String,
    /// What it is called ("Invisalign, full course").
    pub name: String,
    /// Its category ("orthodontics", "implant", "membership").
    pub category: String,
    /// The product terms, as an `open` carries them.
    pub product: Value,
    /// The policy, as an `open` carries it.
    pub policy: Value,
    /// Where it is in its review.
    pub status: ListingStatus,
    /// The reason of the latest review or revocation.
    pub reason: Option<String>,
    /// The regulator's approval, once approved (kept after a revocation, for the record).
    pub approval: Option<Approval>,
    /// When it was submitted.
    pub submitted_at: String,
    /// When its status last changed.
    pub changed_at: String,
}

impl Listing {
    /// Its terms as a regulator's approval signs them
    /// ([`prepaid_contract::authorization::terms_json`]), for a signer to show and sign.
    pub fn signed_terms(&self) -> Result<String> {
        let (product, policy) = terms(&self.product, &self.policy)?;
        String::from_utf8(terms_json(&product, &policy))
            .map_err(|error| crate::Error::fault(format!("terms are not UTF-8: {error}")))
    }

    /// The unsigned `open` event by which `consumer` (a public key, hex) buys this
    /// listing, once approved: its merchant, terms and approval, exactly, awaiting the
    /// price from the payment rail (`funded`).
    pub fn open_event(&self, consumer: &str) -> Result<Value> {
        let approval = match (&self.status, &self.approval) {
            (ListingStatus::Approved, Some(approval)) => approval,
            (status, _) => {
                return Err(refused(
                    RefusalCode::ListingNotForSale,
                    format!("listing {} is {}, not approved", self.id, word(status)),
                ))
            }
        };
        Ok(serde_json::json!({
            "type": "open",
            "consumer": consumer,
            "merchant": self.merchant,
            "regulator": approval.regulator,
            "product": self.product,
            "policy": self.policy,
            "approval": approval.signature,
            "listing": {"id": self.id, "approved_until": approval.approved_until},
            "awaiting_funding": true,
        }))
    }

    /// The regulator `key`'s approval of this listing until `approved_until`.
    pub fn approve(&self, key: &ed25519_dalek::SigningKey, approved_until: i64) -> Result<Approval> {
        let (product, policy) = terms(&self.product, &self.policy)?;
        let merchant = merchant_key(&self.merchant)?;
        let listed = ListedAs {
            id: self.id.clone(),
            approved_until,
        };
        let message = approval_message(&NativeCrypto, &merchant, Some(&listed), &product, &policy);
        Ok(Approval {
            regulator: crate::keys::public_key(key).to_string(),
            signature: hex::encode(ed25519_dalek::Signer::sign(key, &message).to_bytes()),
            approved_until,
        })
    }
}

impl MerchantClosure {
    /// The regulator `key`'s closure of `merchant` (a public key, hex) from `effective`.
    pub fn sign(key: &ed25519_dalek::SigningKey, merchant: &str, effective: i64) -> Result<MerchantClosure> {
        let signature = crate::keys::sign_closure(key, &merchant_key(merchant)?, effective);
        Ok(MerchantClosure {
            effective,
            regulator: crate::keys::public_key(key).to_string(),
            signature: signature.to_string(),
            report: None,
        })
    }
}

/// The contract's reading of the merchant key `hex_key`.
fn merchant_key(hex_key: &str) -> Result<prepaid_contract::keys::PublicKey> {
    verifying_key("merchant", hex_key)?;
    let bytes = hex::decode(hex_key).context("a merchant key")?;
    Ok(prepaid_contract::keys::PublicKey::from_slice(&bytes).context("a merchant key")?)
}

/// The most entries one look-up of the public register returns.
pub const MAX_REGISTER_ENTRIES: usize = 50;

/// A merchant as the public register shows it to anyone: who it is, whether it may sell,
/// what it sells under an approval, and its closure, if one is recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterEntry {
    /// Its name.
    pub name: String,
    /// Its business licence number, registered once.
    pub licence: String,
    /// Its public key (hex): the key a wallet names as its merchant.
    pub merchant: String,
    /// Whether it may sell.
    pub status: MerchantStatus,
    /// Its trade.
    pub industry: Industry,
    /// The district it trades in.
    pub district: String,
    /// When its recorded closure takes effect, if one is.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::outcome::rfc3339_option")]
    pub closure_effective: Option<i64>,
    /// Its listings the regulator approved and has not revoked.
    pub listings: Vec<RegisteredListing>,
}

/// An approved listing, as the public register shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisteredListing {
    /// Its id: an `open` of it names it.
    pub id: String,
    /// What it is called.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Until when it may be sold.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::outcome::rfc3339_option")]
    pub approved_until: Option<i64>,
}

/// The regulator's approval of a listing: what an `open` of it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The regulator's public key.
    pub regulator: String,
    /// The regulator's signature over the listing (`approval_message` with the listing).
    pub signature: String,
    /// The last time (seconds since the Unix epoch) an `open` of the listing may apply.
    pub approved_until: i64,
}

/// A review of a merchant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MerchantDecision {
    /// It may sell (again).
    Approve,
    /// It may not sell until approved again.
    Suspend,
}

/// A review of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingDecision {
    /// Approved, with the regulator's signed approval.
    Approve,
    /// Rejected.
    Reject,
}

/// The longest webhook address.
pub const MAX_URL_LEN: usize = 512;

/// A webhook the platform registered: where one party's notices are delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    /// Its id (`H` and the number of the record that registered it).
    pub webhook: String,
    /// Where notices are posted.
    pub url: String,
    /// Whose notices.
    pub audience: Audience,
    /// How many days ahead the notices look.
    pub within_days: u32,
    /// When it was registered.
    pub registered_at: String,
}

/// One change to the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A merchant registers (pending review).
    RegisterMerchant {
        /// Its public key.
        merchant: String,
        /// Its name.
        name: String,
        /// What it sells.
        industry: Industry,
        /// Its district.
        district: String,
        /// Its licence number.
        licence: String,
    },
    /// The regulator approves or suspends a merchant.
    ReviewMerchant {
        /// The merchant's key.
        merchant: String,
        /// Approve or suspend.
        decision: MerchantDecision,
        /// Why.
        reason: String,
    },
    /// A merchant submits a listing (pending review).
    SubmitListing {
        /// The id the registry gives it.
        listing: String,
        /// The merchant's key.
        merchant: String,
        /// Its name.
        name: String,
        /// Its category.
        category: String,
        /// The product terms.
        product: Value,
        /// The policy.
        policy: Value,
    },
    /// The regulator approves (with its signed approval) or rejects a listing.
    ReviewListing {
        /// The listing.
        listing: String,
        /// Approve or reject.
        decision: ListingDecision,
        /// Why.
        reason: String,
        /// The signed approval, for an approval.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<Approval>,
    },
    /// The regulator revokes an approved listing: no more sales of it.
    RevokeListing {
        /// The listing.
        listing: String,
        /// Why.
        reason: String,
    },
    /// The regulator records a merchant's closure, signed for its date.
    CloseMerchant {
        /// The merchant's key.
        merchant: String,
        /// Why.
        reason: String,
        /// The signed closure.
        closure: MerchantClosure,
    },
    /// The platform sets its holiday calendar (replacing the last), for policies that deem
    /// requests confirmed after working days.
    ConfigureCalendar {
        /// Weekdays off, `YYYY-MM-DD` (China Standard Time).
        holidays: Vec<String>,
        /// Weekend days worked, `YYYY-MM-DD`.
        workdays: Vec<String>,
    },
    /// The regulator sets the alert rules (replacing the last).
    ConfigureAlerts {
        /// The rules.
        rules: AlertRules,
    },
    /// The platform registers a webhook: the notices of one consumer or one merchant are
    /// delivered to `url`, signed.
    RegisterWebhook {
        /// The id the registry gives it.
        webhook: String,
        /// Where notices are posted (`http://` or `https://`).
        url: String,
        /// The party whose notices it gets: a consumer's key, or a merchant's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consumer: Option<String>,
        /// (Or the merchant's key: exactly one of the two.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        merchant: Option<String>,
        /// How many days ahead its notices look.
        within_days: u32,
    },
    /// The platform stops delivering to a webhook.
    RemoveWebhook {
        /// The webhook.
        webhook: String,
    },
    /// The platform has applied a closure to every wallet of the merchant.
    ClosureApplied {
        /// The merchant's key.
        merchant: String,
        /// What it did.
        report: ClosureReport,
    },
}

/// Who made a change: the role and name of the API key, or the platform itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// `operator`, `merchant`, `regulator`, or `platform` for the host's own work.
    pub role: String,
    /// The key's name.
    pub name: String,
}

impl Actor {
    /// The host itself (closures applied on their date).
    pub fn platform() -> Actor {
        Actor {
            role: "platform".into(),
            name: "prepaid".into(),
        }
    }
}

/// One entry of the registry's log: its number, when, who, what, and the hash chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Its number, from 1.
    pub n: u64,
    /// When it was recorded (RFC 3339, UTC).
    pub at: String,
    /// Who made it.
    pub by: Actor,
    /// What it changed.
    pub action: Action,
    /// The previous record's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 of this record's other fields, as JSON.
    pub hash: String,
}

impl Record {
    /// The hash of the record's fields but `hash`.
    pub fn compute_hash(&self) -> String {
        let fields = serde_json::json!([self.n, self.at, self.by, self.action, self.prev_hash]);
        sha256_hex(fields.to_string().as_bytes())
    }
}

/// The registry: its log, folded.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    merchants: BTreeMap<String, Merchant>,
    listings: BTreeMap<String, Listing>,
    alert_rules: AlertRules,
    webhooks: BTreeMap<String, Webhook>,
    /// The holiday calendar: weekdays off and weekend days worked, as days since
    /// 1970-01-01, sorted.
    calendar: (Vec<i64>, Vec<i64>),
    /// How many records are folded in, and the latest one's hash.
    n: u64,
    head: String,
}

fn refused(code: RefusalCode, message: impl Into<String>) -> Error {
    Error::refused(code, message)
}

/// Rejects a text field that is empty, too long or has control characters.
fn check_text(field: &str, value: &str) -> Result<()> {
    // Invisible characters would make a name read differently on a page or a terminal
    // than it is (a right-to-left override reverses the figures beside it), or make two
    // names that look the same differ.
    if value.trim().is_empty() || value.chars().count() > MAX_TEXT_LEN || value.chars().any(crate::text::is_hidden) {
        return Err(refused(
            RefusalCode::BadRegistryEntry,
            format!(
                "`{field}` must be 1 to {MAX_TEXT_LEN} characters, without control or invisible formatting characters (direction overrides, zero-width characters)"
            ),
        ));
    }
    Ok(())
}

/// The longest licence number, in characters: a unified social credit code has 18.
pub const MAX_LICENCE_LEN: usize = 32;

/// Rejects a licence number that is not ASCII letters and digits: one business has one
/// spelling of it, so no space, hyphen, full-width digit or look-alike letter can register
/// it twice.
fn check_licence(licence: &str) -> Result<()> {
    let licence = licence.trim();
    if licence.is_empty() || licence.len() > MAX_LICENCE_LEN || !licence.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(refused(
            RefusalCode::BadRegistryEntry,
            format!(
                "a licence number (the unified social credit code) is 1 to {MAX_LICENCE_LEN} ASCII letters and digits, without spaces or other characters"
            ),
        ));
    }
    Ok(())
}

/// A licence number as licences are compared: trimmed, ASCII letters in upper case.
fn licence_key(licence: &str) -> String {
    licence.trim().to_ascii_uppercase()
}

/// The party a webhook's registration names: exactly one key, a consumer's or a merchant's.
fn webhook_audience(consumer: Option<&str>, merchant: Option<&str>) -> Result<Audience> {
    match (consumer, merchant) {
        (Some(key), None) => verifying_key("consumer", key).map(|_| Audience::Consumer(key.to_ascii_lowercase())),
        (None, Some(key)) => verifying_key("merchant", key).map(|_| Audience::Merchant(key.to_ascii_lowercase())),
        _ => Err(refused(
            RefusalCode::BadRegistryEntry,
            "a webhook names one party: `consumer` or `merchant`, a public key",
        )),
    }
}

/// The ed25519 key `hex` names, or why not.
fn verifying_key(field: &str, hex_key: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .filter(|_| is_hex64(hex_key))
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            refused(
                RefusalCode::BadRegistryEntry,
                format!("`{field}` must be an ed25519 public key as 64 lower-case hex digits"),
            )
        })?;
    VerifyingKey::from_bytes(&bytes)
        .ok()
        .filter(|key| !key.is_weak())
        .ok_or_else(|| {
            refused(
                RefusalCode::BadRegistryEntry,
                format!("`{field}` is not a usable ed25519 public key"),
            )
        })
}

/// Whether `signature` (hex) is `key`'s signature of `message`, strictly.
fn signed(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    hex::decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .is_some_and(|signature| key.verify_strict(message, &signature).is_ok())
}

/// The terms of a listing, parsed and checked as the contract checks them at `open`.
fn terms(product: &Value, policy: &Value) -> Result<(Product, Policy)> {
    let bad = |error: String| refused(RefusalCode::BadRegistryEntry, error);
    let product: Product = serde_json::from_value(product.clone())
        .map_err(|error| bad(format!("`product` is not valid terms: {error}")))?;
    let policy: Policy = serde_json::from_value(policy.clone())
        .map_err(|error| bad(format!("`policy` is not a valid policy: {error}")))?;
    product.validate().map_err(|error| bad(error.to_string()))?;
    policy.validate().map_err(|error| bad(error.to_string()))?;
    policy.check_caps(&product).map_err(|error| bad(error.to_string()))?;
    Ok((product, policy))
}

impl Registry {
    /// The registry a whole log of `records` makes (a store's:
    /// [`crate::store::Store::registry_since`] 0), folded and checked as a chain.
    pub fn read(records: impl IntoIterator<Item = Record>) -> Result<Registry> {
        let mut registry = Registry::default();
        for record in records {
            registry.apply(&record)?;
        }
        Ok(registry)
    }

    /// The merchant with key `merchant`.
    pub fn merchant(&self, merchant: &str) -> Option<&Merchant> {
        self.merchants.get(merchant)
    }

    /// Every merchant, by key.
    pub fn merchants(&self) -> impl Iterator<Item = &Merchant> {
        self.merchants.values()
    }

    /// The merchant registered under `licence` (compared without case or surrounding
    /// space), if one is.
    pub fn merchant_by_licence(&self, licence: &str) -> Option<&Merchant> {
        let licence = licence_key(licence);
        self.merchants
            .values()
            .find(|merchant| licence_key(&merchant.licence) == licence)
    }

    /// The public register's entries for `query` at `now`: every merchant the regulator
    /// has reviewed (none still awaiting its first review, so that no one passes as a
    /// business by registering its name) whose licence is it, or whose name contains it
    /// (without case), by name, with its listings approved and not expired; at most
    /// [`MAX_REGISTER_ENTRIES`].
    pub fn look_up(&self, query: &str, now: i64) -> Vec<RegisterEntry> {
        let licence = licence_key(query);
        let name = query.trim().to_lowercase();
        let mut found: Vec<&Merchant> = self
            .merchants
            .values()
            .filter(|merchant| merchant.status != MerchantStatus::Pending)
            .filter(|merchant| {
                licence_key(&merchant.licence) == licence || merchant.name.to_lowercase().contains(&name)
            })
            .collect();
        found.sort_by(|a, b| (&a.name, &a.licence).cmp(&(&b.name, &b.licence)));
        found
            .into_iter()
            .take(MAX_REGISTER_ENTRIES)
            .map(|merchant| RegisterEntry {
                name: merchant.name.clone(),
                licence: merchant.licence.clone(),
                merchant: merchant.merchant.clone(),
                status: merchant.status,
                industry: merchant.industry,
                district: merchant.district.clone(),
                closure_effective: merchant.closure.as_ref().map(|closure| closure.effective),
                listings: self
                    .listings
                    .values()
                    .filter(|listing| {
                        listing.merchant == merchant.merchant && listing.status == ListingStatus::Approved
                    })
                    .filter(|listing| {
                        listing
                            .approval
                            .as_ref()
                            .is_some_and(|approval| approval.approved_until >= now)
                    })
                    .map(|listing| RegisteredListing {
                        id: listing.id.clone(),
                        name: listing.name.clone(),
                        category: listing.category.clone(),
                        approved_until: listing.approval.as_ref().map(|approval| approval.approved_until),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The listing `id`.
    pub fn listing(&self, id: &str) -> Option<&Listing> {
        self.listings.get(id)
    }

    /// Every listing, by id.
    pub fn listings(&self) -> impl Iterator<Item = &Listing> {
        self.listings.values()
    }

    /// The webhooks registered and not removed, by id.
    pub fn webhooks(&self) -> impl Iterator<Item = &Webhook> {
        self.webhooks.values()
    }

    /// The alert rules the regulator set last (none raise anything until it does, but
    /// sales after a closure notice).
    pub fn alert_rules(&self) -> &AlertRules {
        &self.alert_rules
    }

    /// The platform's calendar: the State Council's schedules shipped with the host
    /// ([`crate::holidays`]) and the days set here, weekdays off and weekend days worked,
    /// as days since 1970-01-01, each sorted once.
    fn days_off_and_worked(&self) -> (Vec<i64>, Vec<i64>) {
        let (mut holidays, mut workdays) = crate::holidays::shipped();
        holidays.extend(&self.calendar.0);
        workdays.extend(&self.calendar.1);
        for days in [&mut holidays, &mut workdays] {
            days.sort_unstable();
            days.dedup();
        }
        (holidays, workdays)
    }

    /// The calendar's days within 400 days of `now` (seconds since the Unix epoch), as a
    /// tick carries them; `None` when none falls within them.
    pub fn calendar_around(&self, now: i64) -> Option<Value> {
        let (holidays, workdays) = self.days_off_and_worked();
        let today = (now + crate::clock::CST_OFFSET).div_euclid(DAY_SECONDS);
        let near =
            |days: &Vec<i64>| -> Vec<i64> { days.iter().copied().filter(|day| (day - today).abs() <= 400).collect() };
        let (holidays, workdays) = (near(&holidays), near(&workdays));
        (!holidays.is_empty() || !workdays.is_empty())
            .then(|| serde_json::json!({"holidays": holidays, "workdays": workdays}))
    }

    /// The holiday calendar: the shipped schedules and the days set, weekdays off and
    /// weekend days worked, `YYYY-MM-DD`.
    pub fn calendar(&self) -> (Vec<String>, Vec<String>) {
        let written = |days: &Vec<i64>| -> Vec<String> {
            days.iter()
                .filter_map(|day| rfc3339(day * DAY_SECONDS).ok().map(|at| at[..10].to_owned()))
                .collect()
        };
        let (holidays, workdays) = self.days_off_and_worked();
        (written(&holidays), written(&workdays))
    }

    /// How many records are folded in.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether no record is folded in yet.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The next record, if `by` may make `action` at `now` (seconds since the Unix epoch)
    /// on this registry; a listing submitted gets its id here. `trust` names the
    /// regulators whose approvals and closures count; `notice_days` is the closure notice.
    pub fn next(
        &self,
        by: Actor,
        mut action: Action,
        now: i64,
        trust: Option<&Trust>,
        notice_days: u32,
    ) -> Result<Record> {
        self.check(&mut action, now, trust, notice_days)?;
        let mut record = Record {
            n: self.n + 1,
            at: rfc3339(now)?,
            by,
            action,
            prev_hash: self.head_hash().to_owned(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        Ok(record)
    }

    fn head_hash(&self) -> &str {
        if self.head.is_empty() {
            GENESIS_HASH
        } else {
            &self.head
        }
    }

    fn known_merchant(&self, merchant: &str) -> Result<&Merchant> {
        self.merchants.get(merchant).ok_or_else(|| {
            refused(
                RefusalCode::UnknownMerchant,
                format!("merchant {merchant} is not registered"),
            )
        })
    }

    fn known_listing(&self, listing: &str) -> Result<&Listing> {
        self.listings
            .get(listing)
            .ok_or_else(|| refused(RefusalCode::UnknownListing, format!("there is no listing {listing:?}")))
    }

    fn check_regulator(&self, trust: Option<&Trust>, regulator: &str) -> Result<VerifyingKey> {
        if let Some(trust) = trust {
            if trust.regulator(regulator).is_none() {
                return Err(refused(
                    RefusalCode::UntrustedRegulator,
                    format!("regulator {regulator:?} is not in this platform's trust file"),
                ));
            }
        }
        verifying_key("regulator", regulator)
    }

    /// Whether `action` may be made at `now`; fills in a submitted listing's id.
    fn check(&self, action: &mut Action, now: i64, trust: Option<&Trust>, notice_days: u32) -> Result<()> {
        let wrong_status = |message: String| Err(refused(RefusalCode::WrongStatus, message));
        match action {
            Action::RegisterMerchant {
                merchant,
                name,
                district,
                licence,
                ..
            } => {
                verifying_key("merchant", merchant)?;
                check_text("name", name)?;
                check_text("district", district)?;
                check_text("licence", licence)?;
                check_licence(licence)?;
                if self.merchants.contains_key(merchant.as_str()) {
                    return Err(refused(
                        RefusalCode::AlreadyRegistered,
                        format!("merchant {merchant} is already registered"),
                    ));
                }
                // A licence is one business: a second merchant under it would pass as the
                // first in the register.
                if let Some(holder) = self.merchant_by_licence(licence) {
                    return Err(refused(
                        RefusalCode::AlreadyRegistered,
                        format!("licence {licence} is already registered, to {}", holder.name),
                    ));
                }
                Ok(())
            }
            Action::ReviewMerchant {
                merchant,
                decision,
                reason,
            } => {
                check_text("reason", reason)?;
                let status = self.known_merchant(merchant)?.status;
                match (*decision, status) {
                    (MerchantDecision::Approve, MerchantStatus::Pending | MerchantStatus::Suspended)
                    | (MerchantDecision::Suspend, MerchantStatus::Pending | MerchantStatus::Approved) => Ok(()),
                    _ => wrong_status(format!(
                        "a {} merchant cannot be given the decision {}",
                        word(&status),
                        word(decision)
                    )),
                }
            }
            Action::SubmitListing {
                listing,
                merchant,
                name,
                category,
                product,
                policy,
            } => {
                check_text("name", name)?;
                check_text("category", category)?;
                let status = self.known_merchant(merchant)?.status;
                if status != MerchantStatus::Approved {
                    return wrong_status(format!(
                        "merchant {merchant} is {}: only an approved merchant lists products",
                        word(&status)
                    ));
                }
                // Stored as an `open` will carry them, every field spelled out, so that an
                // open is compared with its listing field for field.
                let (parsed_product, parsed_policy) = terms(product, policy)?;
                *product = serde_json::to_value(&parsed_product).context("product terms")?;
                *policy = serde_json::to_value(&parsed_policy).context("policy")?;
                *listing = format!("L{}", self.n + 1);
                Ok(())
            }
            Action::ReviewListing {
                listing,
                decision,
                reason,
                approval,
            } => {
                check_text("reason", reason)?;
                let known = self.known_listing(listing)?;
                match (*decision, known.status, approval) {
                    (ListingDecision::Reject, ListingStatus::Pending, None) => Ok(()),
                    (ListingDecision::Approve, ListingStatus::Pending | ListingStatus::Approved, Some(approval)) => {
                        // Kept as an open will carry it, lower-case.
                        approval.signature.make_ascii_lowercase();
                        self.check_approval(known, approval, now, trust)
                    }
                    (ListingDecision::Reject, _, Some(_)) | (ListingDecision::Approve, _, None) => Err(refused(
                        RefusalCode::BadRegistryEntry,
                        "an approval carries the regulator's signed `approval`, and a rejection none",
                    )),
                    (_, status, _) => wrong_status(format!(
                        "a {} listing cannot be given the decision {}",
                        word(&status),
                        word(decision)
                    )),
                }
            }
            Action::RevokeListing { listing, reason } => {
                check_text("reason", reason)?;
                match self.known_listing(listing)?.status {
                    ListingStatus::Approved => Ok(()),
                    status => wrong_status(format!("a {} listing cannot be revoked", word(&status))),
                }
            }
            Action::CloseMerchant {
                merchant,
                reason,
                closure,
            } => {
                check_text("reason", reason)?;
                let status = self.known_merchant(merchant)?.status;
                if matches!(status, MerchantStatus::Closing | MerchantStatus::Closed) {
                    return wrong_status(format!("merchant {merchant} is already {}", word(&status)));
                }
                closure.signature.make_ascii_lowercase();
                if closure.report.is_some() {
                    return Err(refused(
                        RefusalCode::BadRegistryEntry,
                        "a closure is recorded without a report",
                    ));
                }
                let earliest = now + i64::from(notice_days) * DAY_SECONDS;
                if closure.effective < earliest {
                    return Err(refused(
                        RefusalCode::ShortNotice,
                        format!(
                            "a closure takes effect at least {notice_days} days after it is recorded: no earlier than {}",
                            rfc3339(earliest)?
                        ),
                    ));
                }
                let regulator = self.check_regulator(trust, &closure.regulator)?;
                let message = closure_message(&NativeCrypto, &merchant_key(merchant)?, closure.effective);
                if !signed(&regulator, &message, &closure.signature) {
                    return Err(refused(
                        RefusalCode::BadRegistryEntry,
                        "`closure.signature` is not the regulator's signature of this merchant's closure at `effective` \
                         (`prepaid regulator close`)",
                    ));
                }
                Ok(())
            }
            Action::ConfigureAlerts { rules } => rules.check(),
            Action::ConfigureCalendar { holidays, workdays } => {
                for (field, days, weekend) in [("holidays", holidays, false), ("workdays", workdays, true)] {
                    if days.len() > MAX_CALENDAR_DAYS {
                        return Err(refused(
                            RefusalCode::BadRegistryEntry,
                            format!("`{field}` lists at most {MAX_CALENDAR_DAYS} days"),
                        ));
                    }
                    for day in days.iter() {
                        let number = crate::clock::day_number(day).ok_or_else(|| {
                            refused(
                                RefusalCode::BadRegistryEntry,
                                format!("`{field}`: {day:?} is not a day as YYYY-MM-DD"),
                            )
                        })?;
                        // 1970-01-01 was a Thursday.
                        if ((number + 3).rem_euclid(7) >= 5) != weekend {
                            return Err(refused(
                                RefusalCode::BadRegistryEntry,
                                format!(
                                    "`{field}`: {day} is a {}; holidays are weekdays off, workdays weekend days worked",
                                    if weekend { "weekday" } else { "weekend day" }
                                ),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Action::RegisterWebhook {
                webhook,
                url,
                consumer,
                merchant,
                within_days,
            } => {
                let plain = url.starts_with("http://") || url.starts_with("https://");
                if !plain
                    || url.len() > MAX_URL_LEN
                    || url.chars().any(|c| crate::text::is_hidden(c) || c.is_whitespace())
                {
                    return Err(refused(
                        RefusalCode::BadRegistryEntry,
                        format!("`url` is an http:// or https:// address of at most {MAX_URL_LEN} characters"),
                    ));
                }
                webhook_audience(consumer.as_deref(), merchant.as_deref())?;
                if *within_days > crate::notices::MAX_WITHIN_DAYS {
                    return Err(refused(
                        RefusalCode::BadRegistryEntry,
                        format!("`within_days` is at most {}", crate::notices::MAX_WITHIN_DAYS),
                    ));
                }
                *webhook = format!("H{}", self.n + 1);
                Ok(())
            }
            Action::RemoveWebhook { webhook } => match self.webhooks.contains_key(webhook.as_str()) {
                true => Ok(()),
                false => Err(refused(
                    RefusalCode::UnknownWebhook,
                    format!("there is no webhook {webhook:?}"),
                )),
            },
            Action::ClosureApplied { merchant, .. } => match self.known_merchant(merchant)?.status {
                MerchantStatus::Closing => Ok(()),
                status => wrong_status(format!("merchant {merchant} is {}, not closing", word(&status))),
            },
        }
    }

    /// Checks a listing's approval: an unexpired signature of a trusted regulator over the
    /// listing's merchant, id, expiry and terms.
    fn check_approval(&self, listing: &Listing, approval: &Approval, now: i64, trust: Option<&Trust>) -> Result<()> {
        if approval.approved_until <= now {
            return Err(refused(
                RefusalCode::BadRegistryEntry,
                "`approval.approved_until` must be in the future",
            ));
        }
        let regulator = self.check_regulator(trust, &approval.regulator)?;
        let (product, policy) = terms(&listing.product, &listing.policy)?;
        let merchant = merchant_key(&listing.merchant)?;
        let listed = ListedAs {
            id: listing.id.clone(),
            approved_until: approval.approved_until,
        };
        let message = approval_message(&NativeCrypto, &merchant, Some(&listed), &product, &policy);
        if !signed(&regulator, &message, &approval.signature) {
            return Err(refused(
                RefusalCode::BadRegistryEntry,
                "`approval.signature` is not the regulator's signature of this listing's terms until `approved_until` \
                 (`prepaid regulator approve`)",
            ));
        }
        Ok(())
    }

    /// Folds `record` in: it must be the next, chained to the last, and apply to the
    /// registry as it is (a log that does not is not one this host wrote).
    pub fn apply(&mut self, record: &Record) -> Result<()> {
        if record.n != self.n + 1 || record.prev_hash != self.head_hash() || record.hash != record.compute_hash() {
            return Err(Error::fault(format!(
                "registry record {} does not follow record {} (hash {}): the registry's log was altered",
                record.n,
                self.n,
                self.head_hash()
            )));
        }
        let at = record.at.clone();
        let broken = || {
            Error::fault(format!(
                "registry record {} names what the registry does not hold",
                record.n
            ))
        };
        match &record.action {
            Action::RegisterMerchant {
                merchant,
                name,
                industry,
                district,
                licence,
            } => {
                self.merchants.insert(
                    merchant.clone(),
                    Merchant {
                        merchant: merchant.clone(),
                        name: name.clone(),
                        industry: *industry,
                        district: district.clone(),
                        licence: licence.clone(),
                        status: MerchantStatus::Pending,
                        reason: None,
                        closure: None,
                        closure_recorded_at: None,
                        registered_at: at.clone(),
                        changed_at: at,
                    },
                );
            }
            Action::ReviewMerchant {
                merchant,
                decision,
                reason,
            } => {
                let entry = self.merchants.get_mut(merchant).ok_or_else(broken)?;
                entry.status = match decision {
                    MerchantDecision::Approve => MerchantStatus::Approved,
                    MerchantDecision::Suspend => MerchantStatus::Suspended,
                };
                entry.reason = Some(reason.clone());
                entry.changed_at = at;
            }
            Action::SubmitListing {
                listing,
                merchant,
                name,
                category,
                product,
                policy,
            } => {
                self.listings.insert(
                    listing.clone(),
                    Listing {
                        id: listing.clone(),
                        merchant: merchant.clone(),
                        name: name.clone(),
                        category: category.clone(),
                        product: product.clone(),
                        policy: policy.clone(),
                        status: ListingStatus::Pending,
                        reason: None,
                        approval: None,
                        submitted_at: at.clone(),
                        changed_at: at,
                    },
                );
            }
            Action::ReviewListing {
                listing,
                decision,
                reason,
                approval,
            } => {
                let entry = self.listings.get_mut(listing).ok_or_else(broken)?;
                entry.status = match decision {
                    ListingDecision::Approve => ListingStatus::Approved,
                    ListingDecision::Reject => ListingStatus::Rejected,
                };
                entry.reason = Some(reason.clone());
                entry.approval = approval.clone().or(entry.approval.take());
                entry.changed_at = at;
            }
            Action::RevokeListing { listing, reason } => {
                let entry = self.listings.get_mut(listing).ok_or_else(broken)?;
                entry.status = ListingStatus::Revoked;
                entry.reason = Some(reason.clone());
                entry.changed_at = at;
            }
            Action::CloseMerchant {
                merchant,
                reason,
                closure,
            } => {
                let entry = self.merchants.get_mut(merchant).ok_or_else(broken)?;
                entry.status = MerchantStatus::Closing;
                entry.reason = Some(reason.clone());
                entry.closure = Some(closure.clone());
                entry.closure_recorded_at = Some(at.clone());
                entry.changed_at = at;
            }
            Action::RegisterWebhook {
                webhook,
                url,
                consumer,
                merchant,
                within_days,
            } => {
                let audience = webhook_audience(consumer.as_deref(), merchant.as_deref()).map_err(|_| broken())?;
                let hook = Webhook {
                    webhook: webhook.clone(),
                    url: url.clone(),
                    audience,
                    within_days: *within_days,
                    registered_at: at,
                };
                self.webhooks.insert(webhook.clone(), hook);
            }
            Action::RemoveWebhook { webhook } => {
                self.webhooks.remove(webhook).ok_or_else(broken)?;
            }
            Action::ConfigureAlerts { rules } => self.alert_rules = rules.clone(),
            Action::ConfigureCalendar { holidays, workdays } => {
                let numbers = |days: &Vec<String>| -> Vec<i64> {
                    let mut numbers: Vec<i64> = days.iter().filter_map(|day| crate::clock::day_number(day)).collect();
                    numbers.sort_unstable();
                    numbers.dedup();
                    numbers
                };
                self.calendar = (numbers(holidays), numbers(workdays));
            }
            Action::ClosureApplied { merchant, report } => {
                let entry = self.merchants.get_mut(merchant).ok_or_else(broken)?;
                entry.status = MerchantStatus::Closed;
                if let Some(closure) = &mut entry.closure {
                    closure.report = Some(report.clone());
                }
                entry.changed_at = at;
            }
        }
        self.n = record.n;
        self.head = record.hash.clone();
        Ok(())
    }

    /// The merchants whose closure is due by `now` and not yet applied.
    pub fn closures_due(&self, now: i64) -> Vec<(String, MerchantClosure)> {
        self.merchants
            .values()
            .filter(|merchant| merchant.status == MerchantStatus::Closing)
            .filter_map(|merchant| {
                let closure = merchant.closure.as_ref()?;
                (closure.effective <= now).then(|| (merchant.merchant.clone(), closure.clone()))
            })
            .collect()
    }

    /// Refuses an `open` at `now` unless it names an approved, unexpired listing of an
    /// approved merchant, with the listing's merchant, terms and approval exactly.
    pub fn admit_open(&self, envelope: &Envelope, now: i64) -> Result<()> {
        if envelope.kind() != Some("open") {
            return Ok(());
        }
        // An open that does not parse is the contract's to refuse (`bad_event`).
        let Ok(Event::Open(open)) = Event::parse(&envelope.body()) else {
            return Ok(());
        };
        let Some(named) = &open.listing else {
            return Err(refused(
                RefusalCode::Unlisted,
                "an `open` on this platform names the approved catalogue listing it buys (`listing`); \
                 see GET /v1/listings",
            ));
        };
        // Another merchant's listing is answered as one that does not exist: whoever sends
        // an open learns nothing of listings it could not see.
        let listing = self
            .listings
            .get(&named.id)
            .filter(|listing| listing.merchant == open.merchant.to_string())
            .ok_or_else(|| {
                refused(
                    RefusalCode::Unlisted,
                    format!("the open's merchant has no listing {:?} in the catalogue", named.id),
                )
            })?;
        let approval = match (&listing.status, &listing.approval) {
            (ListingStatus::Approved, Some(approval)) if approval.approved_until >= now => approval,
            (status, approval) => {
                let why = match (status, approval) {
                    (ListingStatus::Approved, _) => "its approval has lapsed".to_owned(),
                    (status, _) => format!("it is {}", word(status)),
                };
                return Err(refused(
                    RefusalCode::ListingNotForSale,
                    format!("listing {} is not for sale: {why}", listing.id),
                ));
            }
        };
        let merchant = self.merchants.get(&listing.merchant).map(|merchant| merchant.status);
        if merchant != Some(MerchantStatus::Approved) {
            return Err(refused(
                RefusalCode::MerchantNotSelling,
                format!(
                    "the merchant of listing {} may not sell: it is {}",
                    listing.id,
                    merchant.map_or("not registered".into(), |status| word(&status))
                ),
            ));
        }
        let same = open.merchant.to_string() == listing.merchant
            && open.regulator.to_string() == approval.regulator
            && open.approval.to_string() == approval.signature
            && named.approved_until == approval.approved_until
            && serde_json::to_value(&open.product).ok().as_ref() == Some(&listing.product)
            && serde_json::to_value(&open.policy).ok().as_ref() == Some(&listing.policy);
        if !same {
            return Err(refused(
                RefusalCode::ListingMismatch,
                format!(
                    "the open does not carry listing {}'s merchant, terms and approval exactly; \
                     build it from GET /v1/listings/{}",
                    listing.id, listing.id
                ),
            ));
        }
        Ok(())
    }
}

// The regulator's alert rules: a registry record (who set which threshold when is on the
// record); crate::alerts raises alerts from them.

/// Days of history a rate is compared with, by default.
pub const DEFAULT_TRAILING_DAYS: u32 = 30;
/// The fewest events in a day for a rate alert, by default: one refund among none is not a
/// pattern.
pub const DEFAULT_MIN_EVENTS: u64 = 5;

/// The regulator's alert rules; a rule left out raises nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    /// A merchant's frozen total above this (yuan, as `"100000.00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_over: Option<String>,
    /// A merchant's refunds today above this multiple of its daily average over the
    /// trailing days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_rate_multiple: Option<u32>,
    /// A merchant's requests today above this multiple of its daily average over the
    /// trailing days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_rate_multiple: Option<u32>,
    /// The days a rate is compared with.
    #[serde(default = "default_trailing_days")]
    pub trailing_days: u32,
    /// The fewest refunds or requests in a day for a rate alert.
    #[serde(default = "default_min_events")]
    pub min_events: u64,
    /// A merchant's wallets in dispute above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_disputes_over: Option<i64>,
    /// A merchant's requests awaiting authorization above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_requests_over: Option<i64>,
    /// Any sale recorded after a merchant's closure notice.
    #[serde(default = "default_true")]
    pub sales_after_closure: bool,
    /// What a merchant owes consumers by claims not yet paid, above this (yuan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_outstanding_over: Option<String>,
    /// A merchant's oldest claim not yet paid, older than this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_older_than_days: Option<u32>,
}

fn default_trailing_days() -> u32 {
    DEFAULT_TRAILING_DAYS
}

fn default_min_events() -> u64 {
    DEFAULT_MIN_EVENTS
}

fn default_true() -> bool {
    true
}

impl Default for AlertRules {
    fn default() -> AlertRules {
        AlertRules {
            frozen_over: None,
            refund_rate_multiple: None,
            request_rate_multiple: None,
            trailing_days: DEFAULT_TRAILING_DAYS,
            min_events: DEFAULT_MIN_EVENTS,
            open_disputes_over: None,
            pending_requests_over: None,
            sales_after_closure: true,
            claims_outstanding_over: None,
            claim_older_than_days: None,
        }
    }
}

impl AlertRules {
    /// Rejects rules that cannot be applied: an amount that is not one, a window of no
    /// days, a multiple of zero, a negative threshold.
    pub fn check(&self) -> Result<()> {
        let bad = |why: &str| Err(Error::refused(RefusalCode::BadRegistryEntry, why.to_owned()));
        for (field, amount) in [
            ("frozen_over", &self.frozen_over),
            ("claims_outstanding_over", &self.claims_outstanding_over),
        ] {
            if amount.as_deref().is_some_and(|amount| Amount::parse(amount).is_err()) {
                return bad(&format!(
                    "`{field}` is an amount in yuan with two places, like \"100000.00\""
                ));
            }
        }
        if self.trailing_days == 0 || self.trailing_days > 366 {
            return bad("`trailing_days` is 1 to 366");
        }
        if self.refund_rate_multiple == Some(0) || self.request_rate_multiple == Some(0) {
            return bad("a rate multiple is at least 1");
        }
        if self.open_disputes_over.is_some_and(|n| n < 0) || self.pending_requests_over.is_some_and(|n| n < 0) {
            return bad("a threshold is at least 0");
        }
        Ok(())
    }
}
