//! "did you mean": the known name closest to a misspelt one, and serde's words made plain.
//!
//! Similarity is strsim's Jaro distance with clap's threshold (0.7, clap `parser/features/
//! suggestions.rs`), so a typo in an inventory reads like a typo in a flag.

use std::fmt;

/// The candidate most like `name`, if it is likely a typo of it; empty otherwise. Its `Display`
/// is `; did you mean `NAME`?` or nothing, to end a message with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DidYouMean(Option<String>);

impl DidYouMean {
    /// The closest of `candidates` to `name` (never `name` itself).
    pub fn new<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Self {
        let best = candidates
            .into_iter()
            .filter(|c| *c != name)
            .map(|c| (strsim::jaro(name, c), c))
            .filter(|(similarity, _)| *similarity > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        Self(best.map(|(_, c)| c.to_owned()))
    }

    /// The suggested name.
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(name) => write!(f, "; did you mean `{name}`?"),
            None => Ok(()),
        }
    }
}

/// serde's message for a value of the inventory, in the operator's words: no Rust type names
/// (`u16`, `u64`), "key" for "field", and a "did you mean" for an unknown key.
pub fn plain_words(message: &str) -> String {
    let message = message
        .replace("expected u16", "expected a port number 1–65535")
        .replace("expected u64", "expected a number of seconds");
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return message;
    };
    // The known keys are the backticked names after "expected".
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let suggestion = DidYouMean::new(key, known.iter().copied());
    if suggestion.name().is_some() {
        format!("unknown key `{key}`{suggestion}")
    } else {
        format!("unknown key `{key}`{expected}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_plain_words() {
        let cases = [
            (
                "unknown field `adress`, expected one of `address`, `port`, `user`",
                "unknown key `adress`; did you mean `address`?",
            ),
            (
                "unknown field `colour`, expected `address` or `port`",
                "unknown key `colour`, expected `address` or `port`",
            ),
            (
                "invalid value: integer `70000`, expected u16",
                "invalid value: integer `70000`, expected a port number 1–65535",
            ),
            (
                "invalid value: integer `-1`, expected u64",
                "invalid value: integer `-1`, expected a number of seconds",
            ),
        ];
        for (serde, plain) in cases {
            assert_eq!(plain_words(serde), plain);
        }
        assert_eq!(
            DidYouMean::new("hub-pari", ["hub-paris", "hub-berlin"]).to_string(),
            "; did you mean `hub-paris`?"
        );
        assert_eq!(DidYouMean::new("b", ["a"]).to_string(), "");
    }
}
