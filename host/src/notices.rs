//! Notices: what needs a consumer's or a merchant's attention, worked out from the wallets'
//! state and the registry when asked (nothing is stored, so nothing can drift from the
//! journal). Each has a stable id, the same every time it is listed, so that an app, or
//! a webhook's receiver, shows or acts on it once.

use prepaid_contract::state::Status;
use prepaid_contract::Details;
use serde::Serialize;

use crate::claims::ConsumerClaim;

/// The furthest ahead a feed looks, in days.
pub const MAX_WITHIN_DAYS: u32 = 366;

/// Who a feed is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// A consumer, by key (hex): what they must decide.
    Consumer(String),
    /// A merchant, by key (hex): what is about to happen to its wallets.
    Merchant(String),
}

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A request awaits the consumer's authorization (consumers only).
    RequestWaiting,
    /// A request will be deemed confirmed, and released, if nobody acts.
    DeemedConfirmationDue,
    /// The cooling-off period ends: after it, a refund values consumption at list price.
    CoolingOffEnding,
    /// The wallet expires: everything frozen goes back.
    ExpiryComing,
    /// What a refund left to the regulator goes back unless the regulator rules first.
    RefundHoldEnding,
    /// The regulator recorded the merchant's closure: sales stopped, and on the date
    /// everything frozen goes back.
    MerchantClosing,
    /// The regulator moves the wallet onto new rules that would give the consumer less on
    /// some path: it waits for their consent, and stays on its rules without it (consumers
    /// only).
    MigrationAwaitsConsent,
    /// The wallet's ending gave the consumer more than was frozen: the merchant owes the
    /// rest, a claim its next releases pay (`amount`: what remains). Listed while it does.
    ClaimOwed,
    /// A release of the merchant's paid part of a claim to the consumer (`amount`: how
    /// much; consumers only).
    ClaimPaid,
    /// A dispute is open, of a request or (without one) the whole wallet, raised by
    /// either party or the regulator (`amount`: what is at stake). Listed while it is, to
    /// both parties, so neither learns of the other's dispute only from its ruling.
    DisputeOpen,
    /// The regulator's ruling on a dispute is due: after it the default ruling applies
    /// (docs/CONTRACT.md, "Disputes").
    RulingDue,
}

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Stable: the same notice has the same id every time it is listed or delivered.
    pub id: String,
    /// The wallet it is about.
    pub wallet: String,
    /// What it is about.
    pub kind: NoticeKind,
    /// When it happens (or, for a request waiting, when the merchant asked).
    #[serde(serialize_with = "crate::outcome::rfc3339")]
    pub at: i64,
    /// The request it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The money at stake, if one figure says it: what a request would release, or what is
    /// frozen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// The notices of `wallet` (its `details`) for `audience` at `now`: what falls between
/// now and `until`, and every request waiting. `closure` is the effective time of its
/// merchant's recorded closure, if there is one.
pub fn of_wallet(
    wallet: &str,
    details: &Details,
    closure: Option<i64>,
    audience: &Audience,
    now: i64,
    until: i64,
) -> Vec<Notice> {
    // Nothing is at stake before the money arrives, nor after the wallet is closed.
    if details.view.status == Status::Closed || details.awaiting_funding {
        return Vec::new();
    }
    let notice = |kind: NoticeKind, at: i64, request: Option<&str>, amount: Option<String>| {
        let key = request.map_or_else(|| format!("{at}"), |request| format!("{request}/{at}"));
        let word = crate::text::word(&kind);
        Notice {
            id: format!("{wallet}/{word}/{key}"),
            wallet: wallet.to_owned(),
            kind,
            at,
            request: request.map(str::to_owned),
            amount,
        }
    };
    let coming = |at: &i64| (now..=until).contains(at);
    let frozen = Some(details.view.frozen.to_string());
    let mut notices = Vec::new();
    for request in details.requests.iter().filter(|request| !request.disputed) {
        let release = Some(request.release.to_string());
        if matches!(audience, Audience::Consumer(_)) {
            notices.push(notice(
                NoticeKind::RequestWaiting,
                request.requested_at,
                Some(&request.id),
                release.clone(),
            ));
        }
        if let Some(at) = request.deemed_at.filter(coming) {
            notices.push(notice(
                NoticeKind::DeemedConfirmationDue,
                at,
                Some(&request.id),
                release,
            ));
        }
    }
    for dispute in &details.disputes {
        let request = dispute.request.as_deref();
        let amount = Some(dispute.amount.to_string());
        notices.push(notice(
            NoticeKind::DisputeOpen,
            dispute.record.opened_at,
            request,
            amount.clone(),
        ));
        // A refund's hold has its own notice of its end.
        let ruled = dispute.record.reason != prepaid_contract::state::DisputeReason::Refunded;
        if let Some(due) = dispute.ruling_due.filter(|due| ruled && coming(due)) {
            notices.push(notice(NoticeKind::RulingDue, due, request, amount));
        }
    }
    let dated = [
        (
            NoticeKind::CoolingOffEnding,
            Some(details.cooling_off_ends).filter(coming),
        ),
        (NoticeKind::ExpiryComing, details.expires_at.filter(coming)),
        (NoticeKind::RefundHoldEnding, details.refund_hold_ends.filter(coming)),
        // A closure is news from the moment it is recorded, however far off its date.
        (NoticeKind::MerchantClosing, closure.filter(|at| *at >= now)),
    ];
    for (kind, at) in dated {
        if let Some(at) = at {
            notices.push(notice(kind, at, None, frozen.clone()));
        }
    }
    notices
}

/// The notices of `claim` for `audience`: that it is owed, while it is, and to its consumer
/// each payment of it.
pub fn of_claim(claim: &ConsumerClaim, audience: &Audience) -> Vec<Notice> {
    let notice = |kind: NoticeKind, about: &str, at: i64, amount: &str| Notice {
        id: format!("{}/{}/{about}", claim.wallet, crate::text::word(&kind)),
        wallet: claim.wallet.clone(),
        kind,
        at,
        request: None,
        amount: Some(amount.to_owned()),
    };
    let mut notices = Vec::new();
    if claim.settled_at.is_none() {
        notices.push(notice(NoticeKind::ClaimOwed, &claim.claim, claim.at, &claim.remaining));
    }
    if let Audience::Consumer(_) = audience {
        for payment in &claim.payments {
            notices.push(notice(
                NoticeKind::ClaimPaid,
                &payment.release,
                payment.at,
                &payment.amount,
            ));
        }
    }
    notices
}

/// The notice that a migration of `wallet`, handed in at `asked_at`, waits for its
/// consumer's consent.
pub fn migration_waiting(wallet: &str, asked_at: i64) -> Notice {
    let kind = NoticeKind::MigrationAwaitsConsent;
    Notice {
        id: format!("{wallet}/{}/{asked_at}", crate::text::word(&kind)),
        wallet: wallet.to_owned(),
        kind,
        at: asked_at,
        request: None,
        amount: None,
    }
}
