//! A bastion and a host reachable only through it, for jump-host tests (issue 3).
//!
//! Each of the two is a lab sshd in a network namespace of its own, wired by veth pairs:
//!
//! ```text
//!  root namespace                 hf-ID-bastion                   hf-ID-target
//!  controller, hubfleet           sshd N+2:22022                  sshd N+6:22022
//! +----------------------+      +--------------------------+     +--------------------+
//! | hf-ID      N+1/30  ==|======|== to-root    N+2/30      |     |                    |
//! | unreachable N/29     |      |   to-target  N+5/30    ==|=====|== to-bastion N+6/30|
//! +----------------------+      +--------------------------+     +--------------------+
//!                                 N = 198.51.100.(8k), a block of 8 claimed per JumpNet
//! ```
//!
//! The controller reaches the bastion over the first veth. The target's address is on no link
//! of the root namespace, so a direct connection meets the block's `unreachable` route and fails
//! at once with "no route to host"; that route is also the safety net that keeps such packets
//! from following the default route off the machine. The bastion's sshd shares a link with the
//! target and opens the connection to it (the `direct-tcpip` channel of a jump). Neither
//! namespace has a route beyond its own links, so nothing in them reaches anything else.
//!
//! The addresses are TEST-NET-2 (198.51.100.0/24, RFC 5737, never routed on the internet; this
//! machine's own network uses TEST-NET-1), in blocks of 8 claimed under a file lock so that
//! parallel tests never share one. Drop stops both sshds by pid, deletes the namespaces (with
//! their veths) and the route, also when the test failed. Needs root, like `ip netns`.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::marker::PhantomData;
use std::net::Ipv4Addr;

use anyhow::{Context, Result, bail};

use super::cache::Cache;
use super::handle::Lab;
use super::host::LabHost;
use super::netns::{Netns, ip, ip_output};
use super::sshd::{self, Sshd};
use super::teardown;

/// A bastion and a target behind it; see the module doc. Borrows the [`Lab`] (its controller
/// key and directory) so that it is dropped first.
#[derive(Debug)]
pub struct JumpNet<'lab> {
    /// `[bastion, target]`; `LabHost::sshd` indexes `sshds`.
    hosts: Vec<LabHost>,
    sshds: Vec<Sshd>,
    root_veth: Option<String>,
    // Dropped in this order after `Drop::drop` has stopped the sshds: the namespaces, then the
    // route that kept their addresses from leaving the machine.
    namespaces: Vec<Netns>,
    block: Option<Block>,
    lab: PhantomData<&'lab Lab>,
}

const BASTION: usize = 0;
const TARGET: usize = 1;

