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

/// Whether `c` is a control character, or an invisible one that reorders, hides or blanks
/// what a terminal or a page shows: the format characters (Unicode Cf: soft hyphen, the
/// Arabic, Syriac and other number and abbreviation marks, zero-width and direction marks,
/// bidi embeddings and isolates, invisible operators, the byte order mark, interlinear
/// annotation, tags, shorthand and musical format controls), the line and paragraph
/// separators, and the other default-ignorable characters that show as nothing
/// (combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation
/// selectors, variation selectors) or as a blank (the Braille blank).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1345F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E007F}'
                | '\u{E0100}'..='\u{E01EF}'
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
