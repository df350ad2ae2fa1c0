//! The transitions: how each event changes a wallet and what money it moves.
//! The figures always satisfy `paid = frozen + released + refunded` and `pending <= frozen`.

use alloc::vec::Vec;

use crate::authorization::{require_approval, require_closure, require_signature};
use crate::claims;
use crate::crypto::Crypto;
use crate::disputes;
use crate::effects::{effect, Effect, EffectKind};
use crate::error::{reject, ContractError, ErrorCode};
use crate::event::{Authorize, Context, Event, Funded, Open, Request, MAX_LISTING_ID_LEN};
use crate::keys::PublicKey;
use crate::money::Amount;
use crate::products::{Product, StoredValue};
use crate::refunds::consumer_refund;
use crate::state::{
    DisputeReason, DisputeRecord, Party, Rekey, RequestRecord, Status, Wallet, MAX_PENDING, MAX_REQUEST_ID_LEN,
};
use crate::time;
use crate::valuation::unsupervised_part;

/// An accepted event: the new state bytes, the money moved and when the wallet next needs
/// the clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The wallet's new state, encoded.
    pub state: Vec<u8>,
    /// The money the event moves, in order.
    pub effects: Vec<Effect>,
    /// When the platform should next tick the wallet ([`time::next_due`]).
    pub next_due: Option<i64>,
}

impl Applied {
    pub(crate) fn new(wallet: &Wallet, effects: Vec<Effect>) -> Applied {
        Applied {
            state: wallet.encode(),
            effects,
            next_due: time::next_due(wallet),
        }
    }
}

/// Rejects an event its signer set to apply by `not_after`, applied later.
fn check_deadline(event: &Event, now: i64) -> Result<(), ContractError> {
    match event.not_after() {
        Some(deadline) if now > deadline => reject(
            ErrorCode::TooLate,
            alloc::format!(
                "the event was signed to apply by {deadline} and it is now {now}; sign it again if it still stands"
            ),
        ),
        _ => Ok(()),
    }
}

