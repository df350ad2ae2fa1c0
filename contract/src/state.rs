//! A wallet's state and its byte encoding, which the contract owns: the host stores the
//! bytes and hands them back, never reading them.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{ContractError, ErrorCode};
use crate::keys::{HexBytes, PublicKey};
use crate::money::Amount;
use crate::policy::Policy;
use crate::products::Product;
use crate::valuation::{list_value, merchant_entitlement};

/// Where a wallet is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Open for consumption and refund.
    Active,
    /// Releases are frozen until the regulator resolves a dispute.
    Disputed,
    /// Ended: everything paid has been released or refunded.
    Closed,
}

impl Status {
    /// The status as views and journals name it (the same word as its serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disputed => "disputed",
            Status::Closed => "closed",
        }
    }
}

/// The longest request id, in bytes: ids live in the state, which every event decodes.
pub const MAX_REQUEST_ID_LEN: usize = 64;
/// The most requests a wallet may have awaiting authorization at once. With the id and
/// stage-name limits this bounds the state, so every event (the consumer's refund above
/// all) fits in the host's fuel limit however a merchant fills the wallet.
pub const MAX_PENDING: usize = 64;

/// Who raised a dispute: whose signature the `dispute` carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The wallet's consumer.
    Consumer,
    /// The wallet's merchant: only against its own requests the consumer left unanswered.
    Merchant,
    /// The wallet's regulator.
    Regulator,
}

/// Why a dispute was raised, as a stable code. The last three are the contract's own and
/// no `dispute` may give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeReason {
    /// The service the request is for was not given.
    NotDelivered,
    /// It was given, not as the terms or the listing say.
    NotAsAgreed,
    /// The request asks for more than was given.
    WrongAmount,
    /// The merchant is gone or has stopped serving.
    MerchantGone,
    /// Another reason, which the evidence states.
    Other,
    /// The merchant's: the consumer has neither authorized nor disputed its request within
    /// the policy's answer days.
    Unanswered,
    /// The contract's: the consumer refunded while the request was pending, and what it
    /// asks is held for the regulator.
    Refunded,
    /// A dispute raised before disputes carried a reason (a state from an earlier
    /// component).
    Unrecorded,
}

impl DisputeReason {
    /// Whether a `dispute` may give it: not the contract's own reasons.
    pub fn may_be_given(self) -> bool {
        !matches!(self, DisputeReason::Refunded | DisputeReason::Unrecorded)
    }
}

/// A dispute raised against a request or a whole wallet: by whom, why, on what evidence
/// (the SHA-256 of a document kept off the platform, which the parties and the regulator
/// exchange) and when. The regulator's ruling is due [`crate::policy::Policy::ruling_days`]
/// after `opened_at`; then the default of docs/CONTRACT.md, "Disputes", applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeRecord {
    /// Who raised it.
    pub by: Party,
    /// Why.
    pub reason: DisputeReason,
    /// The evidence's SHA-256, if the dispute carried one (a refund's hold does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<HexBytes<32>>,
    /// When it was raised (platform time, seconds).
    pub opened_at: i64,
}

/// A merchant's request awaiting the consumer's authorization. Once settled (authorized,
/// deemed confirmed, ruled on or cancelled at close) it leaves the state: what it released
/// is counted in [`Wallet::consumed`] and [`Wallet::released`], and a plan stage it
/// completed in [`Wallet::stages_done`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredRequest")]
pub struct RequestRecord {
    /// The merchant's id for it, unique among the pending requests.
    pub id: String,
    /// How many units it consumes.
    pub units: u64,
    /// The plan stage it completes, for plans.
    pub stage: Option<u32>,
    /// When it was made: the deemed-confirmation period runs from here.
    pub requested_at: i64,
    /// The dispute that names it, if one does: then it is not deemed confirmed, and only
    /// the consumer's authorization or the regulator's ruling settles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeRecord>,
    /// When it is deemed confirmed, once a tick has counted the working days with the
    /// platform's calendar (policies that count working days only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deemed_at: Option<i64>,
}