impl<'lab> JumpNet<'lab> {
    /// Creates the namespaces and starts both sshds, which accept the lab's controller key.
    pub fn start(lab: &'lab Lab) -> Result<JumpNet<'lab>> {
        let cache = Cache::locate(None)?;
        let mut net = JumpNet {
            hosts: Vec::new(),
            sshds: Vec::new(),
            root_veth: None,
            namespaces: Vec::new(),
            block: None,
            lab: PhantomData,
        };
        // From here on an early return drops `net`, which undoes whatever was done.
        let block = Block::claim()?;
        let addr = |offset| block.address(offset);
        let (root_end, bastion, bastion_inner, target) = (addr(1), addr(2), addr(5), addr(6));
        net.block = Some(block);

        let id = format!(
            "{:06x}",
            RandomState::new().build_hasher().finish() & 0xff_ffff
        );
        net.namespaces
            .push(Netns::create(&format!("hf-{id}-bastion"))?);
        net.namespaces
            .push(Netns::create(&format!("hf-{id}-target"))?);
        let (bastion_ns, target_ns) = (&net.namespaces[BASTION], &net.namespaces[TARGET]);

        let root_veth = format!("hf-{id}");
        let (bastion_netns, target_netns) = (bastion_ns.name(), target_ns.name());
        ip(&format!(
            "link add {root_veth} type veth peer name to-root netns {bastion_netns}"
        ))?;
        net.root_veth = Some(root_veth.clone());
        ip(&format!("addr add {root_end}/30 dev {root_veth}"))?;
        ip(&format!("link set {root_veth} up"))?;
        bastion_ns.ip(&format!("addr add {bastion}/30 dev to-root"))?;
        bastion_ns.ip("link set to-root up")?;

        bastion_ns.ip(&format!(
            "link add to-target type veth peer name to-bastion netns {target_netns}"
        ))?;
        bastion_ns.ip(&format!("addr add {bastion_inner}/30 dev to-target"))?;
        bastion_ns.ip("link set to-target up")?;
        target_ns.ip(&format!("addr add {target}/30 dev to-bastion"))?;
        target_ns.ip("link set to-bastion up")?;

        let hosts = [("bastion", bastion), ("target", target)];
        let namespaces: Vec<String> = net.namespaces.iter().map(|n| n.name().into()).collect();
        for (i, (name, address)) in hosts.into_iter().enumerate() {
            let dir = lab.dir().join("jump").join(name);
            let sshd = Sshd::create(
                &cache.sshd,
                &dir.join("sshd"),
                &[address],
                &lab.authorized_keys(),
            )?
            .in_netns(&namespaces[i]);
            if i == BASTION {
                sshd.add_config(
                    "# A bastion's whole job is the direct-tcpip channel (OpenSSH's defaults).\n\
                     AllowTcpForwarding yes\n\
                     PermitOpen any\n",
                )?;
            }
            // Recorded in the lab too, so `examples/lab.rs down` finds a leaked one.
            teardown::record(lab.dir(), &[sshd.tracked()])?;
            net.sshds.push(sshd.clone());
            sshd.launch()?;
            net.hosts.push(LabHost {
                name: name.to_owned(),
                address,
                port: sshd::PORT,
                known_hosts_line: format!("[{address}]:{} {}", sshd::PORT, sshd.public_key()?),
                hub_dir: dir.join("hub"),
                hub_env: dir.join("hub/env"),
                dir,
                sshd: i,
            });
        }
        for sshd in &net.sshds {
            sshd.wait_listening()?;
        }
        Ok(net)
    }

    /// The bastion, `198.51.100.N+2`: reachable from the controller.
    pub fn bastion(&self) -> &LabHost {
        &self.hosts[BASTION]
    }

    /// The target, `198.51.100.N+6`: reachable only from the bastion.
    pub fn target(&self) -> &LabHost {
        &self.hosts[TARGET]
    }

    /// The bastion's address on the target's link: the client address the target sees.
    pub fn bastion_inner_address(&self) -> Ipv4Addr {
        self.block.as_ref().expect("claimed in start").address(5)
    }

    /// `host`'s known_hosts line with the key it serves now (after [`JumpNet::change_host_key`],
    /// the new one; `LabHost::known_hosts_line` keeps the first).
    pub fn known_hosts_line(&self, host: &LabHost) -> Result<String> {
        let key = self.sshds[host.sshd].public_key()?;
        Ok(format!("[{}]:{} {key}", host.address, host.port))
    }

    /// Gives `host` (the bastion or the target) a new host key and restarts its sshd.
    pub fn change_host_key(&self, host: &LabHost) -> Result<()> {
        self.sshds[host.sshd].rekey()
    }

    /// Stops `host`'s sshd (SIGTERM, by pid): new connections to it are refused.
    pub fn stop_sshd(&self, host: &LabHost) {
        self.sshds[host.sshd].stop();
    }

    /// What this JumpNet created in the root namespace's view, to check that none of it is left
    /// after drop.
    pub fn names(&self) -> NetNames {
        NetNames {
            namespaces: self.namespaces.iter().map(|n| n.name().into()).collect(),
            veth: self.root_veth.clone().unwrap_or_default(),
            route: self.block.as_ref().map(Block::cidr).unwrap_or_default(),
        }
    }
}

/// See [`JumpNet::names`].
#[derive(Debug, Clone)]
pub struct NetNames {
    /// `hf-ID-bastion`, `hf-ID-target`.
    pub namespaces: Vec<String>,
    /// The root namespace's end of the veth to the bastion, `hf-ID`.
    pub veth: String,
    /// The block of the `unreachable` route, `198.51.100.N/29`.
    pub route: String,
}

impl Drop for JumpNet<'_> {
    fn drop(&mut self) {
        let pids: Vec<u32> = self
            .sshds
            .iter()
            .filter_map(|s| s.tracked().live_pid())
            .collect();
        teardown::stop_pids(&pids);
        // Deleting one end deletes the pair; the namespaces and the route go with the fields.
        if let Some(veth) = self.root_veth.take() {
            let _ = ip(&format!("link delete {veth}"));
        }
    }
}

/// The block `198.51.100.N/29` of one [`JumpNet`], claimed by its `unreachable` route in the
/// root namespace; drop deletes the route.
#[derive(Debug)]
struct Block {
    base: u8,
}

/// Held while picking a block, so two tests never pick the same free one.
const LOCK: &str = "/tmp/hubfleet-lab-jumpnet.lock";
const NET: [u8; 3] = [198, 51, 100];

impl Block {
    /// The first block no address or route of the root namespace mentions, claimed by adding
    /// its `unreachable` route (which the next claimant then sees).
    fn claim() -> Result<Block> {
        let lock = File::create(LOCK).with_context(|| format!("creating `{LOCK}`"))?;
        lock.lock().with_context(|| format!("locking `{LOCK}`"))?;
        let prefix = format!("{}.{}.{}.", NET[0], NET[1], NET[2]);
        let mut used = [false; 32];
        let seen = ip_output("-4 route show table all")? + &ip_output("-4 -o addr")?;
        for word in seen.split_whitespace() {
            if let Some(host) = word.strip_prefix(&prefix)
                && let Ok(octet) = host.split('/').next().unwrap_or("").parse::<u8>()
            {
                used[usize::from(octet / 8)] = true;
            }
        }
        let Some(free) = used.iter().position(|u| !u) else {
            bail!(
                "all 32 blocks of {prefix}0/24 are in use: delete leftover `hf-*` namespaces and \
                 `unreachable {prefix}*` routes (`ip netns list`, `ip route`)"
            );
        };
        let block = Block {
            base: u8::try_from(free * 8).expect("32 blocks of 8"),
        };
        ip(&format!("route add unreachable {}", block.cidr()))?;
        Ok(block)
    }

    fn address(&self, offset: u8) -> Ipv4Addr {
        Ipv4Addr::new(NET[0], NET[1], NET[2], self.base + offset)
    }

    fn cidr(&self) -> String {
        format!("{}/29", self.address(0))
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        let _ = ip(&format!("route delete unreachable {}", self.cidr()));
    }
}
