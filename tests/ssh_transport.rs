//! The SSH transport against a real OpenSSH sshd on a private loopback address.
//!
//! Each test starts its own sshd from the lab harness (`tests/lab/sshd.rs`: its own config, host
//! key, pid file and log, on a free `127.A.B.1` of `tests/lab/subnet.rs`), with its own client
//! keys, authorized keys and known_hosts in a temporary directory; nothing in `/etc/ssh` or
//! `~/.ssh` is used. Without `/usr/sbin/sshd` the tests print a note and pass (CI installs
//! openssh-server).

#[path = "lab/mod.rs"]
mod lab;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hubfleet::ssh::{
    Credentials, ExitStatus, HostKeyPolicy, PassphrasePrompt, RemoteCommand, Session, SshError,
    SshFailure, SshTarget,
};
use lab::sshd::PORT;
use tokio::io::AsyncReadExt;

const SSHD: &str = "/usr/sbin/sshd";
const PASSPHRASE: &str = "correct horse";

/// A private sshd of the lab harness and the client-side files to reach it.
struct Sshd {
    dir: tempfile::TempDir,
    address: String,
    server: lab::sshd::Sshd,
}

impl Sshd {
    /// Starts sshd on a free 127.A.B.1:22022 with extra sshd_config lines, or `None` (with a
    /// note) when sshd is not installed.
    fn start_with(extra_config: &str) -> Result<Option<Sshd>> {
        if !Path::new(SSHD).exists() {
            #[expect(
                clippy::print_stderr,
                reason = "the one note that the test was skipped"
            )]
            {
                eprintln!("note: {SSHD} is missing; skipping the sshd integration test");
            }
            return Ok(None);
        }
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        keygen(&d.join("id_ed25519"), "ed25519", "")?;
        keygen(&d.join("id_rsa"), "rsa", "")?;
        keygen(&d.join("id_ecdsa"), "ecdsa", "")?;
        keygen(&d.join("id_locked"), "ed25519", PASSPHRASE)?;
        keygen(&d.join("id_stranger"), "ed25519", "")?;
        let mut authorized = String::new();
        for key in ["id_ed25519", "id_rsa", "id_ecdsa", "id_locked"] {
            authorized += &std::fs::read_to_string(d.join(format!("{key}.pub")))?;
        }
        std::fs::write(d.join("authorized_keys"), authorized)?;
        std::fs::create_dir_all("/run/sshd")?;

        let address = free_address()?;
        let server = lab::sshd::Sshd::create(
            Path::new(SSHD),
            &d.join("sshd"),
            &[address.parse()?],
            &d.join("authorized_keys"),
        )?;
        server.add_config(&format!("{extra_config}\n"))?;
        // Stopped on drop from here on, even if it does not come up.
        let sshd = Sshd {
            dir,
            address,
            server,
        };
        sshd.server.start()?;
        Ok(Some(sshd))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The host key's public file.
    fn host_key(&self) -> PathBuf {
        self.path("sshd/ssh_host_ed25519_key.pub")
    }

    /// The host key line as known_hosts wants it.
    fn known_hosts_line(&self) -> String {
        let key = self.server.public_key().unwrap();
        format!("[{}]:{PORT} {key}\n", self.address)
    }

    /// `SHA256:…` of the host key, as `ssh-keygen -lf` prints it.
    fn host_fingerprint(&self) -> String {
        fingerprint(&self.host_key())
    }

    /// A target with a known_hosts that already trusts the host and the plain ed25519 key.
    fn target(&self) -> SshTarget {
        let known_hosts = self.path("known_hosts");
        if !known_hosts.exists() {
            std::fs::write(&known_hosts, self.known_hosts_line()).unwrap();
        }
        SshTarget {
            name: "hub1".to_owned(),
            address: self.address.clone(),
            port: PORT,
            user: whoami(),
            identity_files: vec![self.path("id_ed25519")],
            known_hosts,
            more_known_hosts: vec![],
            host_key_policy: HostKeyPolicy::Strict,
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(5),
            jump: None,
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // By its pid file; per-connection sshd processes end with their connections.
        self.server.stop();
    }
}

fn keygen(path: &Path, kind: &str, passphrase: &str) -> Result<()> {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", passphrase, "-C", kind, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "ssh-keygen -t {kind} failed");
    Ok(())
}