/// A request as states hold it: as this component writes it, or as the components before
/// disputes carried a reason wrote it, with only a flag (`disputed`), read as a dispute of
/// the consumer's, reason unrecorded, raised when the request was made.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRequest {
    id: String,
    units: u64,
    stage: Option<u32>,
    requested_at: i64,
    #[serde(default)]
    disputed: bool,
    #[serde(default)]
    dispute: Option<DisputeRecord>,
    #[serde(default)]
    deemed_at: Option<i64>,
}

impl From<StoredRequest> for RequestRecord {
    fn from(stored: StoredRequest) -> RequestRecord {
        let unrecorded = stored.disputed.then_some(DisputeRecord {
            by: Party::Consumer,
            reason: DisputeReason::Unrecorded,
            evidence: None,
            opened_at: stored.requested_at,
        });
        RequestRecord {
            id: stored.id,
            units: stored.units,
            stage: stored.stage,
            requested_at: stored.requested_at,
            dispute: stored.dispute.or(unrecorded),
            deemed_at: stored.deemed_at,
        }
    }
}

/// A change of the consumer's key that the regulator started (the consumer lost it and
/// proved who they are off the platform). It takes effect at `effective_at`; until then
/// the old key can cancel it, and nothing is released but by the old key's authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rekey {
    /// The consumer's new key.
    pub to: PublicKey,
    /// When it becomes the consumer's key (platform time, seconds).
    pub effective_at: i64,
}

/// The state of one wallet: one purchase of one product by one consumer from one merchant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    /// The consumer's key.
    pub consumer: PublicKey,
    /// The merchant's key.
    pub merchant: PublicKey,
    /// The regulator who approved the terms.
    pub regulator: PublicKey,
    /// The terms.
    pub product: Product,
    /// The region's rules.
    pub policy: Policy,
    /// When the wallet was opened (platform time, seconds).
    pub opened_at: i64,
    /// The timestamp of the wallet's latest event: time never goes backwards.
    pub last_at: i64,
    /// Where the wallet is in its life.
    pub status: Status,
    /// Units released to the merchant so far.
    pub consumed: u64,
    /// Money released to the merchant so far.
    pub released: Amount,
    /// Money refunded to the consumer so far.
    pub refunded: Amount,
    /// The dispute of the whole wallet, if one is open and was raised with a reason (a
    /// wallet disputed under an earlier component has none recorded): it freezes every
    /// release, and the regulator's ruling is due [`crate::policy::Policy::ruling_days`]
    /// after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeRecord>,
    /// The requests awaiting authorization, oldest first (at most [`MAX_PENDING`]). An id
    /// is unique among them; a settled request's id may be used again, since an
    /// authorization names its request's quantity and is bound to its own event id, which
    /// the journal never accepts twice. A list, not a map: decoding a map compares every
    /// key with its neighbours, which for long ids cost most of an event's fuel.
    pub requests: Vec<RequestRecord>,
    /// The plan stages completed, one bit per stage index (a plan has at most 64).
    pub stages_done: u64,
    /// The re-key under way, if any.
    pub rekey: Option<Rekey>,
    /// Whether the part of the price outside supervision has gone to the merchant: at the
    /// end of the cooling-off period (at open, without one). Until then the whole price is
    /// frozen, so a consumer who leaves inside the period gets everything unconsumed back.
    #[serde(default, skip_serializing_if = "is_false")]
    pub share_released: bool,
    /// When the consumer refunded while requests were pending: the rest went back, and
    /// what those requests ask stays frozen, in dispute, until the regulator settles it,
    /// the merchant withdraws them, or [`REFUND_HOLD_DAYS`] pass and it goes back too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<i64>,
    /// Whether the price has yet to reach the wallet (an `open` with `awaiting_funding`,
    /// before `funded`): nothing is paid or frozen, and nothing runs but a refund, which
    /// closes it, and expiry.
    #[serde(default, skip_serializing_if = "is_false")]
    pub awaiting_funding: bool,
    /// The payment rail's reference for the payment that funded the wallet, if it was
    /// opened awaiting one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rail_reference: Option<String>,
    /// What the consumer has topped a stored-value card up by, funded: spent at par after
    /// the card's face value (see [`crate::valuation`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub top_ups: Amount,
    /// A top-up the consumer signed that the rail has yet to report (`funded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_top_up: Option<Amount>,
    /// What rulings on requests gave back to the consumer of units they count consumed
    /// (a split's rest): part of `refunded`, and of what the terms give the consumer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ruled_back: Amount,
    /// The units rulings on requests split (part of `consumed`): the regulator valued them
    /// at the paid rate, so a refund's list price does not value them again
    /// ([`Wallet::list_value`]).
    #[serde(default, skip_serializing_if = "is_zero_units")]
    pub ruled_units: u64,
    /// What the wallet's ending gave the consumer beyond what was frozen, which the merchant
    /// owes them outside the wallet ([`crate::claims`]). Not part of `paid`: no money of
    /// the wallet's is in it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub owed: Amount,
}

