//! Asking before hubs stop: in a terminal, a command that stops hubs shows the one line that
//! says what it will do and waits for `y` (pyinfra 3 asks the same way). `--yes` skips it, and
//! nobody is asked when stdin is not a terminal (a script, a pipe, CI).

use std::io::{BufRead, IsTerminal, Write};

use crate::error::FatalError;

/// Asks whether to go ahead with `summary`, unless `yes` or stdin is not a terminal.
pub(super) fn confirm(command: &str, summary: &str, yes: bool) -> Result<(), FatalError> {
    if yes || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let stdin = std::io::stdin();
    let agreed = ask(summary, &mut stdin.lock(), &mut std::io::stderr().lock());
    if agreed {
        Ok(())
    } else {
        Err(FatalError::NotConfirmed {
            command: command.to_owned(),
        })
    }
}

/// Writes `summary` and the question to `out`, reads one answer from `input`: `y` or `yes`
/// (any case) goes ahead; anything else, an empty line or the end of input does not.
fn ask(summary: &str, input: &mut impl BufRead, out: &mut impl Write) -> bool {
    let _ = write!(out, "{summary}\nContinue? [y/N] ");
    let _ = out.flush();
    let mut answer = String::new();
    if input.read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `a, b, c` for a few names, `a, b, c and 7 more` for many: the line must stay one line.
pub(super) fn some_names<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 4;
    let total = names.len();
    let shown: Vec<&str> = names.take(SHOWN).collect();
    match total.saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_goes_ahead() {
        let cases = [
            ("y\n", true),
            ("YES\n", true),
            (" yes \n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("yep\n", false),
        ];
        for (answer, agreed) in cases {
            let mut out = Vec::new();
            let got = ask("upgrade 2 hubs", &mut answer.as_bytes(), &mut out);
            assert_eq!(got, agreed, "{answer:?}");
            let shown = String::from_utf8(out).unwrap();
            assert_eq!(shown, "upgrade 2 hubs\nContinue? [y/N] ");
        }
    }

    #[test]
    fn many_names_are_counted() {
        let names = ["h1", "h2", "h3", "h4", "h5", "h6"];
        assert_eq!(some_names(names[..2].iter().copied()), "h1, h2");
        assert_eq!(
            some_names(names.iter().copied()),
            "h1, h2, h3, h4 and 2 more"
        );
    }
}