fn fingerprint(public_key: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public_key)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A loopback address where port 22022 is free, in a subnet of its own (the lab's pick).
fn free_address() -> Result<String> {
    let subnet = lab::subnet::pick(None, 1, false)?;
    Ok(lab::subnet::address(subnet, 1).to_string())
}

fn no_prompt() -> PassphrasePrompt {
    Arc::new(|_: &Path| None)
}

fn credentials() -> Credentials {
    // Never the operator's agent: the tests must authenticate with their own files only.
    Credentials::with_agent_socket(no_prompt(), None)
}

macro_rules! sshd_or_skip {
    ($extra:expr) => {
        match Sshd::start_with($extra)? {
            Some(sshd) => sshd,
            None => return Ok(()),
        }
    };
    () => {
        sshd_or_skip!("")
    };
}

#[tokio::test]
async fn exec_returns_stdout_stderr_and_exit_code() -> Result<()> {
    let sshd = sshd_or_skip!();
    let session = Session::connect(&sshd.target(), &credentials()).await?;

    let (status, out, err) = session
        .exec_capture(&RemoteCommand::shell("echo out; echo err >&2; exit 3"))
        .await?;
    assert_eq!(status, ExitStatus::Code(3));
    assert_eq!(out, b"out\n");
    assert_eq!(err, b"err\n");

    // Hostile arguments reach the program literally through the real login shell.
    let hostile = [
        "'; touch /tmp/pwned #",
        "$(id)",
        "`id`",
        "a\"b\\c",
        "two words",
        "",
    ];
    let (status, out, _) = session
        .exec_capture(&RemoteCommand::new("printf").arg("[%s]\\n").args(hostile))
        .await?;
    assert!(status.success());
    let expected: String = hostile.iter().map(|a| format!("[{a}]\n")).collect();
    assert_eq!(String::from_utf8(out)?, expected);

    let (status, _, _) = session
        .exec_capture(&RemoteCommand::shell("kill -TERM $$"))
        .await?;
    assert_eq!(status, ExitStatus::Signal("TERM"));
    session.close().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_execs_share_one_session() -> Result<()> {
    let sshd = sshd_or_skip!();
    let session = Session::connect(&sshd.target(), &credentials()).await?;
    let started = Instant::now();
    let runs = (0..8).map(|i| {
        let session = &session;
        async move {
            session
                .exec_capture(&RemoteCommand::shell(format!("sleep 1; echo {i}")))
                .await
        }
    });
    let results = futures::future::join_all(runs).await;
    for (i, result) in results.into_iter().enumerate() {
        let (status, out, _) = result?;
        assert!(status.success());
        assert_eq!(out, format!("{i}\n").as_bytes());
    }
    // Eight one-second sleeps in parallel, not in sequence.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn exec_reader_streams_large_output() -> Result<()> {
    let sshd = sshd_or_skip!();
    let session = Session::connect(&sshd.target(), &credentials()).await?;
    let mut reader = session
        .exec_reader(&RemoteCommand::shell(
            "head -c 3000000 /dev/zero; echo done >&2; exit 4",
        ))
        .await?;
    let mut total = 0usize;
    let mut buf = vec![0u8; 10_000];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == 0));
        total += n;
    }
    assert_eq!(total, 3_000_000);
    let (status, stderr) = reader.finish().await?;
    assert_eq!(status, ExitStatus::Code(4));
    assert_eq!(stderr, b"done\n");
    Ok(())
}

#[tokio::test]
async fn lost_connection_mid_command_is_unreachable() -> Result<()> {
    let sshd = sshd_or_skip!();
    let session = Session::connect(&sshd.target(), &credentials()).await?;
    // The shell's parent is this connection's sshd process: killing it drops the connection.
    let error = session
        .exec_capture(&RemoteCommand::shell(
            "echo started; kill -KILL $PPID; sleep 30",
        ))
        .await
        .unwrap_err();
    assert!(matches!(error, SshError::Disconnected { .. }), "{error:?}");
    assert_eq!(error.failure(), Some(SshFailure::Unreachable));
    Ok(())
}

#[tokio::test]
async fn strict_refuses_unknown_host_with_its_fingerprint() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("empty_known_hosts");
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("an unknown host must be refused")?;
    assert_eq!(error.failure(), Some(SshFailure::HostKeyUnknown));
    assert_eq!(
        error.to_string(),
        format!(
            "host key of `hub1` (`{addr}:{PORT}`) is not in `{kh}`: the host offered ED25519 key {fp}",
            addr = sshd.address,
            kh = target.known_hosts.display(),
            fp = sshd.host_fingerprint()
        )
    );
    assert!(
        error.hints()[0].contains(&format!(
            "`ssh-keyscan -p {PORT} -t ed25519 {} >> {}`",
            sshd.address,
            target.known_hosts.display()
        )),
        "{:?}",
        error.hints()
    );
    assert!(!target.known_hosts.exists(), "strict must not write");
    Ok(())
}