/// How long a refund leaves the money of pending requests to the regulator: then the
/// regulator's silence is decided for the consumer, so a merchant's request can delay a
/// refund of what it asks, never prevent it.
pub const REFUND_HOLD_DAYS: i64 = 15;

fn is_zero(amount: &Amount) -> bool {
    amount.is_zero()
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero_units(units: &u64) -> bool {
    *units == 0
}

/// One wallet as CBOR, and nothing after it: bytes beyond the wallet would be a second
/// state that another reader might take instead.
fn from_cbor(bytes: &[u8]) -> Result<Wallet, alloc::string::String> {
    use cbor4ii::core::dec::Read as _;
    let mut reader = cbor4ii::core::utils::SliceReader::new(bytes);
    let wallet = Wallet::deserialize(&mut cbor4ii::serde::Deserializer::new(&mut reader))
        .map_err(|error| alloc::format!("{error}"))?;
    match reader.fill(1) {
        Ok(rest) if rest.as_ref().is_empty() => Ok(wallet),
        _ => Err("bytes follow the wallet".into()),
    }
}

fn overflow() -> ContractError {
    ContractError::new(ErrorCode::BadState, "a total overflowed; the state is corrupt")
}

impl Wallet {
    /// Reads state bytes written by [`Wallet::encode`], or by the components before it,
    /// which wrote the same wallet as JSON (a JSON object opens with `{`, which no CBOR map
    /// does): the state a migration from them hands over.
    pub fn decode(bytes: &[u8]) -> Result<Wallet, ContractError> {
        let bad = |error: &dyn core::fmt::Display| {
            ContractError::new(
                ErrorCode::BadState,
                alloc::format!("the state bytes are not this contract's: {error}"),
            )
        };
        let wallet: Wallet = match bytes.first() {
            Some(b'{') => serde_json::from_slice(bytes).map_err(|error| bad(&error))?,
            _ => from_cbor(bytes).map_err(|error| bad(&error))?,
        };
        // What `paid` and `total_units` rely on, which a state from elsewhere (a hostile
        // component's, an operator's hand) need not hold: a refusal, never a panic.
        let in_range = wallet
            .product
            .checked_price()
            .and_then(|price| price.checked_add(wallet.top_ups))
            .is_some()
            && wallet.product.total_units().checked_add(wallet.top_ups.fen()).is_some();
        if !in_range {
            return Err(ContractError::new(
                ErrorCode::BadState,
                "the state's price and top-ups add up beyond any amount",
            ));
        }
        wallet.frozen()?;
        // What rulings gave back is part of what was refunded, of units consumed.
        if wallet.ruled_back > wallet.refunded || wallet.ruled_units > wallet.consumed {
            return Err(ContractError::new(
                ErrorCode::BadState,
                "the state gives back by rulings more than it refunded, or of more units than were consumed",
            ));
        }
        let stages_in_range = wallet
            .requests
            .iter()
            .all(|record| record.stage.is_none_or(|stage| stage < 64));
        // What the rules' arithmetic relies on: consumed and pending units within the product.
        let units_in_range = wallet
            .requests
            .iter()
            .try_fold(wallet.consumed, |units, record| units.checked_add(record.units))
            .is_some_and(|promised| promised <= wallet.total_units());
        if wallet.requests.len() > MAX_PENDING || !stages_in_range || !units_in_range {
            return Err(ContractError::new(
                ErrorCode::BadState,
                "the state holds more pending requests or units than the rules allow",
            ));
        }
        Ok(wallet)
    }

    /// The state bytes: the wallet as CBOR (RFC 8949), keys as bytes rather than hex. Every
    /// event decodes and re-encodes the whole state, so its form weighs on every event's
    /// fuel: against the JSON the components before this one wrote, the suite's scenarios
    /// use about 0.6× the fuel an event, and the consumer's refund at the largest state
    /// 0.76× (docs/CONTRACT.md).
    pub fn encode(&self) -> Vec<u8> {
        cbor4ii::serde::to_vec(Vec::new(), self).expect("wallets always serialize")
    }

    /// The money on its way from the rail: the price of a wallet opened awaiting funding,
    /// or the top-up asked for; none when the wallet awaits nothing.
    pub fn awaited(&self) -> Option<Amount> {
        match self.awaiting_funding {
            true => Some(self.product.price()),
            false => self.pending_top_up,
        }
    }

    /// What the consumer paid.
    pub fn paid(&self) -> Amount {
        match self.awaiting_funding {
            true => Amount::ZERO,
            false => self
                .product
                .price()
                .checked_add(self.top_ups)
                .expect("top-ups are capped with the price"),
        }
    }

    /// The units the wallet holds: the product's, and a stored-value card's top-ups (a
    /// unit is a fen of face value).
    pub fn total_units(&self) -> u64 {
        self.product.total_units() + self.top_ups.fen()
    }

    /// What is still frozen: paid minus released and refunded.
    pub fn frozen(&self) -> Result<Amount, ContractError> {
        self.released
            .checked_add(self.refunded)
            .and_then(|out| self.paid().checked_sub(out))
            .ok_or_else(|| ContractError::new(ErrorCode::BadState, "the state pays out more than was paid"))
    }

    /// Units asked for by requests awaiting authorization.
    pub fn pending_units(&self) -> u64 {
        self.requests.iter().map(|request| request.units).sum()
    }

    /// What the merchant is entitled to after `consumed` units. A stored-value card's face
    /// value is spent first, at the paid rate; its top-ups after it, at par (a top-up
    /// carries no discount: the discount was the sale's).
    pub fn entitlement(&self, consumed: u64) -> Amount {
        self.entitlement_as(consumed, self.share_released)
    }

    /// [`Wallet::entitlement`] as if the part outside supervision had (`share_released`)
    /// or had not gone to the merchant: without it, consumption valued at the paid rate.
    pub fn entitlement_as(&self, consumed: u64, share_released: bool) -> Amount {
        let face = self.product.total_units();
        let at_par = Amount::from_fen(consumed.saturating_sub(face)).expect("top-ups are capped with the price");
        merchant_entitlement(&self.product, &self.policy, consumed.min(face), share_released)
            .checked_add(at_par)
            .expect("top-ups are capped with the price")
    }

    /// Releases the part of the price outside supervision (once), returning what it adds
    /// to the merchant's releases: from then on the supervised part is released in
    /// proportion to consumption.
    pub fn release_unsupervised(&mut self) -> Result<Amount, ContractError> {
        let before = self.entitlement(self.consumed);
        self.share_released = true;
        let release = self
            .entitlement(self.consumed)
            .checked_sub(before)
            .expect("the entitlement only grows when the share is released");
        self.released = self.released.checked_add(release).ok_or_else(overflow)?;
        Ok(release)
    }

    /// Settles the pending request `id`: it leaves the state and its units are released
    /// (see [`Wallet::consume`]). The caller has checked that it is pending.
    pub fn settle(&mut self, id: &str) -> Result<Amount, ContractError> {
        let index = self.requests.iter().position(|record| record.id == id);
        let record = self
            .requests
            .remove(index.expect("the caller checked the request is pending"));
        if let Some(stage) = record.stage {
            self.stages_done |= 1 << stage;
        }
        self.consume(record.units)
    }

    /// Whether plan stage `stage` is completed or awaiting authorization.
    pub fn stage_taken(&self, stage: u32) -> bool {
        self.stages_done & (1 << stage) != 0 || self.requests.iter().any(|record| record.stage == Some(stage))
    }

    /// What `units` more, after `from` consumed, add to what the merchant is entitled to:
    /// as the wallet stands, or (`share_released` false) as if the part outside supervision
    /// had stayed frozen.
    pub fn entitlement_added(&self, from: u64, units: u64, share_released: bool) -> Amount {
        self.entitlement_as(from + units, share_released)
            .checked_sub(self.entitlement_as(from, share_released))
            .expect("the entitlement only grows with units")
    }

    /// Releases `units` more units to the merchant at the paid rate and returns the
    /// amount; the wallet closes when the whole product is consumed.
    pub fn consume(&mut self, units: u64) -> Result<Amount, ContractError> {
        let release = self.entitlement_added(self.consumed, units, self.share_released);
        self.consumed += units;
        self.released = self.released.checked_add(release).ok_or_else(overflow)?;
        if self.consumed == self.total_units() {
            self.status = Status::Closed;
        }
        Ok(release)
    }

    /// Ends the wallet: pending requests are dropped, `release` goes to the merchant and
    /// `refund` to the consumer, which must together be everything still frozen.
    pub fn close(&mut self, release: Amount, refund: Amount) -> Result<(), ContractError> {
        self.requests.clear();
        self.rekey = None;
        self.dispute = None;
        self.pay_out(release, refund)?;
        self.status = Status::Closed;
        match self.frozen()?.is_zero() {
            true => Ok(()),
            false => Err(ContractError::new(
                ErrorCode::BadState,
                "a settlement left money frozen in a closed wallet",
            )),
        }
    }

    /// Counts `release` as paid to the merchant and `refund` as paid back, out of what is
    /// frozen.
    pub fn pay_out(&mut self, release: Amount, refund: Amount) -> Result<(), ContractError> {
        self.released = self.released.checked_add(release).ok_or_else(overflow)?;
        self.refunded = self.refunded.checked_add(refund).ok_or_else(overflow)?;
        self.frozen().map(drop)
    }

    /// Counts `amount` of what was just released for `units` as given back to the consumer
    /// instead: a ruling found that much of them not owed ([`Wallet::ruled_back`]).
    pub fn give_back(&mut self, amount: Amount, units: u64) -> Result<(), ContractError> {
        self.released = self.released.checked_sub(amount).ok_or_else(overflow)?;
        self.refunded = self.refunded.checked_add(amount).ok_or_else(overflow)?;
        self.ruled_back = self.ruled_back.checked_add(amount).ok_or_else(overflow)?;
        self.ruled_units = self.ruled_units.checked_add(units).ok_or_else(overflow)?;
        Ok(())
    }

    /// What `units` consumed are worth at the list price (a refund's after the cooling-off
    /// period), less the list price's premium over the paid rate on the units rulings
    /// split: the regulator valued those at the paid rate already.
    pub fn list_value(&self, units: u64) -> Amount {
        let ruled = self.ruled_units.min(units);
        let premium = list_value(&self.product, ruled)
            .checked_sub(self.entitlement_as(ruled, false))
            .unwrap_or(Amount::ZERO);
        list_value(&self.product, units)
            .checked_sub(premium)
            .unwrap_or(Amount::ZERO)
    }

    /// The pending request `id`, or a rejection naming it.
    pub fn request_mut(&mut self, id: &str) -> Result<&mut RequestRecord, ContractError> {
        match self.requests.iter_mut().find(|record| record.id == id) {
            Some(record) => Ok(record),
            None => Err(ContractError::new(
                ErrorCode::UnknownRequest,
                alloc::format!("no pending request \"{id}\" in this wallet; name a request the merchant has made"),
            )),
        }
    }

    /// Each pending request, oldest first, with what authorizing it would release now,
    /// the requests before it authorized first.
    pub fn pending_releases(&self) -> impl Iterator<Item = (&RequestRecord, Amount)> + '_ {
        self.requests.iter().scan(self.consumed, move |consumed, request| {
            let release = self.entitlement_added(*consumed, request.units, self.share_released);
            *consumed += request.units;
            Some((request, release))
        })
    }

    /// What the pending requests would release if all were authorized, never more than is
    /// frozen (which only a refund that left them pending can make smaller).
    pub fn pending(&self) -> Amount {
        let pending = self.entitlement_added(self.consumed, self.pending_units(), self.share_released);
        self.frozen().map_or(pending, |frozen| pending.min(frozen))
    }
}

