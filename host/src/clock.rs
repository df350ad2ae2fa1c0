//! Where the times of events come from.
//!
//! Time moves money here (cooling-off periods, deemed confirmations, a membership's days,
//! expiry), so it is the platform's, never a caller's: a merchant that could date its own
//! events could release a year of a membership on the first day. A [`Ledger`] on the
//! [`Clock::System`] clock (the default, and what `prepaid serve` and `prepaid apply` run)
//! stamps every event when it arrives, refuses an event that names its own time, and takes
//! `tick` from nobody: it ticks wallets itself when their rules fall due
//! ([`Ledger::tick_due`]). A [`Clock::Scripted`] ledger takes each event's time from the
//! event instead: that is the test clock of scenario files, the test kit and the
//! benchmarks, which replay histories written in advance.
//!
//! [`Ledger`]: crate::Ledger
//! [`Ledger::tick_due`]: crate::Ledger::tick_due

use crate::envelope::{rfc3339, Envelope};
use crate::error::{Error, RefusalCode, Result};

/// How the ids of the platform's ticks begin (then the tick's time); no caller's event on
/// the system clock may take one.
pub const TICK_ID_PREFIX: &str = "tick-";
/// How the ids of the merchant closures the platform applies begin (then the closure's
/// time); no caller's event on the system clock may take one either.
pub const CLOSURE_ID_PREFIX: &str = "closure-";

/// Where a ledger takes the time of each event from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The host's own clock: every event is stamped on arrival; one that carries `at` is
    /// refused (`client_time`), and so is `tick` (`platform_only`).
    #[default]
    System,
    /// Each event carries its time in `at`, `tick` included: for scenario files, the test
    /// kit and benchmarks, never for events that come from outside the platform.
    Scripted,
}

impl Clock {
    /// The clock's time, in seconds since the Unix epoch; a scripted clock has none of its
    /// own.
    pub fn now(self) -> Result<i64> {
        match self {
            Clock::System => Ok(unix_now()),
            Clock::Scripted => Err(Error::fault(
                "a scripted clock has no time of its own: send `tick` events with their `at`",
            )),
        }
    }

    /// `envelope` with its time as this clock decides, or why it is refused.
    pub fn stamp(self, envelope: &Envelope) -> Result<Envelope> {
        match self {
            Clock::System => {
                if envelope.at.is_some() {
                    return Err(Error::refused(
                        RefusalCode::ClientTime,
                        "an event's time is the platform's: leave `at` out, and the host stamps the event when it arrives",
                    ));
                }
                if envelope.kind() == Some("tick") {
                    return Err(Error::refused(
                        RefusalCode::PlatformOnly,
                        "`tick` is the platform's clock: the host ticks each wallet itself when its rules fall due",
                    ));
                }
                // The platform's ticks and closures take these ids: a caller's event under one
                // would make the platform's fail as a reused id, holding the wallet's time
                // still or its closure off.
                if let Some(prefix) = [TICK_ID_PREFIX, CLOSURE_ID_PREFIX]
                    .into_iter()
                    .find(|prefix| envelope.id.starts_with(prefix))
                {
                    return Err(Error::refused(
                        RefusalCode::PlatformOnly,
                        format!("event ids beginning `{prefix}` are the platform's own; choose another id"),
                    ));
                }
                Ok(Envelope {
                    at: Some(rfc3339(self.now()?)?),
                    ..envelope.clone()
                })
            }
            Clock::Scripted => match envelope.at {
                Some(_) => Ok(envelope.clone()),
                None => Err(Error::refused(
                    RefusalCode::BadEnvelope,
                    "`at` is missing: on a scripted clock every event carries its time",
                )),
            },
        }
    }
}

/// Seconds since the Unix epoch on the host's clock: the system clock's time, and the
/// stores' claim leases (which are not part of any wallet's history).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

/// The offset of China Standard Time from UTC, in seconds: days are its days.
pub(crate) const CST_OFFSET: i64 = 8 * 3600;

/// The day written `YYYY-MM-DD`, as days since 1970-01-01; `None` if it is not one.
pub fn day_number(day: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| day.get(range).filter(|part| part.bytes().all(|b| b.is_ascii_digit()));
    let (Some(year), Some(month), Some(date)) = (number(0..4), number(5..7), number(8..10)) else {
        return None;
    };
    if day.len() != 10 || &day[4..5] != "-" || &day[7..8] != "-" {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, date.parse().ok()?).ok()?;
    // The Julian day of 1970-01-01.
    Some(i64::from(date.to_julian_day()) - 2_440_588)
}