#[tokio::test]
async fn accept_new_records_the_key_then_accepts_it() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("new/dir/known_hosts");
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    assert_eq!(
        std::fs::read_to_string(&target.known_hosts)?,
        sshd.known_hosts_line()
    );
    // Now recorded: even the strict policy accepts it, and nothing more is written.
    target.host_key_policy = HostKeyPolicy::Strict;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    assert_eq!(
        std::fs::read_to_string(&target.known_hosts)?,
        sshd.known_hosts_line()
    );
    Ok(())
}

#[tokio::test]
async fn changed_key_is_refused_with_both_fingerprints() -> Result<()> {
    let sshd = sshd_or_skip!();
    keygen(&sshd.path("impostor"), "ed25519", "")?;
    let impostor = std::fs::read_to_string(sshd.path("impostor.pub"))?;
    let mut fields = impostor.split_whitespace();
    let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
    let mut target = sshd.target();
    target.known_hosts = sshd.path("changed_known_hosts");
    let contents = format!(
        "# recorded last year\n[{}]:{PORT} {kind} {key}\n",
        sshd.address
    );
    std::fs::write(&target.known_hosts, &contents)?;
    // Even accept-new refuses a changed key.
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("a changed key must be refused")?;
    assert_eq!(error.failure(), Some(SshFailure::HostKeyChanged));
    assert_eq!(
        error.to_string(),
        format!(
            "host key of `hub1` (`{addr}:{PORT}`) does not match `{kh}:2`: recorded ED25519 {old}, offered ED25519 key {new}",
            addr = sshd.address,
            kh = target.known_hosts.display(),
            old = fingerprint(&sshd.path("impostor.pub")),
            new = sshd.host_fingerprint(),
        )
    );
    assert_eq!(std::fs::read_to_string(&target.known_hosts)?, contents);
    Ok(())
}

#[tokio::test]
async fn a_revoked_key_is_refused_though_also_recorded_and_never_learned() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("revoked_known_hosts");
    let line = sshd.known_hosts_line();
    let line = line.trim_end();
    let key = line
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let contents = format!("{line}\n@revoked * {key}\n");
    std::fs::write(&target.known_hosts, &contents)?;
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        target.host_key_policy = policy;
        let error = Session::connect(&target, &credentials())
            .await
            .err()
            .context("a revoked key must be refused")?;
        assert_eq!(error.failure(), Some(SshFailure::HostKeyRevoked));
        assert_eq!(
            error.to_string(),
            format!(
                "host key of `hub1` (`{addr}:{PORT}`) is revoked at `{kh}:2`: the host offered ED25519 key {fp}",
                addr = sshd.address,
                kh = target.known_hosts.display(),
                fp = sshd.host_fingerprint(),
            )
        );
    }
    assert_eq!(std::fs::read_to_string(&target.known_hosts)?, contents);
    Ok(())
}

/// A target with no keys and no known hosts, for connections that must fail before either matters.
fn bare_target(name: &str, address: &str, connect_timeout: Duration) -> SshTarget {
    SshTarget {
        name: name.to_owned(),
        address: address.to_owned(),
        port: PORT,
        user: "root".to_owned(),
        identity_files: vec![],
        known_hosts: "/nonexistent/known_hosts".into(),
        more_known_hosts: vec![],
        host_key_policy: HostKeyPolicy::Strict,
        connect_timeout,
        keepalive: Duration::from_secs(5),
        jump: None,
    }
}

#[tokio::test]
async fn connection_refused_is_unreachable() -> Result<()> {
    let address = free_address()?;
    let target = bare_target("nobody", &address, Duration::from_secs(5));
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("nothing listens there")?;
    assert_eq!(error.failure(), Some(SshFailure::Unreachable));
    assert_eq!(
        error.to_string(),
        format!("cannot connect to `nobody` (`{address}:{PORT}`)")
    );
    Ok(())
}

#[tokio::test]
async fn silent_server_times_out() -> Result<()> {
    // Accepts TCP (the kernel does, from the backlog) but never speaks SSH.
    let address = free_address()?;
    let _listener = TcpListener::bind((address.as_str(), PORT))?;
    let target = bare_target("mute", &address, Duration::from_millis(500));
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("a mute server must time out")?;
    assert_eq!(error.failure(), Some(SshFailure::Unreachable));
    assert_eq!(
        error.to_string(),
        format!("connecting to `mute` (`{address}:{PORT}`) timed out after 0.5s")
    );
    Ok(())
}