#[cfg(test)]
mod tests {
    use super::{Status, Wallet};
    use crate::money::Amount;
    use crate::products::{Plan, Product, Stage};
    use crate::test_support::sessions_wallet;

    /// Bytes after a wallet would be a second state another reader might take: refused.
    #[test]
    fn a_state_is_one_wallet_and_nothing_after_it() {
        let wallet = sessions_wallet(10, "1000.00", "120.00");
        let bytes = wallet.encode();
        assert_eq!(Wallet::decode(&bytes).unwrap(), wallet);
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        let error = Wallet::decode(&two).unwrap_err();
        assert!(error.message.contains("bytes follow the wallet"), "{}", error.message);
    }

    /// Terms no `open` accepts, written straight into a state, are refused as a bad state
    /// rather than panicking whoever reads the wallet's figures.
    #[test]
    fn a_state_whose_price_is_beyond_any_amount_is_refused() {
        let stage = |amount: &str| Stage {
            name: "stage".into(),
            amount: Amount::parse(amount).unwrap(),
        };
        let mut plan = sessions_wallet(10, "1000.00", "120.00");
        plan.product = Product::Plan(Plan {
            stages: alloc::vec![stage("10000000000.00"), stage("0.01")],
        });
        let mut topped = sessions_wallet(10, "10000000000.00", "10000000000.00");
        topped.top_ups = Amount::parse("0.01").unwrap();
        for wallet in [plan, topped] {
            let error = Wallet::decode(&wallet.encode()).unwrap_err();
            assert!(error.message.contains("beyond any amount"), "{}", error.message);
        }
    }

