//! Step `facts`: one round trip that runs `gather.py` with the hub's own Python.

use super::script::{hub_python, run_script};
use crate::facts::HostFacts;
use crate::host_scripts::{GatherArgs, HubEnvironmentArgs};
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;

/// Gathers the facts of `host`. Fails only when the hub's Python cannot run the script at all;
/// anything the script could not read is in [`HostFacts::problems`].
pub async fn gather_facts(
    host: &Host,
    session: &Session,
    events: &HostEvents,
) -> Result<HostFacts, StepFailure> {
    events.step("facts", "versions, database, environment");
    events.command(
        "facts",
        format!(
            "{} -c <gather.py> (config {})",
            hub_python(host),
            host.hub.config
        ),
    );
    let args = GatherArgs {
        hub: HubEnvironmentArgs::of(host),
        health_url: &host.hub.health_url,
        singleuser_env: host.hub.singleuser_env.as_deref(),
        config_timeout: host.hub.config_timeout.as_secs(),
    };
    let mut facts: HostFacts = run_script("facts", host, session, None, &args).await?;
    facts.mask_secrets();
    Ok(facts)
}
