//! The typed figures of a wallet, for people, hosts and tests, and the details a consumer
//! needs to decide: every pending request in full, what is left, and the dates that
//! change what a refund returns.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ContractError;
use crate::keys::PublicKey;
use crate::money::Amount;
use crate::products::Product;
use crate::state::{DisputeReason, DisputeRecord, Party, Status, Wallet};

/// A wallet's figures. Always `paid = frozen + released + refunded` and
/// `pending <= frozen`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Where the wallet is in its life.
    pub status: Status,
    /// The product kind.
    pub product: String,
    /// The consumer's key.
    pub consumer: PublicKey,
    /// The merchant's key.
    pub merchant: PublicKey,
    /// What the consumer paid.
    pub paid: Amount,
    /// What is still frozen.
    pub frozen: Amount,
    /// What has been released to the merchant.
    pub released: Amount,
    /// What has been refunded to the consumer.
    pub refunded: Amount,
    /// What the pending requests would release.
    pub pending: Amount,
    /// What the wallet's claims record the merchant owes the consumer, outside the wallet
    /// ([`crate::claims`]).
    pub owed: Amount,
    /// When the platform should next tick the wallet (see [`crate::time::next_due`]).
    pub next_due: Option<i64>,
}

/// The view of the state bytes `state`.
pub fn view(state: &[u8]) -> Result<View, ContractError> {
    let wallet = Wallet::decode(state)?;
    Ok(View {
        status: wallet.status,
        product: wallet.product.kind().into(),
        consumer: wallet.consumer,
        merchant: wallet.merchant,
        paid: wallet.paid(),
        frozen: wallet.frozen()?,
        released: wallet.released,
        refunded: wallet.refunded,
        pending: wallet.pending(),
        owed: wallet.owed,
        next_due: crate::time::next_due(&wallet),
    })
}

/// A request awaiting the consumer's authorization, as the consumer must see it to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    /// The merchant's id for it: an authorization names it.
    pub id: String,
    /// The units it consumes (sessions, fen of face value, one stage, days).
    pub units: u64,
    /// The plan stage it completes, and the stage's name.
    pub stage: Option<(u32, String)>,
    /// What authorizing it would release now, the requests before it authorized first.
    pub release: Amount,
    /// When the merchant asked (platform time, seconds).
    pub requested_at: i64,
    /// When it is deemed confirmed if the consumer does nothing, if the policy deems
    /// requests confirmed (for working days, the earliest until a tick has counted them).
    pub deemed_at: Option<i64>,
    /// Whether a dispute names it: it is not deemed confirmed, and only the consumer's
    /// authorization or the regulator's ruling settles it ([`Details::disputes`]).
    pub disputed: bool,
}

/// A dispute open in a wallet, as the regulator's queue and both parties see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenDispute {
    /// The request disputed; none: the whole wallet.
    pub request: Option<String>,
    /// Who raised it, why, on what evidence, when.
    pub record: DisputeRecord,
    /// When the regulator's ruling is due, after which the default applies (for a request
    /// a refund holds, the hold's end); none for a wallet disputed under an earlier
    /// component, which recorded no time.
    pub ruling_due: Option<i64>,
    /// What is at stake: what the request would release if authorized now, or for the
    /// whole wallet what is frozen.
    pub amount: Amount,
}

/// The disputes open in `wallet`: of the whole wallet first (one an earlier component
/// opened reads as the consumer's, reason unrecorded, with no ruling due), then of its
/// requests, oldest first. A refund's hold is its requests', due when the hold ends.
pub fn open_disputes(wallet: &Wallet) -> Vec<OpenDispute> {
    if wallet.status == Status::Closed {
        return Vec::new();
    }
    let unrecorded = (wallet.status == Status::Disputed && wallet.refunded_at.is_none()).then_some(DisputeRecord {
        by: Party::Consumer,
        reason: DisputeReason::Unrecorded,
        evidence: None,
        opened_at: wallet.last_at,
    });
    let of_wallet = wallet.dispute.clone().or(unrecorded).map(|record| OpenDispute {
        request: None,
        ruling_due: wallet
            .dispute
            .as_ref()
            .map(|record| crate::disputes::ruling_due(wallet, record)),
        amount: wallet.frozen().unwrap_or(Amount::ZERO),
        record,
    });
    let hold_ends = crate::time::refund_hold_ends(wallet);
    let mut of_requests = Vec::new();
    for (request, release) in wallet.pending_releases() {
        if let Some(record) = &request.dispute {
            of_requests.push(OpenDispute {
                request: Some(request.id.clone()),
                ruling_due: hold_ends.or(Some(crate::disputes::ruling_due(wallet, record))),
                amount: release,
                record: record.clone(),
            });
        }
    }
    of_wallet.into_iter().chain(of_requests).collect()
}

