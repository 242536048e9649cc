//! A tiny HTTP/1.0 GET over `TcpStream`: enough to poll `/hub/api` without an HTTP client crate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// `GET path` on `addr`; the body if the status is 200.
pub fn get(addr: SocketAddr, path: &str) -> Result<String> {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("an HTTP response without a header end")?;
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        bail!("`GET http://{addr}{path}` answered {status}");
    }
    Ok(body.to_owned())
}

/// The `version` that JupyterHub's `GET /hub/api` reports.
pub fn hub_version(addr: SocketAddr) -> Result<String> {
    let body = get(addr, "/hub/api")?;
    let json: serde_json::Value = serde_json::from_str(&body)?;
    json["version"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("`/hub/api` answered without a version: {body}"))
}
