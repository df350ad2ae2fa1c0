//! How the host spells things for people: the API's words for statuses and roles, and
//! text from a journal made safe to print.

use prepaid_contract::money::Amount;
use serde::Serialize;

use crate::error::Result;

/// `amount` (canonical yuan, as the journal and the outbox write it) in fen: the inverse
/// of [`yuan`].
pub fn fen(amount: &str) -> Result<u64> {
    Amount::parse(amount)
        .map(Amount::fen)
        .map_err(|error| anyhow::anyhow!("amount {amount:?}: {error:?}").into())
}

/// `fen` as yuan with two places, the way every figure the host reports is written.
pub fn yuan(fen: impl Into<i128>) -> String {
    let fen: i128 = fen.into();
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// A status, decision or role as the API spells it (`pending`, `suspend`, `merchant`):
/// the serde name of a unit variant.
pub fn word(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether `c` is a control character, or an invisible one that reorders or hides what a
/// terminal or a page shows: the format and separator characters (Unicode Cf, Zl, Zp) soft
/// hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and direction marks,
/// line and paragraph separators, bidi embeddings and isolates, invisible operators, the
/// byte order mark, interlinear annotation, tags.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// `text` with its hidden characters ([`is_hidden`]) escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| match is_hidden(c) {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
}