/// Applies `event_json` to the wallet in `state` (none before its first event).
/// A rejection leaves the state as it was.
///
/// Who must sign is checked before anything else about the wallet, so that every rejection
/// but `bad_event`, `bad_amount`, `bad_signature` and `already_open` is of an event a party
/// of the wallet signed: hosts record only those (docs/SECURITY.md), and nobody else can
/// make a party's event fail by sending something first under its id.
pub fn apply(
    crypto: &impl Crypto,
    state: Option<&[u8]>,
    ctx: &Context,
    event_json: &str,
) -> Result<Applied, ContractError> {
    let event = Event::parse(event_json)?;
    if let Event::Migrate(_) = event {
        return reject(
            ErrorCode::BadEvent,
            "a `migrate` is applied by the component the wallet moves to (its `migrate`), not by `apply`",
        );
    }
    let now = ctx.timestamp;
    let Some(mut wallet) = state.map(Wallet::decode).transpose()? else {
        let Event::Open(open) = &event else {
            return reject(ErrorCode::NotOpen, "this wallet has not been opened; send `open` first");
        };
        let (wallet, effects) = open_wallet(crypto, ctx, &event, open)?;
        return Ok(Applied::new(&wallet, effects));
    };
    // A re-key whose waiting period is over takes effect before anything else, so that from
    // then on the new key is the consumer's.
    if let Some(rekey) = wallet.rekey.take_if(|rekey| now >= rekey.effective_at) {
        wallet.consumer = rekey.to;
    }
    let (consumer, regulator) = (wallet.consumer, wallet.regulator);
    let signed_by = |key: &PublicKey, role: &str| require_signature(crypto, ctx, &event, key, role);
    // Each party may dispute something (the disputes module says what): the signer is the
    // party. Signed by none, it is refused as the consumer's to sign.
    let disputer = match &event {
        Event::Dispute(_) => Some(
            [
                (consumer, Party::Consumer),
                (regulator, Party::Regulator),
                (wallet.merchant, Party::Merchant),
            ]
            .into_iter()
            .find(|(key, _)| signed_by(key, "party").is_ok())
            .map(|(_, party)| party)
            .map_or_else(|| signed_by(&consumer, "consumer").map(|()| Party::Consumer), Ok)?,
        ),
        _ => None,
    };
    match &event {
        Event::Open(_) => {
            return reject(
                ErrorCode::AlreadyOpen,
                "this wallet is already open; use a new wallet id for a new purchase",
            )
        }
        Event::Request(_) | Event::Withdraw(_) => signed_by(&wallet.merchant, "merchant")?,
        Event::Authorize(_) | Event::Refund(_) | Event::Transfer(_) | Event::CancelRekey(_) | Event::TopUp(_) => {
            signed_by(&consumer, "consumer")?
        }
        Event::MerchantClosed(closed) => require_closure(crypto, ctx, &event, closed, &wallet.merchant, &regulator)?,
        Event::Resolve(_) | Event::Rekey(_) => signed_by(&regulator, "regulator")?,
        // Whose dispute it is decides what it may name (the disputes module).
        Event::Dispute(_) => {}
        // The platform's clock, and its payment adapter's word: hosts take them from no
        // other caller.
        Event::Tick(_) | Event::Funded(_) => {}
        Event::Migrate(_) => unreachable!("rejected above"),
    }
    if now < wallet.last_at {
        return reject(
            ErrorCode::TimeBackwards,
            alloc::format!(
                "the event's time ({now}) is before the wallet's last event ({}); events of a wallet must come in time order",
                wallet.last_at
            ),
        );
    }
    // A payment the rail reports for a purchase that ended before it came (called off,
    // expired) is not nothing: it goes back (`fund`).
    let late_funding = matches!(event, Event::Funded(_)) && wallet.awaited().is_some();
    if wallet.status == Status::Closed && !late_funding {
        return reject(
            ErrorCode::Closed,
            "this wallet is closed; nothing more can happen to it",
        );
    }
    check_deadline(&event, now)?;
    let effects = match &event {
        Event::Open(_) | Event::Migrate(_) => unreachable!("rejected above"),
        Event::Request(_) if wallet.awaiting_funding => {
            return reject(
                ErrorCode::NotFunded,
                "the consumer's payment has not reached this wallet yet; ask once the rail reports it (`funded`)",
            )
        }
        Event::Request(request) => {
            add_request(&mut wallet, request, now)?;
            Vec::new()
        }
        Event::Withdraw(withdraw) => {
            // Only the merchant's own word can take a request back: it only ever lowers what
            // the merchant is paid, so it is allowed in a dispute too.
            wallet.request_mut(&withdraw.request)?;
            wallet.requests.retain(|record| record.id != withdraw.request);
            // A consumer who refunded was waiting only for the requests left: what they no
            // longer ask goes back now, and with none left, everything.
            match (wallet.refunded_at.is_some(), wallet.requests.is_empty()) {
                (true, true) => time::return_everything_frozen(&mut wallet, now, "consumer_refund")?,
                (true, false) => {
                    let unheld = wallet
                        .frozen()?
                        .checked_sub(wallet.pending())
                        .expect("pending is at most what is frozen");
                    wallet.pay_out(Amount::ZERO, unheld)?;
                    effect(EffectKind::Refund, wallet.consumer, unheld, "consumer_refund")
                }
                (false, _) => Vec::new(),
            }
        }
        Event::Authorize(authorize) => authorize_request(&mut wallet, authorize)?,
        Event::Refund(_) => refund(&mut wallet, now)?,
        // A closure applied late (the platform's round came after its date) accrues nothing
        // past its date: the merchant is owed nothing for time after it closed.
        Event::MerchantClosed(closed) => {
            let until = closed
                .closure
                .as_ref()
                .map_or(now, |closure| closure.effective.min(now));
            time::return_everything_frozen(&mut wallet, until, "merchant_closed")?
        }
        Event::Dispute(_) if wallet.awaiting_funding => {
            return reject(
                ErrorCode::NotFunded,
                "nothing has been paid into this wallet to dispute; a refund calls the purchase off",
            )
        }
        Event::Dispute(dispute) => {
            let by = disputer.expect("a dispute's signer is found above");
            disputes::open(&mut wallet, dispute, by, now)?;
            Vec::new()
        }
        Event::Resolve(resolve) => disputes::resolve(&mut wallet, resolve, now)?,
        Event::Transfer(transfer) => {
            if transfer.to == consumer {
                return reject(
                    ErrorCode::BadTransfer,
                    "the wallet already belongs to that key; name the new consumer",
                );
            }
            // The rail's report names the consumer who paid: a wallet changing hands while
            // money is on its way would refuse that money for good.
            if wallet.awaited().is_some() {
                return reject(
                    ErrorCode::BadTransfer,
                    "money is on its way to this wallet from its consumer; transfer it once the rail reports it (`funded`)",
                );
            }
            wallet.consumer = transfer.to;
            wallet.rekey = None;
            Vec::new()
        }
        Event::Tick(tick) => time::tick(&mut wallet, now, tick.calendar.as_ref())?,
        Event::Funded(funded) => fund(&mut wallet, funded, now)?,
        Event::TopUp(top_up) => {
            ask_top_up(&mut wallet, top_up.amount)?;
            Vec::new()
        }
        Event::Rekey(rekey) => {
            if rekey.to == consumer || wallet.rekey.is_some() {
                return reject(
                    ErrorCode::BadRekey,
                    "a re-key names a key other than the consumer's, and only one may be under way",
                );
            }
            wallet.rekey = Some(Rekey {
                to: rekey.to,
                effective_at: now.saturating_add(wallet.policy.rekey_wait()),
            });
            Vec::new()
        }
        Event::CancelRekey(_) => {
            if wallet.rekey.take().is_none() {
                return reject(ErrorCode::BadRekey, "there is no re-key under way to cancel");
            }
            Vec::new()
        }
    };
    wallet.last_at = now;
    Ok(Applied::new(&wallet, effects))
}