    /// The host decodes state natively, and state may come from a hostile component or an
    /// operator's hand: bytes that are no wallet, however deeply nested, are refused as
    /// not this contract's, never a crash.
    #[test]
    fn state_that_is_no_wallet_is_refused_whatever_its_depth() {
        let deep = |open: u8| core::iter::repeat_n(open, 100_000).collect::<alloc::vec::Vec<u8>>();
        for bytes in [
            alloc::vec![],
            alloc::vec![0xff, 0x00],
            deep(0x81),
            deep(0xa1),
            deep(b'['),
            b"{\"consumer\":".to_vec(),
        ] {
            let error = Wallet::decode(&bytes).unwrap_err();
            assert!(error.message.contains("not this contract's"), "{}", error.message);
        }
    }

    /// A request an earlier component wrote with only a flag for its dispute reads as the
    /// consumer's dispute, reason unrecorded, raised when the request was made: a
    /// migration keeps it disputed, and its ruling falls due from then.
    #[test]
    fn a_request_flagged_disputed_by_an_earlier_component_reads_as_the_consumers_dispute() {
        let mut wallet = sessions_wallet(10, "1000.00", "120.00");
        wallet.requests.push(super::RequestRecord {
            id: "r1".into(),
            units: 1,
            stage: None,
            requested_at: 50,
            dispute: None,
            deemed_at: None,
        });
        let mut legacy = serde_json::to_value(&wallet).unwrap();
        legacy["requests"][0]["disputed"] = true.into();
        let read = Wallet::decode(&serde_json::to_vec(&legacy).unwrap()).unwrap();
        assert_eq!(
            read.requests[0].dispute,
            Some(super::DisputeRecord {
                by: super::Party::Consumer,
                reason: super::DisputeReason::Unrecorded,
                evidence: None,
                opened_at: 50,
            })
        );
        // Written again, it carries the dispute, not the flag.
        let written = serde_json::to_value(&read).unwrap();
        assert!(written["requests"][0].get("disputed").is_none());
        assert_eq!(written["requests"][0]["dispute"]["reason"], "unrecorded");
    }

    #[test]
    fn status_names_are_their_serde_names() {
        for status in [Status::Active, Status::Disputed, Status::Closed] {
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                alloc::format!("\"{}\"", status.as_str())
            );
        }
    }
}