#[tokio::test]
async fn rsa_ecdsa_and_passphrase_keys_authenticate() -> Result<()> {
    let sshd = sshd_or_skip!();
    for key in ["id_rsa", "id_ecdsa"] {
        let mut target = sshd.target();
        target.identity_files = vec![sshd.path(key)];
        let session = Session::connect(&target, &credentials())
            .await
            .with_context(|| key.to_owned())?;
        let (status, _, _) = session.exec_capture(&RemoteCommand::new("true")).await?;
        assert!(status.success(), "{key}");
    }

    let asked = Arc::new(AtomicUsize::new(0));
    let prompt: PassphrasePrompt = {
        let asked = Arc::clone(&asked);
        Arc::new(move |_: &Path| {
            asked.fetch_add(1, Ordering::SeqCst);
            Some(PASSPHRASE.to_owned())
        })
    };
    let credentials = Credentials::with_agent_socket(prompt, None);
    let mut target = sshd.target();
    // A missing default key is skipped on the way to the encrypted one.
    target.identity_files = vec![sshd.path("id_missing"), sshd.path("id_locked")];
    let (a, b) = tokio::join!(
        Session::connect(&target, &credentials),
        Session::connect(&target, &credentials)
    );
    a?;
    b?;
    Session::connect(&target, &credentials).await?;
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "one prompt per key file per run"
    );
    Ok(())
}

#[tokio::test]
async fn refused_keys_are_listed() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.identity_files = vec![
        sshd.path("id_stranger"),
        sshd.path("id_missing"),
        sshd.path("id_locked"),
    ];
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("no key is authorized")?;
    assert_eq!(error.failure(), Some(SshFailure::Auth));
    assert_eq!(
        error.to_string(),
        format!(
            "no key was accepted for `{user}` on `hub1` (`{addr}:{PORT}`); tried: `{d}/id_stranger`, \
             `{d}/id_missing` (missing), `{d}/id_locked` (encrypted, no passphrase given)",
            user = whoami(),
            addr = sshd.address,
            d = sshd.dir.path().display()
        )
    );
    Ok(())
}

#[tokio::test]
async fn agent_keys_authenticate() -> Result<()> {
    let sshd = sshd_or_skip!();
    let socket = sshd.path("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg("-q")
        .arg(sshd.path("id_rsa"))
        .env("SSH_AUTH_SOCK", &socket)
        .status()?;
    anyhow::ensure!(added.success(), "ssh-add failed");
    let mut target = sshd.target();
    target.identity_files = vec![];
    let result = Session::connect(
        &target,
        &Credentials::with_agent_socket(no_prompt(), Some(socket)),
    )
    .await;
    let _ = agent.kill();
    let _ = agent.wait();
    let session = result?;
    assert!(
        session
            .exec_capture(&RemoteCommand::new("true"))
            .await?
            .0
            .success()
    );
    Ok(())
}

#[tokio::test]
async fn frozen_host_is_dropped_by_keepalives() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.keepalive = Duration::from_millis(300);
    let session = Session::connect(&target, &credentials()).await?;
    // All of this connection's channels are served by one sshd process, the shells' parent.
    let (_, pid, _) = session
        .exec_capture(&RemoteCommand::shell("echo $PPID"))
        .await?;
    let pid = String::from_utf8(pid)?.trim().to_owned();
    let started = Instant::now();
    // Stopped, it still holds the TCP connection open but answers nothing.
    let error = session
        .exec_capture(&RemoteCommand::shell("kill -STOP $PPID; sleep 60"))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    // That process was started by our sshd for our connection: end it by its pid.
    Command::new("kill").args(["-KILL", &pid]).status()?;
    assert!(matches!(error, SshError::Disconnected { .. }), "{error:?}");
    // Three unanswered keepalives, dropped at the fourth interval (russh `keepalive_max`).
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    Ok(())
}

#[tokio::test]
async fn max_auth_tries_stops_the_list() -> Result<()> {
    let sshd = sshd_or_skip!("MaxAuthTries 2");
    let mut target = sshd.target();
    let stranger = sshd.path("id_stranger");
    target.identity_files = vec![
        stranger.clone(),
        stranger.clone(),
        stranger,
        sshd.path("id_ed25519"),
    ];
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("sshd hangs up before the good key")?;
    assert_eq!(error.failure(), Some(SshFailure::Auth));
    assert!(
        error
            .to_string()
            .contains("too many keys offered? see `MaxAuthTries`"),
        "{error}"
    );
    Ok(())
}
