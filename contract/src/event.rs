//! Events as the contract receives them: JSON, strictly parsed (unknown fields are
//! rejected), plus the context the platform adds.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{ContractError, ErrorCode};
use crate::keys::{HexBytes, PublicKey, Signature};
use crate::money::{Amount, NOT_AN_AMOUNT};
use crate::policy::Policy;
use crate::products::{Product, Quantity};
use crate::state::DisputeReason;

/// What the platform knows about an event besides the event itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The wallet the event is for.
    pub wallet: String,
    /// The event's id, unique within the wallet.
    pub event_id: String,
    /// The platform's timestamp, seconds since the Unix epoch (UTC).
    pub timestamp: i64,
    /// The signer's signature over [`crate::authorization::event_message`].
    pub signature: Option<Signature>,
}

/// An event for a wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// One event is parsed per call and dropped with it: boxing `open` would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// The purchase: the consumer pays `product`'s price into a new frozen wallet.
    Open(Open),
    /// The merchant asks to be paid for a consumption (signed by the merchant).
    Request(Request),
    /// The merchant takes back one of its own pending requests (signed by the merchant).
    Withdraw(Withdraw),
    /// The consumer authorizes a pending request (signed by the consumer).
    Authorize(Authorize),
    /// The consumer ends the contract and takes the unconsumed balance back.
    Refund(Refund),
    /// The regulator records the merchant's closure or fault: everything frozen goes back.
    MerchantClosed(MerchantClosed),
    /// The consumer or the regulator freezes all releases until the regulator resolves.
    Dispute(Dispute),
    /// The regulator decides a dispute.
    Resolve(Resolve),
    /// The consumer hands the wallet to a new consumer key, without fee.
    Transfer(Transfer),
    /// Time passes (the platform's clock, unsigned): deemed confirmations, membership
    /// accrual, expiry, a re-key coming into effect.
    Tick(Tick),
    /// The consumer adds money to a stored-value card (signed by the consumer); it counts
    /// once the rail reports it (`funded`).
    TopUp(TopUp),
    /// The payment rail reports that the consumer's payment reached the wallet (the
    /// platform's payment adapter, unsigned): a wallet opened `awaiting_funding` becomes
    /// active.
    Funded(Funded),
    /// The regulator starts a change of the consumer's key (signed by the regulator).
    Rekey(Rekey),
    /// The consumer's current key cancels a re-key under way.
    CancelRekey(CancelRekey),
    /// The regulator moves the wallet onto another component (signed by the regulator):
    /// applied by that component's `migrate` (see [`crate::migration`]), never by `apply`.
    Migrate(Migrate),
}

/// The fields of `open`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    /// The consumer's key: signs this event, authorizations and refunds.
    pub consumer: PublicKey,
    /// The merchant's key: signs requests.
    pub merchant: PublicKey,
    /// The regulator's key: approved the terms.
    pub regulator: PublicKey,
    /// The terms, fixed for the wallet's life.
    pub product: Product,
    /// The rules of the region the sale falls under.
    pub policy: Policy,
    /// The regulator's signature over [`crate::authorization::approval_message`].
    pub approval: Signature,
    /// The catalogue listing the regulator approved the terms as, and until when: when
    /// present, the approval covers it too, and lapses after `approved_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<Listing>,
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Whether the price is yet to reach the wallet: then nothing is frozen, nothing can be
    /// asked for and no rule of time runs until the rail reports `funded`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub awaiting_funding: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The fields of `top_up`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopUp {
    /// What the consumer pays in: spent at par, after the card's face value.
    pub amount: Amount,
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

/// The fields of `funded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funded {
    /// The rail's reference for the payment (1 to [`MAX_LISTING_ID_LEN`] plain
    /// characters), kept in the wallet for reconciliation; never the one of an earlier
    /// funding of the wallet.
    pub reference: String,
    /// What the rail says arrived: exactly what the wallet awaits (its price, or the
    /// top-up asked for), or the event is rejected.
    pub amount: Amount,
    /// Whose money it is: the key of the consumer who paid, as the platform knows them
    /// from the order. It must be the wallet's consumer, so that a payment reported by
    /// order id never lands in a wallet someone else opened under that id.
    pub payer: PublicKey,
}

