//! `-e KEY=VALUE`: variables given on the command line, above every layer of the file.
//!
//! The value is read as a TOML value when it is one (`port=2222`, `become=true`,
//! `identity_files=["~/.ssh/a"]`) and as a string otherwise (`user=alice`), so an operator
//! rarely needs to quote.

use super::{InventoryError, RawVars};

/// Parses `-e` arguments into one layer of variables (later arguments win).
pub fn parse_extra_vars(assignments: &[String]) -> Result<RawVars, InventoryError> {
    let mut vars = RawVars::default();
    for arg in assignments {
        let error = |message: String| InventoryError::ExtraVar {
            arg: arg.clone(),
            message,
        };
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| error("expected `KEY=VALUE`".to_owned()))?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(error(format!("`{key}` is not a variable name")));
        }
        let as_toml = format!("{key} = {value}");
        let as_string = format!("{key} = {}", toml::Value::String(value.to_owned()));
        let layer: RawVars = toml::from_str(&as_toml)
            .or_else(|_| toml::from_str(&as_string))
            .map_err(|e| error(e.message().to_owned()))?;
        if let Some((key, _)) = layer.nul() {
            return Err(error(format!("`{key}` {}", super::raw::NUL_PROBLEM)));
        }
        vars.overlay(&layer);
    }
    Ok(vars)
}