/// What a consumer needs to decide about a wallet besides its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    /// The figures.
    pub view: View,
    /// The requests awaiting authorization, oldest first.
    pub requests: Vec<PendingRequest>,
    /// Units neither consumed nor asked for by a pending request.
    pub units_left: u64,
    /// A plan's stages neither completed nor asked for, by index and name.
    pub stages_left: Vec<(u32, String)>,
    /// When the cooling-off period ends: until then a refund returns everything frozen.
    pub cooling_off_ends: i64,
    /// When the wallet expires (everything frozen goes back), if the policy limits it.
    pub expires_at: Option<i64>,
    /// When what a refund left to the regulator goes back, if a refund left any.
    pub refund_hold_ends: Option<i64>,
    /// The disputes open: of the whole wallet first, then of requests, oldest first.
    pub disputes: Vec<OpenDispute>,
    /// The consumer's new key and when it takes effect, if a re-key is under way.
    pub rekey: Option<(PublicKey, i64)>,
    /// Whether the price has yet to reach the wallet.
    pub awaiting_funding: bool,
    /// The rail's reference for the payment that funded it, if it was opened awaiting one.
    pub rail_reference: Option<String>,
}

/// The details of the state bytes `state`.
pub fn details(state: &[u8]) -> Result<Details, ContractError> {
    let wallet = Wallet::decode(state)?;
    let stage_name = |stage: u32| match &wallet.product {
        Product::Plan(plan) => plan.stages.get(stage as usize).map(|found| found.name.clone()),
        _ => None,
    };
    let mut requests = Vec::with_capacity(wallet.requests.len());
    for (record, release) in wallet.pending_releases() {
        requests.push(PendingRequest {
            id: record.id.clone(),
            units: record.units,
            stage: record
                .stage
                .and_then(|stage| stage_name(stage).map(|name| (stage, name))),
            release,
            requested_at: record.requested_at,
            deemed_at: crate::time::deemed_at(&wallet, record),
            disputed: record.dispute.is_some(),
        });
    }
    let stages_left = match &wallet.product {
        Product::Plan(plan) => (0..plan.stages.len() as u32)
            .filter(|stage| !wallet.stage_taken(*stage))
            .filter_map(|stage| stage_name(stage).map(|name| (stage, name)))
            .collect(),
        _ => Vec::new(),
    };
    let disputes = open_disputes(&wallet);
    Ok(Details {
        disputes,
        units_left: wallet.total_units() - wallet.consumed - wallet.pending_units(),
        stages_left,
        cooling_off_ends: wallet.policy.cooling_off_ends(wallet.opened_at),
        expires_at: crate::time::expires_at(&wallet),
        refund_hold_ends: crate::time::refund_hold_ends(&wallet),
        rekey: wallet.rekey.as_ref().map(|rekey| (rekey.to, rekey.effective_at)),
        awaiting_funding: wallet.awaiting_funding,
        rail_reference: wallet.rail_reference.clone(),
        requests,
        view: view(state)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RequestRecord;
    use crate::test_support::{sessions_wallet, DAY};

    #[test]
    fn details_show_each_pending_request_with_what_it_would_release() {
        let mut wallet = sessions_wallet(3, "1000.00", "400.00");
        wallet.policy.deemed_confirm_days = 3;
        for (id, units) in [("r1", 1), ("r2", 2)] {
            wallet.requests.push(RequestRecord {
                id: id.into(),
                units,
                stage: None,
                requested_at: DAY,
                dispute: None,
                deemed_at: None,
            });
        }
        let details = details(&wallet.encode()).unwrap();
        let releases: Vec<Amount> = details.requests.iter().map(|request| request.release).collect();
        // 1000.00 over three units, rounded down cumulatively: the last takes the residue.
        let expected = ["333.33", "666.67"].map(|amount| Amount::parse(amount).unwrap());
        assert_eq!(releases, expected);
        assert_eq!(details.requests[0].deemed_at, Some(4 * DAY));
        assert_eq!(details.units_left, 0);
        assert_eq!(details.cooling_off_ends, 7 * DAY);
        assert_eq!(details.view.pending, Amount::parse("1000.00").unwrap());
    }
}