/// Whether `reference` is a payment rail's reference as the platform records one, in a
/// `funded` or an acknowledgement of a payment: 1 to [`MAX_LISTING_ID_LEN`] characters,
/// each an ASCII letter or digit or one of `-_.:/#`, so that it reads the same in a state,
/// a journal and a statement.
pub fn is_rail_reference(reference: &str) -> bool {
    crate::rules::is_plain_id(reference, MAX_LISTING_ID_LEN)
}

/// A listing of the platform's reviewed catalogue, as an `open` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// The listing's id in the platform's catalogue (1 to [`MAX_LISTING_ID_LEN`] bytes of
    /// letters, digits and `-_.:/#`).
    pub id: String,
    /// The last platform time (seconds since the Unix epoch) at which the approval lets a
    /// sale open: a regulator's review is not forever.
    pub approved_until: i64,
}

/// The longest listing id, in bytes.
pub const MAX_LISTING_ID_LEN: usize = 64;

/// The fields of `request`: an id and exactly one quantity that fits the product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The request's id, unique within the wallet.
    pub request: String,
    /// Sessions consumed (`sessions` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
    /// Face amount consumed (`stored_value` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The stage completed, by index from 0 (`plan` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<u32>,
}

impl Request {
    /// The quantity the request asks for.
    pub fn quantity(&self) -> Quantity {
        Quantity {
            units: self.units,
            amount: self.amount,
            stage: self.stage,
        }
    }
}

/// The fields of `withdraw`: the pending request the merchant takes back, asked in error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    /// The id of the merchant's pending request.
    pub request: String,
}

/// The fields of `authorize`: the request and the same quantity it asks for, so the
/// consumer signs what is released, not only a name the merchant chose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    /// The id of the pending request to release.
    pub request: String,
    /// Sessions, as the request asks (`sessions` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
    /// Face amount, as the request asks (`stored_value` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The stage, as the request asks (`plan` products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<u32>,
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

impl Authorize {
    /// The quantity the consumer authorizes.
    pub fn quantity(&self) -> Quantity {
        Quantity {
            units: self.units,
            amount: self.amount,
            stage: self.stage,
        }
    }
}

/// The fields of `refund`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

/// The fields of `merchant_closed`. Without `closure`, the regulator signs the event for
/// this wallet, as any other. With it, the regulator's signature is over the closure itself
/// ([`crate::authorization::closure_message`]: the merchant and the date), which the
/// platform then applies to every wallet of the merchant from that date: one statement of
/// closure refunds every consumer, and can never move money to the merchant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantClosed {
    /// The closure the regulator signed, if it signed one for all the merchant's wallets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
}

/// A merchant's closure, as the regulator signs it once for all the merchant's wallets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// The merchant closed: the wallet's own, or the event is rejected.
    pub merchant: PublicKey,
    /// When the closure takes effect (seconds since the Unix epoch); the event is rejected
    /// before then.
    pub effective: i64,
}

/// The fields of `dispute`: the consumer's or the regulator's against pending requests or
/// the whole wallet, or the merchant's against its own requests the consumer left
/// unanswered past the policy's answer days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispute {
    /// The pending requests disputed; none: the whole wallet, every release frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<String>>,
    /// Why, as a code.
    pub reason: DisputeReason,
    /// The SHA-256 (64 hex digits) of the evidence, a document the parties and the
    /// regulator exchange off the platform.
    pub evidence: HexBytes<32>,
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

/// How the regulator decides a dispute: of the whole wallet (`continue`, `refund`,
/// `split`), or of the requests a ruling names (each outcome, `split` of one request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The wallet: lift the freeze, and it goes on. A request: lift its dispute, and it is
    /// payable again, as if just made.
    Continue,
    /// A request: pay it to the merchant, as if the consumer had authorized it.
    Release,
    /// The wallet: refund everything still frozen and close. A request: its service is
    /// not owed and its worth goes back to the consumer.
    Refund,
    /// The wallet: release `release` of what is frozen to the merchant, refund the rest,
    /// and close: a stage delivered but contested is paid for in part. A request: `release`
    /// of its worth to the merchant, the rest back to the consumer.
    Split,
}

