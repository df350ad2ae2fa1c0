//! The transitions: how each event changes a wallet and what money it moves.
//! The figures always satisfy `paid = frozen + released + refunded` and `pending <= frozen`.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::authorization::{require_approval, require_signature, PublicKey};
use crate::crypto::Crypto;
use crate::error::{reject, ContractError, ErrorCode};
use crate::event::{Context, Event, Open, Request};
use crate::money::Amount;
use crate::refunds::consumer_refund;
use crate::state::{RequestRecord, RequestStatus, Status, Wallet};
use crate::valuation::paid_rate_value;

/// Which way money moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectKind {
    /// From the frozen balance to the merchant.
    Release,
    /// From the frozen balance back to the consumer.
    Refund,
}

/// A movement of money the payment rail must carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// Which way.
    pub kind: EffectKind,
    /// The recipient.
    pub to: PublicKey,
    /// How much.
    pub amount: Amount,
    /// Why, as a stable snake_case word.
    pub reason: &'static str,
}

/// An accepted event: the new state bytes and the money moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The wallet's new state, encoded.
    pub state: Vec<u8>,
    /// The money the event moves, in order.
    pub effects: Vec<Effect>,
}

/// Applies `event_json` to the wallet in `state` (none before its first event).
/// A rejection leaves the state as it was.
pub fn apply(
    crypto: &impl Crypto,
    state: Option<&[u8]>,
    ctx: &Context,
    event_json: &str,
) -> Result<Applied, ContractError> {
    let event = Event::parse(event_json)?;
    let Some(mut wallet) = state.map(Wallet::decode).transpose()? else {
        let Event::Open(open) = &event else {
            return reject(ErrorCode::NotOpen, "this wallet has not been opened; send `open` first");
        };
        let wallet = open_wallet(crypto, ctx, &event, open)?;
        return Ok(Applied {
            state: wallet.encode(),
            effects: Vec::new(),
        });
    };
    if wallet.status == Status::Closed {
        return reject(
            ErrorCode::Closed,
            "this wallet is closed; nothing more can happen to it",
        );
    }
    if ctx.timestamp < wallet.last_at {
        return reject(
            ErrorCode::TimeBackwards,
            alloc::format!(
                "the event's time ({}) is before the wallet's last event ({}); events of a wallet must come in time order",
                ctx.timestamp, wallet.last_at
            ),
        );
    }
    let effects = match &event {
        Event::Open(_) => {
            return reject(
                ErrorCode::AlreadyOpen,
                "this wallet is already open; use a new wallet id for a new purchase",
            )
        }
        Event::Request(request) => {
            require_signature(crypto, ctx, &event, &wallet.merchant, "merchant")?;
            add_request(&mut wallet, request)?;
            Vec::new()
        }
        Event::Authorize(authorize) => {
            require_signature(crypto, ctx, &event, &wallet.consumer, "consumer")?;
            authorize_request(&mut wallet, &authorize.request)?
        }
        Event::Refund(_) => {
            require_signature(crypto, ctx, &event, &wallet.consumer, "consumer")?;
            refund(&mut wallet, ctx.timestamp)?
        }
    };
    wallet.last_at = ctx.timestamp;
    Ok(Applied {
        state: wallet.encode(),
        effects,
    })
}

/// `open`: checks the consumer's signature, the regulator's approval of the terms and
/// the policy's price cap, then freezes the price in a new wallet.
fn open_wallet(crypto: &impl Crypto, ctx: &Context, event: &Event, open: &Open) -> Result<Wallet, ContractError> {
    require_signature(crypto, ctx, event, &open.consumer, "consumer")?;
    require_approval(
        crypto,
        &open.regulator,
        &open.approval,
        &open.merchant,
        &open.product,
        &open.policy,
    )?;
    open.product.validate()?;
    if let Some(cap) = open.policy.max_price {
        if open.product.price() > cap {
            return reject(
                ErrorCode::OverPriceCap,
                alloc::format!(
                    "the price {} is over the policy's cap of {cap}; sell a smaller product",
                    open.product.price()
                ),
            );
        }
    }
    Ok(Wallet {
        consumer: open.consumer,
        merchant: open.merchant,
        regulator: open.regulator,
        product: open.product.clone(),
        policy: open.policy.clone(),
        opened_at: ctx.timestamp,
        last_at: ctx.timestamp,
        status: Status::Active,
        consumed: 0,
        released: Amount::ZERO,
        refunded: Amount::ZERO,
        requests: BTreeMap::new(),
    })
}

