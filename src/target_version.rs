//! `--to`: the JupyterHub release an upgrade aims at, a PEP 440 public version or `latest`,
//! checked before the inventory is read or any host is contacted (issue 14: `--to notaversion`
//! used to be sent to every host and fail there).
//!
//! The version must also be written in its normalized form (`5.0.0b1`, not `v5.0.0-beta.1`):
//! hubfleet compares it, as text, with the version each hub reports (JupyterHub's own
//! `__version__` and pip's metadata are normalized), to tell a hub already at the target and to
//! confirm the upgraded hub. A spelling that pip would accept but that would never compare equal
//! is refused with the normalized form to use instead.
//!
//! The grammar is the permissive one of the specification's appendix
//! (<https://packaging.python.org/en/latest/specifications/version-specifiers/#appendix-parsing-version-strings-with-regular-expressions>),
//! and the normalization is the specification's "Normalization" section, as `packaging` does it.
//! A crate would bring comparison and specifiers we do not need; this is one regex.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// What `--to` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetVersion {
    /// The newest release the host's index offers.
    Latest,
    /// This release, in its normalized spelling.
    Exact(String),
}

/// Why a `--to` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Not a version at all.
    #[error("`--to {0}` is not a PEP 440 version or `latest`")]
    NotAVersion(String),
    /// A version, but not spelt as the hubs report it.
    #[error("`--to {given}` is not written as JupyterHub reports its version")]
    NotNormalized {
        /// As given.
        given: String,
        /// The normalized spelling.
        normalized: String,
    },
    /// A local version (`+label`), which no public index publishes.
    #[error("`--to {0}` is a local version (`+…`), not a released one")]
    Local(String),
}

impl VersionError {
    /// Lines telling the operator what to do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Self::NotAVersion(_) | Self::Local(_) => vec![
                "give a JupyterHub release as PyPI lists it (`--to 5.2.1`, `--to 5.3.0b1`) or `--to latest`"
                    .to_owned(),
            ],
            Self::NotNormalized { normalized, .. } => vec![format!(
                "use `--to {normalized}`: hubfleet compares it with the version each hub reports"
            )],
        }
    }
}

impl TargetVersion {
    /// Parses a `--to` value.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if text == "latest" {
            return Ok(Self::Latest);
        }
        let normalized = if text.eq_ignore_ascii_case("latest") {
            "latest".to_owned()
        } else {
            normalize(text)?
        };
        if normalized == text {
            Ok(Self::Exact(normalized))
        } else {
            Err(VersionError::NotNormalized {
                given: text.to_owned(),
                normalized,
            })
        }
    }

    /// The value as the job and the hosts' installers take it: `latest` or the version.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Latest => "latest",
            Self::Exact(version) => version,
        }
    }
}

impl fmt::Display for TargetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The specification's pattern, lowercase only (the text is lowercased first).
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^
        v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
        (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
        (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
        (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        $",
    )
    .expect("the PEP 440 pattern compiles")
});

/// The normalized spelling of a PEP 440 public version.
fn normalize(text: &str) -> Result<String, VersionError> {
    let lower = text.to_ascii_lowercase();
    let captures = PATTERN
        .captures(&lower)
        .ok_or_else(|| VersionError::NotAVersion(text.to_owned()))?;
    if captures.name("local").is_some() {
        return Err(VersionError::Local(text.to_owned()));
    }
    let group = |name| captures.name(name).map(|m| m.as_str());
    let mut out = String::new();
    if let Some(epoch) = group("epoch").map(number)
        && epoch != "0"
    {
        out.push_str(&format!("{epoch}!"));
    }
    let release: Vec<&str> = group("release")
        .unwrap_or("0")
        .split('.')
        .map(number)
        .collect();
    out.push_str(&release.join("."));
    if let Some(label) = group("pre_l") {
        let label = match label {
            "alpha" | "a" => "a",
            "beta" | "b" => "b",
            _ => "rc",
        };
        out.push_str(&format!("{label}{}", group("pre_n").map_or("0", number)));
    }
    if let Some(post) =
        group("post_n1").or(group("post_l").map(|_| group("post_n2").unwrap_or("0")))
    {
        out.push_str(&format!(".post{}", number(post)));
    }
    if group("dev_l").is_some() {
        out.push_str(&format!(".dev{}", group("dev_n").map_or("0", number)));
    }
    Ok(out)
}

/// A run of digits without its leading zeros (`007` → `7`, `00` → `0`), kept as text so that no
/// length overflows.
fn number(digits: &str) -> &str {
    match digits.trim_start_matches('0') {
        "" => "0",
        rest => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_versions_and_latest_are_taken_as_given() {
        let cases = [
            "4.1.6",
            "5",
            "5.0",
            "5.0.0b1",
            "5.0.0a0",
            "5.0.0rc12",
            "4.1.6.post1",
            "5.1.0.dev3",
            "1!2.0",
            "5.0.0a1.post2.dev3",
            "2026.12.7",
            "0.0.0",
        ];
        for text in cases {
            assert_eq!(
                TargetVersion::parse(text),
                Ok(TargetVersion::Exact(text.to_owned())),
                "{text}"
            );
        }
        assert_eq!(TargetVersion::parse("latest"), Ok(TargetVersion::Latest));
    }

    #[test]
    fn other_spellings_are_refused_with_the_normalized_one() {
        let cases = [
            ("v4.1.6", "4.1.6"),
            ("V4.1.6", "4.1.6"),
            ("4.01.06", "4.1.6"),
            ("5.0.0-beta.1", "5.0.0b1"),
            ("5.0.0RC1", "5.0.0rc1"),
            ("5.0.0c1", "5.0.0rc1"),
            ("5.0.0pre1", "5.0.0rc1"),
            ("5.0.0preview", "5.0.0rc0"),
            ("5.0.0alpha", "5.0.0a0"),
            ("5.0-1", "5.0.post1"),
            ("5.0post", "5.0.post0"),
            ("5.0.rev2", "5.0.post2"),
            ("5.0-r2", "5.0.post2"),
            ("5.0dev", "5.0.dev0"),
            ("5.0_dev_7", "5.0.dev7"),
            ("0!4.1", "4.1"),
            ("01!4.1", "1!4.1"),
            ("LATEST", "latest"),
            ("99999999999999999999999.0", "99999999999999999999999.0"),
        ];
        for (given, normalized) in cases {
            let expected = if given == normalized {
                Ok(TargetVersion::Exact(normalized.to_owned()))
            } else {
                Err(VersionError::NotNormalized {
                    given: given.to_owned(),
                    normalized: normalized.to_owned(),
                })
            };
            assert_eq!(TargetVersion::parse(given), expected, "{given}");
        }
    }

    #[test]
    fn what_is_not_a_public_version_is_refused() {
        let not_versions = [
            "",
            "notaversion",
            "4..1",
            "4.1.",
            ".4.1",
            "4.1.6-",
            "==4.1.6",
            "4.1.*",
            "4.1.6 ",
            " 4.1.6",
            "4.1.6b1b2",
            "4.1.6.post1.post2",
            "vv4",
            "4.1.6dev1dev2",
            "jupyterhub",
            "4,1",
            "-1",
        ];
        for text in not_versions {
            assert_eq!(
                TargetVersion::parse(text),
                Err(VersionError::NotAVersion(text.to_owned())),
                "{text:?}"
            );
        }
        for text in ["4.1.6+cern", "4.1.6+ubuntu.1", "4.1.6+LOCAL-2"] {
            assert_eq!(
                TargetVersion::parse(text),
                Err(VersionError::Local(text.to_owned())),
                "{text}"
            );
        }
    }
}
