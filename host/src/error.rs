//! The library's error: what a caller branches on is a variant to `match`, never a string
//! to search for or a type to downcast to.

use std::fmt;

/// What went wrong with a call into the library.
///
/// Only [`Error::Fault`] is the host's own failure (a disk, a connection, a bug); the other
/// variants are answers about the request, and each leaves the store unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The event was refused before it reached the contract; nothing was recorded.
    #[error("{0}")]
    Refused(Refusal),
    /// Another writer recorded the wallet's next entry (or the same event id) first.
    /// Nothing was written; the ledger retries these itself, so a caller sees one only
    /// after a storm of writers on one wallet.
    #[error("another writer recorded entry {seq} of wallet {wallet} first")]
    Conflict {
        /// The wallet raced for.
        wallet: String,
        /// The seq this writer tried to record.
        seq: u64,
    },
    /// An acknowledgement named an effect the outbox does not hold; nothing was
    /// acknowledged.
    #[error("no effect {0} in the outbox")]
    UnknownEffect(String),
    /// An acknowledgement named an effect that the claim it presented does not hold (the
    /// lease lapsed and another adapter claimed it), or that is under someone's live claim
    /// when no claim was presented; nothing was acknowledged.
    #[error(
        "effect {0} is not held by the claim presented: another adapter may have claimed it after the lease lapsed; claim it again"
    )]
    StaleClaim(String),
    /// An acknowledgement gave a malformed reference, or two for one effect; nothing was
    /// acknowledged.
    #[error("{0}")]
    BadReference(String),
    /// An acknowledgement named an effect acknowledged before under another reference (or
    /// none): the rail reports paying it twice, which `reconcile` is there to name; nothing
    /// was acknowledged.
    #[error(
        "effect {effect_id} was acknowledged {} before, not under {given}: an acknowledgement is recorded once, and a \
         second reference may be a second payment (see `prepaid reconcile`)",
        recorded.as_ref().map_or("without a reference".to_owned(), |recorded| format!("under {recorded}"))
    )]
    ReferenceDiffers {
        /// The effect.
        effect_id: String,
        /// The reference its acknowledgement recorded.
        recorded: Option<String>,
        /// The reference given now.
        given: String,
    },
    /// The host is saturated (every connection to the store in use for too long); nothing
    /// was done, and the request may be retried.
    #[error("the host is busy: {0}")]
    Busy(String),
    /// The host failed (storage, connection, a component that cannot be loaded): the
    /// request may be retried once the cause is fixed.
    #[error(transparent)]
    Fault(#[from] anyhow::Error),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refusal with `code`.
    pub fn refused(code: RefusalCode, message: impl Into<String>) -> Error {
        Error::Refused(Refusal {
            code,
            message: message.into(),
        })
    }

    /// A fault with `message`.
    pub fn fault(message: impl fmt::Display) -> Error {
        Error::Fault(anyhow::anyhow!("{message}"))
    }
}

/// Why an event was refused before it reached the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Which rule of the host refused it.
    pub code: RefusalCode,
    /// What went wrong and what to do.
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The host's reasons to refuse an event (the contract's own are in its verdict).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalCode {
    /// The envelope is malformed: not the raw-event shape, a bad time or signature field.
    BadEnvelope,
    /// An event other than `open` for a wallet that does not exist.
    UnknownWallet,
    /// The event id was recorded before for a different event.
    EventIdReused,
    /// An `open` names a regulator the platform's trust file does not list.
    UntrustedRegulator,
    /// An `open` would pin the wallet to a component the trust file does not list.
    UntrustedComponent,
    /// The event names its own time, which only the platform's clock may give.
    ClientTime,
    /// A `tick` from a caller: the platform's clock ticks wallets itself.
    PlatformOnly,
    /// An `open` that says it is paid (no `awaiting_funding`), on a ledger whose money
    /// comes from the rail ([`crate::Funding::Rail`], the default): a wallet's money exists
    /// only once the payment rail reports it (`funded`).
    UnfundedOpen,
    /// The contract rejected the event before it was shown to come from a party of the
    /// wallet (malformed, not signed by the party it needs, an `open` of an open wallet)
    /// or rejected the `open` of a new wallet: with the contract's code, and recorded
    /// nowhere, so that no one but a party can take a wallet's event id.
    Unattributed(prepaid_contract::ErrorCode),
    /// An `open` that names no listing of the platform's catalogue, or an unknown one.
    Unlisted,
    /// An `open` of a listing that is pending, rejected, revoked or past its approval.
    ListingNotForSale,
    /// An `open` whose merchant, terms or approval are not its listing's.
    ListingMismatch,
    /// An `open` of a merchant that is not approved (pending, suspended, closing, closed).
    MerchantNotSelling,
    /// A registry change with a missing, malformed or unsigned field.
    BadRegistryEntry,
    /// A registry change naming a merchant that is not registered.
    UnknownMerchant,
    /// A webhook id the registry does not know.
    UnknownWebhook,
    /// A registry change naming a listing that does not exist.
    UnknownListing,
    /// A merchant registering a second time.
    AlreadyRegistered,
    /// A registry change its subject's status does not allow (approving a closed
    /// merchant, revoking a rejected listing).
    WrongStatus,
    /// A closure recorded with less than the platform's notice.
    ShortNotice,
    /// A `migrate` the host or the component it moves to refused: it names another
    /// component than the wallet's, or one not stored, the wallet has no accepted `open`,
    /// or the new component rejected it (with its code and message). A migration happens
    /// whole or not at all: a refused one records nothing.
    MigrationRefused,
    /// A `migrate` that would give the consumer less on some path (see
    /// [`crate::plan`]) and carries no consent of theirs: handed in by
    /// [`crate::Ledger::migrate`], it waits for them (see [`crate::Ledger::consent`]).
    AwaitsConsent,
    /// An event that would release money to the merchant on a wallet whose component the
    /// trust file revokes; only refunds, rulings and a migration away release on it.
    ComponentRevoked,
}

impl RefusalCode {
    /// The stable snake_case code, as the API and the CLI print it.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::BadEnvelope => "bad_envelope",
            RefusalCode::UnknownWallet => "unknown_wallet",
            RefusalCode::EventIdReused => "event_id_reused",
            RefusalCode::UntrustedRegulator => "untrusted_regulator",
            RefusalCode::UntrustedComponent => "untrusted_component",
            RefusalCode::ClientTime => "client_time",
            RefusalCode::PlatformOnly => "platform_only",
            RefusalCode::UnfundedOpen => "unfunded_open",
            RefusalCode::Unattributed(code) => code.as_str(),
            RefusalCode::Unlisted => "unlisted",
            RefusalCode::ListingNotForSale => "listing_not_for_sale",
            RefusalCode::ListingMismatch => "listing_mismatch",
            RefusalCode::MerchantNotSelling => "merchant_not_selling",
            RefusalCode::BadRegistryEntry => "bad_registry_entry",
            RefusalCode::UnknownMerchant => "unknown_merchant",
            RefusalCode::UnknownListing => "unknown_listing",
            RefusalCode::UnknownWebhook => "unknown_webhook",
            RefusalCode::AlreadyRegistered => "already_registered",
            RefusalCode::WrongStatus => "wrong_status",
            RefusalCode::ShortNotice => "short_notice",
            RefusalCode::MigrationRefused => "migration_refused",
            RefusalCode::AwaitsConsent => "awaits_consent",
            RefusalCode::ComponentRevoked => "component_revoked",
        }
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        Error::Fault(error.into())
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for Error {
    fn from(error: postgres::Error) -> Error {
        Error::Fault(error.into())
    }
}
