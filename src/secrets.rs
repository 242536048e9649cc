//! Masking secrets in text bound for any output: the terminal, per-host logs, the JSON report and
//! a backup's manifest. A hub's `db_url` may carry its database password, in the URL's userinfo
//! (`postgresql://hub:PASSWORD@db/jupyterhub`) or in its query (`?password=…`,
//! `?sslpassword=…`), and a remote error message may quote the whole URL.
//!
//! Every event passes through [`mask`] on its way out of a host's task (`HostEvents`), as do the
//! outcome's reason and the facts, so no step has to remember to.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a secret is replaced by: SQLAlchemy's own mask (`render_as_string(hide_password=True)`).
pub const MASK: &str = "***";

/// The password of a URL's userinfo: `scheme://user:PASSWORD@`.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)@")
        .expect("a valid pattern")
});

/// A `key=value` whose key names a secret, as in a URL's query (`?password=…&sslpassword=…`)
/// or a libpq connection string (`password=…`).
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?P<key>\b[a-z_\-]*(?:pass|pwd|secret|token)[a-z_\-]*=)(?P<secret>[^\s&;,'\x22)]+)",
    )
    .expect("a valid pattern")
});

/// `text` with every secret it holds replaced by [`MASK`]; borrowed when there is none.
pub fn mask(text: &str) -> Cow<'_, str> {
    if !USERINFO.is_match(text) && !KEY_VALUE.is_match(text) {
        return Cow::Borrowed(text);
    }
    let userinfo =
        USERINFO.replace_all(text, |c: &regex::Captures| format!("{}{MASK}@", &c["head"]));
    let masked = KEY_VALUE
        .replace_all(&userinfo, |c: &regex::Captures| {
            format!("{}{MASK}", &c["key"])
        })
        .into_owned();
    if masked == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(masked)
    }
}

/// [`mask`] in place.
pub fn mask_in_place(text: &mut String) {
    if let Cow::Owned(masked) = mask(text) {
        *text = masked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_masked_wherever_the_url_is_quoted() {
        assert_eq!(
            mask("postgresql://hub:s3cr%40t@db.example:5432/jupyterhub"),
            "postgresql://hub:***@db.example:5432/jupyterhub"
        );
        assert_eq!(
            mask("Could not parse SQLAlchemy URL from string 'postgresql-psycopg2://u:pw@h/db'"),
            "Could not parse SQLAlchemy URL from string 'postgresql-psycopg2://u:***@h/db'"
        );
        assert_eq!(
            mask("mysql+pymysql://root:hunter2@127.0.0.1/hub and mysql://a:b@c/d"),
            "mysql+pymysql://root:***@127.0.0.1/hub and mysql://a:***@c/d"
        );
    }

    #[test]
    fn secrets_in_a_query_or_a_connection_string_are_masked() {
        assert_eq!(
            mask("postgresql://u@h/db?sslmode=require&password=s3cret&sslpassword=kk"),
            "postgresql://u@h/db?sslmode=require&password=***&sslpassword=***"
        );
        assert_eq!(
            mask("connection to server failed: host=db password=p4ss dbname=hub"),
            "connection to server failed: host=db password=*** dbname=hub"
        );
        assert_eq!(mask("X_API_TOKEN=abc123"), "X_API_TOKEN=***");
    }

    #[test]
    fn text_without_a_secret_is_left_alone_and_borrowed() {
        for text in [
            "sqlite:////srv/jupyterhub/jupyterhub.sqlite",
            "http://127.0.0.1:8000/hub/api",
            "postgresql://hub:***@db/jupyterhub",
            "ssh://root@127.0.0.1:22022",
            "12 users, 3 api_tokens, key fingerprint SHA256:abc",
        ] {
            assert!(matches!(mask(text), Cow::Borrowed(_)), "{text}");
        }
    }
}
