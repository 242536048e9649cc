//! Step `swap`: with the hub stopped, the env readied by `stage` takes the hub env's place in one
//! atomic exchange of directories, and the env as it was is kept beside it (`swap_env.py`).

use serde::Deserialize;

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;

const SWAP_SCRIPT: &str = include_str!("swap_env.py");

#[derive(Deserialize)]
struct Swapped {
    previous: String,
}

/// The swap, as the plan and the progress line say it.
pub fn swap_description(env: &str, next: &str, previous: &str) -> String {
    // Plain ASCII: an arrow like ⇄ has an ambiguous width, and the progress bars would miscount it.
    format!("exchange {env} with {next}; the env as it was is kept at {previous}")
}

/// Puts the env at `next` in place of `env`; returns where the replaced env is kept.
pub async fn swap_env(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    env: &str,
    next: &str,
    previous: &str,
) -> Result<String, StepFailure> {
    events.step("swap", swap_description(env, next, previous));
    let args = serde_json::json!({ "env": env, "next": next, "previous": previous });
    let swapped: Swapped = super::run_script("swap", host, session, SWAP_SCRIPT, &args).await?;
    Ok(swapped.previous)
}
