//! Picking a `127.A.B.0/24` of our own, so labs of parallel tests never meet.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use anyhow::{Result, bail};

/// The ports a lab host uses: sshd, and with hubs the proxy, proxy API, hub and user server.
pub fn ports(hubs: bool) -> &'static [u16] {
    if hubs {
        &[22022, 8000, 8001, 8081, 8888]
    } else {
        &[22022]
    }
}

/// Address of host `i` (1-based) in `subnet`.
pub fn address(subnet: [u8; 3], i: usize) -> Ipv4Addr {
    let i = u8::try_from(i).expect("a lab has at most 254 hosts");
    Ipv4Addr::new(subnet[0], subnet[1], subnet[2], i)
}

/// `fixed` if all its ports are free, else a random free `127.A.B` with A in 100..=199 (127.0.0.x
/// and 127.77.x.x are used by other tools on our machines). Free means we could bind every port
/// of every host; two labs picking the same subnet in the same instant is a 1-in-25 600 chance.
pub fn pick(fixed: Option<[u8; 3]>, hosts: usize, hubs: bool) -> Result<[u8; 3]> {
    if let Some(subnet) = fixed {
        if let Some(busy) = first_busy(subnet, hosts, hubs) {
            bail!("`{busy}` is in use: take the lab there down or pick another subnet");
        }
        return Ok(subnet);
    }
    for _ in 0..50 {
        let random = RandomState::new().build_hasher().finish().to_le_bytes();
        let subnet = [127, 100 + random[0] % 100, random[1]];
        if first_busy(subnet, hosts, hubs).is_none() {
            return Ok(subnet);
        }
    }
    bail!("no free 127.A.B.0/24 subnet found in 50 tries")
}

fn first_busy(subnet: [u8; 3], hosts: usize, hubs: bool) -> Option<SocketAddrV4> {
    (1..=hosts)
        .flat_map(|i| ports(hubs).iter().map(move |&port| (i, port)))
        .map(|(i, port)| SocketAddrV4::new(address(subnet, i), port))
        .find(|&addr| TcpListener::bind(addr).is_err())
}
