//! The command line's layer of variables, above every layer of the file: `-u USER` and
//! `--private-key FILE`, then each `-e KEY=VALUE` or `-e @FILE` in order (later ones win), as
//! Ansible ranks them (`-e` above all).
//!
//! A `-e` value is read as a TOML value when it is one (`port=2222`, `become=true`,
//! `identity_files=["~/.ssh/a"]`) and as a string otherwise (`user=alice`), so an operator
//! rarely needs to quote. `@FILE` is a TOML file of the same keys as a `[hosts.NAME]` table.

use std::path::Path;

use toml::Spanned;

use super::{InventoryError, RawVars};

/// Parses `-e` arguments into one layer of variables (later arguments win).
pub fn parse_extra_vars(assignments: &[String]) -> Result<RawVars, InventoryError> {
    let mut vars = RawVars::default();
    for arg in assignments {
        let error = |message: String| InventoryError::ExtraVar {
            arg: arg.clone(),
            message,
        };
        if let Some(file) = arg.strip_prefix('@') {
            vars.overlay(&read_vars_file(Path::new(file), &error)?);
            continue;
        }
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| error("expected `KEY=VALUE` or `@FILE`".to_owned()))?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(error(format!("`{key}` is not a variable name")));
        }
        let as_toml = format!("{key} = {value}");
        let as_string = format!("{key} = {}", toml::Value::String(value.to_owned()));
        let layer: RawVars = toml::from_str(&as_toml)
            .or_else(|_| toml::from_str(&as_string))
            .map_err(|e| error(super::did_you_mean::plain_words(e.message())))?;
        if let Some((key, _)) = layer.nul() {
            return Err(error(format!("`{key}` {}", super::raw::NUL_PROBLEM)));
        }
        vars.overlay(&layer);
    }
    Ok(vars)
}

/// `-u USER` and `--private-key FILE` as the variables they override (`user`, `identity_files`);
/// `-e` goes on top of this layer.
pub fn connection_vars(user: Option<&str>, private_keys: &[String]) -> RawVars {
    // Not from a file: no span to point at.
    RawVars {
        user: user.map(|user| Spanned::new(0..0, user.to_owned())),
        identity_files: (!private_keys.is_empty())
            .then(|| Spanned::new(0..0, private_keys.to_vec())),
        ..RawVars::default()
    }
}

/// A `-e @FILE`: the file's variables, refused with `FILE:LINE:COLUMN` for an unknown key, a
/// wrong type or a NUL character.
fn read_vars_file(
    file: &Path,
    error: &dyn Fn(String) -> InventoryError,
) -> Result<RawVars, InventoryError> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| error(format!("cannot read `{}`: {e}", file.display())))?;
    let layer: RawVars = toml::from_str(&source)
        .map_err(|e| InventoryError::syntax(file, &source, e.span(), e.message()))?;
    if let Some((key, span)) = layer.nul() {
        let message = format!("`{key}` {}", super::raw::NUL_PROBLEM);
        return Err(InventoryError::syntax(file, &source, Some(span), &message));
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> String {
        std::fs::write(dir.join(name), text).unwrap();
        format!("@{}", dir.join(name).display())
    }

    #[test]
    fn a_vars_file_is_a_layer_and_later_arguments_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "vars.toml", "user = \"alice\"\nport = 2222\n");
        let vars = parse_extra_vars(&[file.clone(), "port=22".to_owned()]).unwrap();
        let user = vars.user.as_ref().map(|u| u.get_ref().as_str());
        let port = vars.port.as_ref().map(|p| *p.get_ref());
        assert_eq!((user, port), (Some("alice"), Some(22)));
        let vars = parse_extra_vars(&["port=22".to_owned(), file]).unwrap();
        assert_eq!(vars.port.map(|p| *p.get_ref()), Some(2222));
    }

    #[test]
    fn a_bad_vars_file_is_refused_with_its_name_and_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().display().to_string();
        let cases = [
            (
                "unknown.toml",
                "user = \"a\"\ncolour = \"red\"\n",
                "unknown.toml:2:1: unknown key `colour`, expected one of",
            ),
            (
                "type.toml",
                "port = \"ssh\"\n",
                "type.toml:1:8: invalid type: string \"ssh\", expected a port number 1–65535",
            ),
            (
                "nul.toml",
                "user = \"a\\u0000b\"\n",
                "nul.toml:1:8: `user` holds a NUL character",
            ),
            (
                "syntax.toml",
                "user = \n",
                "syntax.toml:1:8: string values must be quoted",
            ),
        ];
        for (name, text, start) in cases {
            let arg = write(dir.path(), name, text);
            let message = parse_extra_vars(&[arg]).unwrap_err().to_string();
            let message = message.replace(&format!("{path}/"), "");
            assert!(message.starts_with(start), "{name}: {message}");
        }
        let missing = format!("@{path}/missing.toml");
        let message = parse_extra_vars(&[missing]).unwrap_err().to_string();
        assert_eq!(
            message.replace(&format!("{path}/"), ""),
            "`-e @missing.toml`: cannot read `missing.toml`: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn connection_flags_set_user_and_keys_and_nothing_else() {
        let vars = connection_vars(Some("bob"), &["~/.ssh/a".to_owned(), "/k/b".to_owned()]);
        assert_eq!(vars.user.map(|u| u.into_inner()), Some("bob".to_owned()));
        assert_eq!(
            vars.identity_files.map(|f| f.into_inner()),
            Some(vec!["~/.ssh/a".to_owned(), "/k/b".to_owned()])
        );
        let none = connection_vars(None, &[]);
        assert!(none.user.is_none() && none.identity_files.is_none() && none.port.is_none());
    }
}