/// `request`: the merchant asks for units, which become pending. Pending requests
/// together never promise more than the product has left.
fn add_request(wallet: &mut Wallet, request: &Request) -> Result<(), ContractError> {
    if wallet.requests.contains_key(&request.request) {
        return reject(
            ErrorCode::DuplicateRequest,
            alloc::format!(
                "request id \"{}\" is already used in this wallet; choose a new one",
                request.request
            ),
        );
    }
    let units = wallet.product.requested_units(request)?;
    let left = wallet.product.total_units() - wallet.consumed - wallet.pending_units();
    if units > left {
        return reject(
            ErrorCode::OverRemaining,
            alloc::format!(
                "the request asks for {units} units but only {left} are left once pending requests are counted"
            ),
        );
    }
    wallet.requests.insert(
        request.request.clone(),
        RequestRecord {
            units,
            status: RequestStatus::Pending,
        },
    );
    Ok(())
}

/// `authorize`: the consumer releases a pending request to the merchant at the paid rate.
/// The wallet closes when the whole product is consumed.
fn authorize_request(wallet: &mut Wallet, id: &str) -> Result<Vec<Effect>, ContractError> {
    let Some(record) = wallet
        .requests
        .get_mut(id)
        .filter(|record| record.status == RequestStatus::Pending)
    else {
        return reject(
            ErrorCode::UnknownRequest,
            alloc::format!("no pending request \"{id}\" in this wallet; authorize a request the merchant has made"),
        );
    };
    record.status = RequestStatus::Authorized;
    let before = paid_rate_value(&wallet.product, wallet.consumed);
    wallet.consumed += record.units;
    let release = paid_rate_value(&wallet.product, wallet.consumed)
        .checked_sub(before)
        .expect("the paid-rate value only grows with units");
    wallet.released = add(wallet.released, release)?;
    if wallet.consumed == wallet.product.total_units() {
        wallet.status = Status::Closed;
    }
    Ok(effect(EffectKind::Release, wallet.merchant, release, "authorized"))
}

/// `refund`: the consumer ends the contract; pending requests are dropped and the frozen
/// balance is split by the refund rule.
fn refund(wallet: &mut Wallet, timestamp: i64) -> Result<Vec<Effect>, ContractError> {
    let frozen = wallet.frozen()?;
    let settlement = consumer_refund(wallet, frozen, timestamp);
    for record in wallet
        .requests
        .values_mut()
        .filter(|record| record.status == RequestStatus::Pending)
    {
        record.status = RequestStatus::Cancelled;
    }
    wallet.released = add(wallet.released, settlement.release)?;
    wallet.refunded = add(wallet.refunded, settlement.refund)?;
    wallet.status = Status::Closed;
    let refund_reason = if settlement.in_cooling_off {
        "cooling_off_refund"
    } else {
        "consumer_refund"
    };
    let mut effects = effect(
        EffectKind::Release,
        wallet.merchant,
        settlement.release,
        "consumed_at_list_price",
    );
    effects.extend(effect(
        EffectKind::Refund,
        wallet.consumer,
        settlement.refund,
        refund_reason,
    ));
    Ok(effects)
}

/// An effect, or none for a zero amount: the rail never moves nothing.
fn effect(kind: EffectKind, to: PublicKey, amount: Amount, reason: &'static str) -> Vec<Effect> {
    if amount.is_zero() {
        Vec::new()
    } else {
        vec![Effect {
            kind,
            to,
            amount,
            reason,
        }]
    }
}

fn add(total: Amount, amount: Amount) -> Result<Amount, ContractError> {
    total
        .checked_add(amount)
        .ok_or_else(|| ContractError::new(ErrorCode::BadState, "a total overflowed; the state is corrupt"))
}