/// `open`: checks the consumer's signature, the regulator's approval of the terms (and of
/// their listing, unexpired) and the policy's caps, then freezes the price in a new
/// wallet: all of it, unless the policy supervises only a share and gives no cooling-off
/// period, when the rest is released to the merchant now.
fn open_wallet(
    crypto: &impl Crypto,
    ctx: &Context,
    event: &Event,
    open: &Open,
) -> Result<(Wallet, Vec<Effect>), ContractError> {
    require_signature(crypto, ctx, event, &open.consumer, "consumer")?;
    check_deadline(event, ctx.timestamp)?;
    require_approval(crypto, open, ctx.timestamp)?;
    if let Some(listing) = &open.listing {
        check_listing_id(&listing.id)?;
    }
    open.product.validate()?;
    open.policy.validate()?;
    open.policy.check_caps(&open.product)?;
    // The part outside supervision goes to the merchant when the cooling-off period ends
    // (at once, without one): inside it everything unconsumed can still come back.
    let outside = unsupervised_part(&open.product, &open.policy);
    // Nothing goes anywhere before the money has arrived: then `funded` releases it.
    let share_released = open.policy.cooling_off_days == 0 && !outside.is_zero() && !open.awaiting_funding;
    let upfront = if share_released { outside } else { Amount::ZERO };
    let wallet = Wallet {
        consumer: open.consumer,
        merchant: open.merchant,
        regulator: open.regulator,
        product: open.product.clone(),
        policy: open.policy.clone(),
        opened_at: ctx.timestamp,
        last_at: ctx.timestamp,
        status: Status::Active,
        consumed: 0,
        released: upfront,
        refunded: Amount::ZERO,
        dispute: None,
        requests: Vec::new(),
        stages_done: 0,
        rekey: None,
        share_released,
        refunded_at: None,
        awaiting_funding: open.awaiting_funding,
        rail_reference: None,
        top_ups: Amount::ZERO,
        pending_top_up: None,
        ruled_back: Amount::ZERO,
        ruled_units: 0,
        owed: Amount::ZERO,
    };
    Ok((
        wallet,
        effect(EffectKind::Release, open.merchant, upfront, "unsupervised_share"),
    ))
}

