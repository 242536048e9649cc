//! How an error reads: `error: …`, one `Caused by:` per source, then `hint:` lines (the shape
//! uv uses), or all of it on one line for a host's row in the recap. A leaf: any stage may use
//! it, and it uses none.

use std::error::Error;

/// The error, its causes and hints, for stderr.
pub fn render(error: &(dyn Error + 'static), hints: &[String]) -> String {
    let mut out = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!("\n  Caused by: {cause}"));
        source = cause.source();
    }
    if !hints.is_empty() {
        out.push('\n');
        for hint in hints {
            out.push_str(&format!("\nhint: {hint}"));
        }
    }
    out
}

/// The error, its causes (each once) and hints on one line.
pub fn one_line(error: &(dyn Error + 'static), hints: &[String]) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    for hint in hints {
        line.push_str(&format!(" (hint: {hint})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot connect to `h1`")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn render_shows_causes_then_hints() {
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            render(&e, &["is sshd running?".to_owned()]),
            "error: cannot connect to `h1`\n  Caused by: connection refused\n\nhint: is sshd running?"
        );
        assert_eq!(
            one_line(&e, &["is sshd running?".to_owned()]),
            "cannot connect to `h1`: connection refused (hint: is sshd running?)"
        );
    }
}
