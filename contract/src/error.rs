//! Rejections: every one has a stable code for programs and a message that tells a person
//! what to do. A rejected event changes nothing.

use alloc::string::String;
use core::fmt;

/// The stable codes of every rejection the contract can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The event is not valid JSON of a known event type, or has unknown or missing fields.
    BadEvent,
    /// An amount is not a canonical, non-negative, in-range decimal.
    BadAmount,
    /// The product terms or policy make no sense (e.g. a face value below the price).
    InvalidTerms,
    /// The product's price is over the policy's cap.
    OverPriceCap,
    /// The event's signature is missing or not the expected signer's.
    BadSignature,
    /// The regulator's approval of the terms is missing or invalid.
    BadApproval,
    /// The wallet has not been opened yet.
    NotOpen,
    /// `open` for a wallet that is already open.
    AlreadyOpen,
    /// The wallet is closed; no further events apply.
    Closed,
    /// The event's timestamp is before the wallet's last event.
    TimeBackwards,
    /// A request id that is already in use in this wallet.
    DuplicateRequest,
    /// A request id that is not pending in this wallet.
    UnknownRequest,
    /// A request whose kind of quantity does not fit the product, or is zero.
    BadQuantity,
    /// A request for more than the product has left, counting pending requests.
    OverRemaining,
    /// A release while the wallet is in dispute.
    Disputed,
    /// `dispute` for a wallet already in dispute.
    AlreadyDisputed,
    /// `resolve` for a wallet not in dispute.
    NotDisputed,
    /// A transfer to the wallet's own consumer, or while the wallet awaits money from the
    /// rail.
    BadTransfer,
    /// State bytes that this contract did not write.
    BadState,
    /// A request id that is empty, longer than 64 bytes or has control characters.
    BadRequestId,
    /// A request while 64 requests already await authorization.
    TooManyPending,
    /// An authorization whose quantity is missing or differs from its request's.
    AuthorizationMismatch,
    /// A signed event applied after the `not_after` its signer set.
    TooLate,
    /// A re-key to the consumer's own key, while another is under way, or a cancel with
    /// none under way.
    BadRekey,
    /// An `open` whose regulator's approval of its catalogue listing has lapsed.
    ApprovalExpired,
    /// Terms over one of the policy's caps other than the price: sessions, term, or the
    /// multiple of a single treatment's fee.
    OverPolicyCap,
    /// A merchant's closure applied before the date it takes effect.
    NotYetEffective,
    /// A `resolve` that does not fit its outcome: a split's `release` missing, or more
    /// than the rules allow; a `release` on another outcome; a ruling on requests without
    /// a reason code, on a refunded wallet, or splitting more than one request.
    BadResolution,
    /// A `request` or `dispute` of a wallet whose price has not reached it yet.
    NotFunded,
    /// A `funded` for a wallet awaiting no money, of another amount than it awaits, under
    /// the reference of its earlier funding, with a reference that is not 1 to 64 plain
    /// characters, or from a payer who is not the wallet's consumer.
    BadFunding,
    /// A `top_up` of something other than an active, funded stored-value card, of zero,
    /// or while another waits for the rail.
    BadTopUp,
    /// A `dispute` the rules do not allow: a merchant's against the whole wallet, against
    /// a request the consumer still has days to answer or with a reason other than
    /// `unanswered`; a reason that is the contract's own; requests named twice or none.
    BadDispute,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 32] = [
        ErrorCode::BadEvent,
        ErrorCode::BadAmount,
        ErrorCode::InvalidTerms,
        ErrorCode::OverPriceCap,
        ErrorCode::BadSignature,
        ErrorCode::BadApproval,
        ErrorCode::NotOpen,
        ErrorCode::AlreadyOpen,
        ErrorCode::Closed,
        ErrorCode::TimeBackwards,
        ErrorCode::DuplicateRequest,
        ErrorCode::UnknownRequest,
        ErrorCode::BadQuantity,
        ErrorCode::OverRemaining,
        ErrorCode::Disputed,
        ErrorCode::AlreadyDisputed,
        ErrorCode::NotDisputed,
        ErrorCode::BadTransfer,
        ErrorCode::BadState,
        ErrorCode::BadRequestId,
        ErrorCode::TooManyPending,
        ErrorCode::AuthorizationMismatch,
        ErrorCode::TooLate,
        ErrorCode::BadRekey,
        ErrorCode::ApprovalExpired,
        ErrorCode::OverPolicyCap,
        ErrorCode::NotYetEffective,
        ErrorCode::BadResolution,
        ErrorCode::NotFunded,
        ErrorCode::BadFunding,
        ErrorCode::BadTopUp,
        ErrorCode::BadDispute,
    ];

    /// The code spelled `code`, if it is one of this contract's.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|known| known.as_str() == code)
    }

    /// The code as it appears in outputs and journals.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadEvent => "bad_event",
            ErrorCode::BadAmount => "bad_amount",
            ErrorCode::InvalidTerms => "invalid_terms",
            ErrorCode::OverPriceCap => "over_price_cap",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BadApproval => "bad_approval",
            ErrorCode::NotOpen => "not_open",
            ErrorCode::AlreadyOpen => "already_open",
            ErrorCode::Closed => "closed",
            ErrorCode::TimeBackwards => "time_backwards",
            ErrorCode::DuplicateRequest => "duplicate_request",
            ErrorCode::UnknownRequest => "unknown_request",
            ErrorCode::BadQuantity => "bad_quantity",
            ErrorCode::OverRemaining => "over_remaining",
            ErrorCode::Disputed => "disputed",
            ErrorCode::AlreadyDisputed => "already_disputed",
            ErrorCode::NotDisputed => "not_disputed",
            ErrorCode::BadTransfer => "bad_transfer",
            ErrorCode::BadState => "bad_state",
            ErrorCode::BadRequestId => "bad_request_id",
            ErrorCode::TooManyPending => "too_many_pending",
            ErrorCode::AuthorizationMismatch => "authorization_mismatch",
            ErrorCode::TooLate => "too_late",
            ErrorCode::BadRekey => "bad_rekey",
            ErrorCode::ApprovalExpired => "approval_expired",
            ErrorCode::OverPolicyCap => "over_policy_cap",
            ErrorCode::NotYetEffective => "not_yet_effective",
            ErrorCode::BadResolution => "bad_resolution",
            ErrorCode::NotFunded => "not_funded",
            ErrorCode::BadFunding => "bad_funding",
            ErrorCode::BadTopUp => "bad_top_up",
            ErrorCode::BadDispute => "bad_dispute",
        }
    }
}

/// A rejection: a stable code and a human message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractError {
    /// What kind of rejection this is.
    pub code: ErrorCode,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl ContractError {
    /// A rejection with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ContractError {
        ContractError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Shorthand for a rejection.
pub(crate) fn reject<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, ContractError> {
    Err(ContractError::new(code, message))
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_parses_back() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("contract_panic"), None);
    }
}