/// Whether `id` is 1 to `max_len` characters of a plain alphabet: nothing JSON must escape
/// (which would make the state larger than its bound) and nothing that displays as
/// something else.
pub(crate) fn is_plain_id(id: &str, max_len: usize) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:/#".contains(c);
    !id.is_empty() && id.len() <= max_len && id.chars().all(plain)
}

/// Rejects a listing id outside the plain alphabet request ids use.
fn check_listing_id(id: &str) -> Result<(), ContractError> {
    match is_plain_id(id, MAX_LISTING_ID_LEN) {
        true => Ok(()),
        false => reject(
            ErrorCode::InvalidTerms,
            alloc::format!(
                "a listing id is 1 to {MAX_LISTING_ID_LEN} characters, each an ASCII letter or digit or one of - _ . : / #"
            ),
        ),
    }
}

/// `request`: the merchant asks for units, which become pending. Pending requests
/// together never promise more than the product has left, a plan stage is asked for once,
/// and at most [`MAX_PENDING`] wait at a time, under ids of at most
/// [`MAX_REQUEST_ID_LEN`] bytes.
fn add_request(wallet: &mut Wallet, request: &Request, now: i64) -> Result<(), ContractError> {
    let id = &request.request;
    if !is_plain_id(id, MAX_REQUEST_ID_LEN) {
        return reject(
            ErrorCode::BadRequestId,
            alloc::format!(
                "a request id is 1 to {MAX_REQUEST_ID_LEN} characters, each an ASCII letter or digit or one of - _ . : / #"
            ),
        );
    }
    if wallet.requests.iter().any(|record| record.id == *id) {
        return reject(
            ErrorCode::DuplicateRequest,
            alloc::format!("request id \"{id}\" is already pending in this wallet; choose a new one"),
        );
    }
    if wallet.requests.len() >= MAX_PENDING {
        return reject(
            ErrorCode::TooManyPending,
            alloc::format!(
                "{MAX_PENDING} requests already await the consumer's authorization; wait until some are settled"
            ),
        );
    }
    let units = wallet.product.requested_units(request.quantity())?;
    if let Some(stage) = request.stage.filter(|stage| wallet.stage_taken(*stage)) {
        return reject(
            ErrorCode::DuplicateRequest,
            alloc::format!("stage {stage} is already requested or completed"),
        );
    }
    let left = wallet.total_units() - wallet.consumed - wallet.pending_units();
    if units > left {
        return reject(
            ErrorCode::OverRemaining,
            alloc::format!(
                "the request asks for {units} units but only {left} are left once pending requests are counted"
            ),
        );
    }
    let record = RequestRecord {
        id: id.clone(),
        units,
        stage: request.stage,
        requested_at: now,
        dispute: None,
        deemed_at: None,
    };
    wallet.requests.push(record);
    Ok(())
}

/// `authorize`: the consumer releases a pending request to the merchant at the paid rate,
/// if the quantity the consumer signed is the one the request asks for.
fn authorize_request(wallet: &mut Wallet, authorize: &Authorize) -> Result<Vec<Effect>, ContractError> {
    if wallet.status == Status::Disputed {
        return reject(
            ErrorCode::Disputed,
            "releases are frozen by a dispute; wait for the regulator's resolution",
        );
    }
    let id = &authorize.request;
    let (units, stage) = {
        let record = wallet.request_mut(id)?;
        (record.units, record.stage)
    };
    let signed = wallet.product.requested_units(authorize.quantity()).ok();
    if signed != Some(units) || authorize.stage != stage {
        return reject(
            ErrorCode::AuthorizationMismatch,
            alloc::format!(
                "the authorization does not name request \"{id}\"'s quantity; name the same `units`, `amount` or `stage` the request asks for"
            ),
        );
    }
    let release = wallet.settle(id)?;
    Ok(effect(EffectKind::Release, wallet.merchant, release, "authorized"))
}

