//! `hubfleet exec` on a lab of real OpenSSH hosts: output per host, faults reported per host,
//! distinct exit codes, and host key policies.

#[path = "lab/mod.rs"]
mod lab;

use lab::{Hubs, Lab, text};

#[test]
fn five_hosts_answer_and_a_stopped_sshd_and_a_changed_key_are_reported() {
    let lab = Lab::builder().hosts(5).hubs(Hubs::None).start().unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();

    // All five answer, each with its own address (the server end of the connection).
    let out = lab.hubfleet(&[
        "exec",
        "-i",
        &inventory,
        "--",
        "echo",
        "$SSH_CONNECTION | cut -d' ' -f3",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for host in lab.hosts() {
        assert!(
            stdout.contains(&format!("{} | {}\n", host.name, host.address)),
            "{} missing in:\n{stdout}",
            host.name
        );
    }
    assert!(
        stdout.contains("5 hosts: 5 ok, 0 failed, 0 unreachable"),
        "{stdout}"
    );

    lab.stop_sshd(3);
    lab.change_host_key(4).unwrap();
    let report = lab.dir().join("report.json");
    let out = lab.hubfleet(&[
        "exec",
        "-i",
        &inventory,
        "--report",
        report.to_str().unwrap(),
        "--",
        "echo ok-from-$USER",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(4),
        "unreachable hosts exit 4:\n{stdout}\n{stderr}"
    );
    for host in &lab.hosts()[..3] {
        assert!(
            stdout.contains(&format!("{} | ok-from-root", host.name)),
            "{stdout}"
        );
    }
    let (h4, h5) = (&lab.hosts()[3], &lab.hosts()[4]);
    // One line per faulty host on stderr, naming the host and the cause.
    let line = |name: &str| {
        stderr
            .lines()
            .rfind(|l| l.contains(&format!(" {name} ")))
            .map(str::to_owned)
    };
    let h4_line = line(&h4.name).unwrap_or_default();
    assert!(
        h4_line.contains("unreachable") && h4_line.contains(&h4.address.to_string()),
        "{stderr}"
    );
    let h5_line = line(&h5.name).unwrap_or_default();
    assert!(
        h5_line.contains("host key changed") && h5_line.contains("SHA256:"),
        "{stderr}"
    );
    assert!(
        stdout.contains("5 hosts: 3 ok, 0 failed, 2 unreachable"),
        "{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["exit_code"], 4);
    let statuses: Vec<(&str, &str)> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let failure = h["outcome"]["failure"].as_str().unwrap_or("");
            (
                h["host"].as_str().unwrap(),
                if failure.is_empty() {
                    h["outcome"]["status"].as_str().unwrap()
                } else {
                    failure
                },
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (lab.hosts()[0].name.as_str(), "ok"),
            (lab.hosts()[1].name.as_str(), "ok"),
            (lab.hosts()[2].name.as_str(), "ok"),
            (h4.name.as_str(), "unreachable"),
            (h5.name.as_str(), "host-key-changed"),
        ]
    );
}

#[test]
fn a_failing_command_is_exit_2_and_both_kinds_are_exit_6() {
    let lab = Lab::builder().hosts(3).hubs(Hubs::None).start().unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let first = lab.hosts()[0].address.to_string();
    // Fails on the first host only.
    let script = format!("echo $SSH_CONNECTION | grep -q ' {first} ' && exit 3; true");
    let out = lab.hubfleet(&["exec", "-i", &inventory, "--", &script]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("exec: the command exited with code 3"),
        "{}",
        text(&out.stdout)
    );

    lab.stop_sshd(2);
    let out = lab.hubfleet(&["exec", "-i", &inventory, "--", &script]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
}

#[test]
fn strict_refuses_an_unknown_host_and_accept_new_records_it() {
    let lab = Lab::builder().hosts(1).hubs(Hubs::None).start().unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let empty = lab.dir().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let known_hosts = format!("known_hosts={}", empty.display());

    let out = lab.hubfleet(&["exec", "-i", &inventory, "-e", &known_hosts, "--", "true"]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{all}");
    assert!(
        all.contains("host key unknown") && all.contains("SHA256:"),
        "{all}"
    );
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "strict must not record keys"
    );

    let accept_new = ["-e", "host_key_policy=accept-new"];
    let out = lab.hubfleet(
        &[
            &["exec", "-i", &inventory, "-e", &known_hosts][..],
            &accept_new,
            &["--", "true"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let recorded = std::fs::read_to_string(&empty).unwrap();
    let host = &lab.hosts()[0];
    assert!(
        recorded.starts_with(&format!("[{}]:{} ssh-ed25519 ", host.address, host.port)),
        "{recorded}"
    );

    // Recorded: now accepted under the strict policy too.
    let out = lab.hubfleet(&["exec", "-i", &inventory, "-e", &known_hosts, "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A changed key is refused even under accept-new, and the file is left alone.
    lab.change_host_key(0).unwrap();
    let out = lab.hubfleet(
        &[
            &["exec", "-i", &inventory, "-e", &known_hosts][..],
            &accept_new,
            &["--", "true"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("host key changed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), recorded);
}
