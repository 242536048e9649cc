//! The SSH transport against a real OpenSSH sshd (`tests/transport/`): commands over one
//! session, connections that fail, keys that authenticate or not, keepalives. Host keys are in
//! `ssh_host_keys.rs`.

#[path = "lab/mod.rs"]
mod lab;
#[path = "transport/mod.rs"]
#[macro_use]
mod transport;

use std::net::TcpListener;
use std::path::Path;
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
use transport::{PASSPHRASE, credentials, free_address, no_prompt, whoami};

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
