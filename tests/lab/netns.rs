//! A network namespace of the lab's own (`ip netns`), deleted on drop with whatever still runs in
//! it. Needs root, like `ip netns add`.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::teardown;

/// A named network namespace; its devices (a veth end moved into it) go when it goes.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates namespace `name` with its loopback up. Nothing else: no addresses and no routes,
    /// so nothing in it reaches anything until a veth is added.
    pub fn create(name: &str) -> Result<Netns> {
        ip(&format!("netns add {name}")).context("network namespaces need root")?;
        // From here on drop deletes it, also if the next command fails.
        let netns = Netns {
            name: name.to_owned(),
        };
        netns.ip("link set lo up")?;
        Ok(netns)
    }

    /// The namespace's name, for `ip netns exec NAME` and `ip … netns NAME`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NAME ARGS`: an `ip` command inside the namespace.
    pub fn ip(&self, args: &str) -> Result<()> {
        ip(&format!("-n {} {args}", self.name))
    }

    /// The processes running in the namespace (`ip netns pids`).
    pub fn pids(&self) -> Vec<u32> {
        Command::new("ip")
            .args(["netns", "pids", &self.name])
            .stderr(Stdio::null())
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|pid| pid.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Whatever is left in the namespace is ours (an sshd's session processes, say): the
        // namespace itself only disappears, with its veth ends, once nothing runs in it.
        teardown::stop_pids(&self.pids());
        // Errors cannot leave `drop`; a namespace we fail to delete shows in `ip netns list`.
        let _ = ip(&format!("netns delete {}", self.name));
    }
}

/// Runs `ip ARGS`; its stderr is the error. `args` is split at spaces: every name and address
/// the lab passes is generated and holds none.
pub fn ip(args: &str) -> Result<()> {
    ip_output(args).map(drop)
}

/// The output of `ip ARGS` (split at spaces, as for [`ip`]); its stderr is the error.
pub fn ip_output(args: &str) -> Result<String> {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .context("running `ip` (package iproute2)")?;
    if !out.status.success() {
        bail!(
            "`ip {args}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