/// `funded`: the rail reports that the price reached the wallet under `reference`. From
/// now on the price is frozen and the wallet's rules run, its time counted from here: the
/// cooling-off period and validity start when the money is in. Without a cooling-off
/// period, the part outside supervision goes to the merchant now. A wallet that ended
/// before its price, or a top-up, came (called off, expired, refunded) takes it once and
/// refunds all of it.
fn fund(wallet: &mut Wallet, funded: &Funded, now: i64) -> Result<Vec<Effect>, ContractError> {
    let awaited = wallet.awaited();
    let reference = funded.reference.as_str();
    let why = match awaited {
        None => Some(alloc::string::String::from("the wallet awaits no money: neither its price nor a top-up")),
        Some(awaited) if awaited != funded.amount => Some(alloc::format!(
            "the wallet awaits {awaited}, not {}: report exactly what arrived",
            funded.amount
        )),
        _ if !crate::event::is_rail_reference(reference) => Some(alloc::format!(
            "the rail's reference is 1 to {MAX_LISTING_ID_LEN} characters, each an ASCII letter or digit or one of - _ . : / #"
        )),
        _ if wallet.rail_reference.as_deref() == Some(reference) => {
            Some("the reference is the wallet's earlier funding's: one payment funds once".into())
        }
        _ if funded.payer != wallet.consumer => {
            Some("the payer is not the wallet's consumer: money lands only in a wallet its payer holds".into())
        }
        _ => None,
    };
    if let Some(why) = why {
        return reject(ErrorCode::BadFunding, why);
    }
    wallet.rail_reference = Some(reference.into());
    // The purchase, or the card a top-up was for, ended before the money came: it is
    // paid, and all of it goes back.
    if wallet.status == Status::Closed {
        if !wallet.awaiting_funding {
            wallet.top_ups = wallet
                .top_ups
                .checked_add(funded.amount)
                .expect("top-ups are capped with the price");
        }
        wallet.awaiting_funding = false;
        wallet.pending_top_up = None;
        wallet.pay_out(Amount::ZERO, funded.amount)?;
        return Ok(effect(
            EffectKind::Refund,
            wallet.consumer,
            funded.amount,
            "late_funding",
        ));
    }
    // A top-up asked for: it counts from now, frozen with the rest.
    if !wallet.awaiting_funding {
        wallet.pending_top_up = None;
        wallet.top_ups = wallet
            .top_ups
            .checked_add(funded.amount)
            .expect("top-ups are capped with the price");
        return Ok(Vec::new());
    }
    wallet.awaiting_funding = false;
    wallet.opened_at = now;
    // As a tick would at the end of the cooling-off period: not while a re-key waits.
    if wallet.policy.cooling_off_days == 0 && wallet.rekey.is_none() && wallet.status == Status::Active {
        let release = wallet.release_unsupervised()?;
        return Ok(effect(
            EffectKind::Release,
            wallet.merchant,
            release,
            "unsupervised_share",
        ));
    }
    Ok(Vec::new())
}

/// `top_up`: the consumer asks to add `amount` to a stored-value card, within the policy's
/// caps on the price (the named and anonymous card caps, `max_price`) counted with every
/// top-up. It counts once the rail reports the money in (`funded`); one at a time.
fn ask_top_up(wallet: &mut Wallet, amount: Amount) -> Result<(), ContractError> {
    let Product::StoredValue(card) = &wallet.product else {
        return reject(ErrorCode::BadTopUp, "only a stored-value card is topped up");
    };
    let why = match () {
        _ if amount.is_zero() => Some("a top-up adds more than 0.00"),
        _ if wallet.status != Status::Active || wallet.awaiting_funding || wallet.refunded_at.is_some() => {
            Some("a card is topped up while it is active and funded, not in dispute or refunded")
        }
        _ if wallet.pending_top_up.is_some() => {
            Some("a top-up is already waiting for the rail; wait until it is funded")
        }
        _ => None,
    };
    if let Some(why) = why {
        return reject(ErrorCode::BadTopUp, why);
    }
    // The caps hold the whole paid in, as if the card had been sold for it.
    let added = wallet.top_ups.checked_add(amount);
    let topped = added.and_then(|added| Some((card.price.checked_add(added)?, card.face_value.checked_add(added)?)));
    let Some((price, face_value)) = topped else {
        return reject(ErrorCode::OverPriceCap, "the top-up takes the card over any cap");
    };
    let whole = Product::StoredValue(StoredValue { price, face_value });
    wallet.policy.check_caps(&whole)?;
    wallet.pending_top_up = Some(amount);
    Ok(())
}