/// The fields of `resolve`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The decision.
    pub outcome: Resolution,
    /// The disputed requests ruled on; none: the dispute of the whole wallet, or a
    /// refund's hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<String>>,
    /// Why, as a snake_case code of at most 64 bytes: required on a ruling on requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `split` only, and required there: what the requests in dispute are worth to the
    /// merchant, paid out of what is frozen (once time-based consumption is brought up to
    /// date) first and the rest off what it would owe (docs/CONTRACT.md, "Claims"); at
    /// most what is frozen, or what the terms leave the consumer if that is more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Amount>,
}

/// The fields of `transfer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The new consumer's key.
    pub to: PublicKey,
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

/// The fields of `tick`: none, or the platform's calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tick {
    /// The days off and days worked around now, for a policy that deems requests
    /// confirmed after working days; the tick is journaled with it, so replay counts the
    /// same days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Calendar>,
}

/// The platform's holiday calendar, as days since 1970-01-01 in China Standard Time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Weekdays off (public holidays).
    #[serde(default)]
    pub holidays: Vec<i64>,
    /// Weekend days worked (the make-up days, 调休, that move a holiday).
    #[serde(default)]
    pub workdays: Vec<i64>,
}

/// The fields of `rekey`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rekey {
    /// The consumer's new key.
    pub to: PublicKey,
}

/// The fields of `migrate`: the code hashes (SHA-256 of the component's bytes) the wallet
/// moves from and to, so the regulator's signature covers both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migrate {
    /// The component the wallet runs now.
    pub from: HexBytes<32>,
    /// The component it moves to.
    pub to: HexBytes<32>,
    /// The hash of the plan the regulator read before signing (`prepaid migrate plan`),
    /// if it read one: recorded with the migration, for whoever later asks what the
    /// regulator was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<HexBytes<32>>,
    /// Whether the regulator asks for the consumer's consent (the plan it read found they
    /// would get less): then the migration needs it however the wallet stands when it
    /// applies, so that no one holding the signed migration back can wait until it would
    /// not. The rules do not read it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ask_consent: bool,
    /// The consumer's signature of this migration (the message the regulator signs, which
    /// leaves `consent` out): the host requires it when the regulator asks for it or the
    /// new rules would give the consumer less on some path (a refund now, at expiry, at
    /// closure). The rules do not read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Signature>,
}

/// The fields of `cancel_rekey`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRekey {
    /// The latest platform time at which the event may apply (seconds since the Unix
    /// epoch): signed with it, so a relay cannot hold it back past a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
}

impl Event {
    /// Parses an event's JSON, rejecting anything malformed with `bad_event` (or
    /// `bad_amount` for an amount that is not canonical).
    pub fn parse(json: &str) -> Result<Event, ContractError> {
        serde_json::from_str(json).map_err(|error| {
            let message = alloc::format!("{error}");
            let code = if message.contains(NOT_AN_AMOUNT) {
                ErrorCode::BadAmount
            } else {
                ErrorCode::BadEvent
            };
            ContractError::new(code, alloc::format!("the event is malformed: {message}"))
        })
    }

    /// The `not_after` the signer set, for the events a consumer signs.
    pub fn not_after(&self) -> Option<i64> {
        match self {
            Event::Open(Open { not_after, .. })
            | Event::Authorize(Authorize { not_after, .. })
            | Event::Refund(Refund { not_after })
            | Event::Dispute(Dispute { not_after, .. })
            | Event::Transfer(Transfer { not_after, .. })
            | Event::CancelRekey(CancelRekey { not_after })
            | Event::TopUp(TopUp { not_after, .. }) => *not_after,
            Event::Request(_)
            | Event::Withdraw(_)
            | Event::MerchantClosed(_)
            | Event::Resolve(_)
            | Event::Tick(_)
            | Event::Funded(_)
            | Event::Rekey(_)
            | Event::Migrate(_) => None,
        }
    }

    /// The canonical JSON that signatures cover: fields in a fixed order, no spaces. A
    /// migration's `consent` is the consumer's signature of the migration, so no signature
    /// covers it: the regulator and the consumer sign the same message, in either order,
    /// and a migration the regulator signed can wait for the consumer's consent.
    pub fn canonical_json(&self) -> Vec<u8> {
        match self {
            Event::Migrate(migrate @ Migrate { consent: Some(_), .. }) => Event::Migrate(Migrate {
                consent: None,
                ..migrate.clone()
            })
            .canonical_json(),
            _ => serde_json::to_vec(self).expect("events always serialize"),
        }
    }
}