/// `refund`: the consumer ends the contract; time-based consumption is brought up to date
/// and the frozen balance is split by the refund rule. Inside the cooling-off period
/// everything frozen goes back and requests still pending lapse. After it, what requests
/// still pending ask (a stage the merchant says it delivered, which the consumer has not
/// authorized) is neither paid nor refunded: it stays frozen, the requests in dispute, for
/// the regulator to settle with `resolve` (a split, or a refund) unless the merchant
/// withdraws them.
/// Everything else goes at once, so a pending request can delay only what it asks; what
/// the rule gives beyond what is frozen is owed by the merchant (a claim) once the wallet
/// closes.
fn refund(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    // Past its validity the wallet has expired, tick or no tick: everything frozen goes
    // back, as at expiry, not on the terms of a refund.
    if time::expired(wallet, now) {
        return time::tick(wallet, now, None);
    }
    // Nothing reached the wallet: the purchase is called off, and nothing moves.
    if wallet.awaiting_funding {
        wallet.close(Amount::ZERO, Amount::ZERO)?;
        return Ok(Vec::new());
    }
    if wallet.refunded_at.is_some() {
        return reject(
            ErrorCode::Disputed,
            "the refund is made; what the requests left pending ask waits for the regulator's resolution",
        );
    }
    // A membership's days run to now; the part outside supervision, if no tick has sent
    // it, stays frozen and goes back by the refund rule.
    let mut effects = time::accrue_days(wallet, now)?;
    if wallet.status == Status::Closed {
        return Ok(effects);
    }
    let settlement = consumer_refund(wallet, wallet.frozen()?, now);
    let entitled = claims::entitled(wallet, Some(now));
    // Inside the cooling-off period the consumer may withdraw from all of it: what they
    // never authorized holds nothing back (a merchant's requests would otherwise keep
    // their worth frozen and the wallet in dispute for the hold).
    let held = match settlement.in_cooling_off {
        true => Amount::ZERO,
        false => wallet.pending().min(settlement.refund),
    };
    let refund = settlement
        .refund
        .checked_sub(held)
        .expect("what is held is at most the refund");
    if held.is_zero() {
        wallet.close(settlement.release, refund)?;
    } else {
        wallet.pay_out(settlement.release, refund)?;
        wallet.status = Status::Disputed;
        wallet.refunded_at = Some(now);
        wallet.rekey = None;
        // The hold is what the regulator rules on now, as a whole.
        wallet.dispute = None;
        // What the requests ask is held for the regulator, who rules on the hold as a
        // whole: each is the consumer's dispute now, reason `refunded`, whoever disputed
        // it before (the journal keeps their disputes).
        let held = DisputeRecord {
            by: Party::Consumer,
            reason: DisputeReason::Refunded,
            evidence: None,
            opened_at: now,
        };
        for record in &mut wallet.requests {
            record.dispute = Some(held.clone());
        }
    }
    let refund_reason = if settlement.in_cooling_off {
        "cooling_off_refund"
    } else {
        "consumer_refund"
    };
    effects.extend(effect(
        EffectKind::Release,
        wallet.merchant,
        settlement.release,
        "consumed_at_list_price",
    ));
    effects.extend(effect(EffectKind::Refund, wallet.consumer, refund, refund_reason));
    // Owed now: all of it, or with requests held, all but what they could be worth, the
    // rest once the regulator, the merchant or time has settled them.
    let held_worth = match held.is_zero() {
        true => Amount::ZERO,
        false => claims::in_dispute(wallet, Some(now)),
    };
    effects.extend(claims::owe(wallet, entitled, held_worth, refund_reason)?);
    Ok(effects)
}
