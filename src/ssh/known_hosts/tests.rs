//! known_hosts as OpenSSH reads it: plain, hashed, wildcard and negated patterns, `@revoked`,
//! several files, and what learning a key writes.
use super::*;

const ED_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const ED_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAILIG2T/B0l0gaqj3puu510tu9N1OkQ4znY3LYuEm5zCF";
const ECDSA: &str = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIatJMSnWzCBsKJdkg5zC5a8xv3xgljRaC1JvK0h67MQeSinlMUkjNtTKZCIohj6Mxs+hDexpozIO5M0+AH2iqI=";

fn key(b64: &str) -> PublicKey {
    russh::keys::parse_public_key_base64(b64).unwrap()
}

fn lines(keys: &[RecordedKey]) -> Vec<usize> {
    keys.iter().map(|k| k.line).collect()
}

#[test]
fn matches_plain_bracketed_comma_lists_and_counts_every_line() {
    let file = format!(
        "# comment\n\
         \n\
         web1,10.0.0.5 ssh-ed25519 {ED_A}\n\
         [web1]:2222\tssh-ed25519   {ED_B} root@web1\n\
         web2 ssh-ed25519 {ED_B}\n\
         @cert-authority *.example.org ssh-ed25519 {ED_A}\n\
         @revoked web1 ssh-ed25519 {ED_B}\n\
         garbage\n\
         web1 ssh-ed25519 not-base64\n"
    );
    assert_eq!(lines(&recorded_keys(&file, "web1", 22)), [3]);
    assert_eq!(lines(&recorded_keys(&file, "10.0.0.5", 22)), [3]);
    assert_eq!(lines(&recorded_keys(&file, "WEB1", 2222)), [4]);
    assert_eq!(
        lines(&recorded_keys(&file, "web1", 2223)),
        Vec::<usize>::new()
    );
    assert_eq!(lines(&recorded_keys(&file, "web2", 22)), [5]);
    assert_eq!(lines(&revoked_keys(&file, "web1", 22)), [7]);
    assert_eq!(lines(&revoked_keys(&file, "web2", 22)), Vec::<usize>::new());
}

#[test]
fn a_revoked_key_is_refused_even_where_it_is_also_recorded_and_never_learned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    std::fs::write(
        &path,
        format!("h ssh-ed25519 {ED_A}\n@revoked * ssh-ed25519 {ED_A}\n"),
    )
    .unwrap();
    for host in ["h", "new-host"] {
        assert!(matches!(
            check(&path, host, 22, &key(ED_A)).unwrap(),
            Verdict::Revoked(RecordedKey { line: 2, .. })
        ));
        assert!(matches!(
            learn(&path, host, 22, &key(ED_A)),
            Verdict::Revoked(_)
        ));
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    assert_eq!(
        check(&path, "new-host", 22, &key(ED_B)).unwrap(),
        Verdict::Unknown
    );
}

#[test]
fn hashed_entries_match_name_and_bracketed_port() {
    // `|1|O33E...` is russh's test vector for `example.com`; the second line was made with
    // `ssh-keygen -H` for `[127.77.1.1]:22022`.
    let file = format!(
        "|1|O33ESRMWPVkMYIwJ1Uw+n877jTo=|nuuC5vEqXlEZ/8BXQR7m619W6Ak= ssh-ed25519 {ED_B}\n\
         |1|Poq4psAfd6Xh4x/RiRq3tmTYJqc=|zKeCwx+EqVmVU6EHffSD2BSNT0M= ssh-ed25519 {ED_A}\n"
    );
    assert_eq!(lines(&recorded_keys(&file, "example.com", 22)), [1]);
    assert_eq!(
        lines(&recorded_keys(&file, "example.org", 22)),
        Vec::<usize>::new()
    );
    assert_eq!(lines(&recorded_keys(&file, "127.77.1.1", 22022)), [2]);
    assert_eq!(
        lines(&recorded_keys(&file, "127.77.1.1", 22)),
        Vec::<usize>::new()
    );
}

#[test]
fn wildcards_and_negation() {
    let file =
        format!("*.lab.example,!db.lab.example ssh-ed25519 {ED_A}\nweb? ssh-ed25519 {ED_A}\n");
    assert_eq!(lines(&recorded_keys(&file, "hub.lab.example", 22)), [1]);
    assert_eq!(
        lines(&recorded_keys(&file, "db.lab.example", 22)),
        Vec::<usize>::new()
    );
    assert_eq!(lines(&recorded_keys(&file, "web7", 22)), [2]);
    assert_eq!(
        lines(&recorded_keys(&file, "web17", 22)),
        Vec::<usize>::new()
    );
}

#[test]
fn verdicts() {
    let file = format!(
        "h ssh-ed25519 {ED_A}\nother ssh-ed25519 {ED_B}\nonly-ecdsa ecdsa-sha2-nistp256 {ECDSA}\n"
    );
    let check = |host: &str, offered: &str| verdict(&recorded_keys(&file, host, 22), &key(offered));
    assert_eq!(check("h", ED_A), Verdict::Known);
    assert_eq!(check("nobody", ED_A), Verdict::Unknown);
    assert!(matches!(
        check("h", ED_B),
        Verdict::Changed(RecordedKey { line: 1, .. })
    ));
    // Only another type recorded: refused as changed, pointing at the recorded line.
    assert!(matches!(
        check("only-ecdsa", ED_A),
        Verdict::Changed(RecordedKey { line: 3, .. })
    ));
    assert_eq!(check("only-ecdsa", ECDSA), Verdict::Known);
}

#[test]
fn fingerprints_are_openssh_style() {
    // `ssh-keygen -lf` of `ssh-ed25519 ED_A` prints this fingerprint.
    assert_eq!(
        fingerprint(&key(ED_A)),
        "SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE"
    );
    assert_eq!(key_type_label(&key(ECDSA)), "ECDSA");
}

/// `check_or_learn` with one file.
fn learn(path: &Path, host: &str, port: u16, offered: &PublicKey) -> Verdict {
    check_or_learn(&[path.to_path_buf()], host, port, offered)
        .unwrap()
        .0
}

#[test]
fn every_file_is_read_and_new_keys_go_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (user, global) = (dir.path().join("known_hosts"), dir.path().join("global"));
    std::fs::write(
        &global,
        format!("g ssh-ed25519 {ED_A}\nc ssh-ed25519 {ED_A}\n"),
    )
    .unwrap();
    std::fs::write(&user, format!("c ssh-ed25519 {ED_B}\n")).unwrap();
    let files = [user.clone(), global.clone()];
    let (verdict, from) = check_or_learn(&files, "g", 22, &key(ED_A)).unwrap();
    assert_eq!((verdict, from), (Verdict::Known, global.as_path()));
    // Recorded in one file, another key in the other: known, as OpenSSH.
    let (verdict, _) = check_files(&files, "c", 22, &key(ED_B)).unwrap();
    assert_eq!(verdict, Verdict::Known);
    let (verdict, from) = check_or_learn(&files, "new", 22, &key(ED_B)).unwrap();
    assert_eq!((verdict, from), (Verdict::Unknown, user.as_path()));
    assert_eq!(
        std::fs::read_to_string(&user).unwrap(),
        format!("c ssh-ed25519 {ED_B}\nnew ssh-ed25519 {ED_B}\n")
    );
    let missing = [dir.path().join("none"), global];
    let (verdict, _) = check_files(&missing, "g", 22, &key(ED_A)).unwrap();
    assert_eq!(verdict, Verdict::Known, "a missing file is an empty one");
}

#[test]
fn learning_creates_the_file_and_never_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/known_hosts");
    assert_eq!(
        learn(&path, "127.77.0.9", 2222, &key(ED_A)),
        Verdict::Unknown
    );
    assert_eq!(learn(&path, "127.77.0.9", 2222, &key(ED_A)), Verdict::Known);
    assert_eq!(learn(&path, "plain", 22, &key(ED_B)), Verdict::Unknown);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("[127.77.0.9]:2222 ssh-ed25519 {ED_A}\nplain ssh-ed25519 {ED_B}\n")
    );
}

#[test]
fn concurrent_learning_keeps_lines_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    std::thread::scope(|scope| {
        for port in 2000..2040 {
            let path = &path;
            scope.spawn(move || learn(path, "10.1.1.1", port, &key(ED_A)));
        }
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 40);
    for port in 2000..2040 {
        assert_eq!(
            check(&path, "10.1.1.1", port, &key(ED_A)).unwrap(),
            Verdict::Known
        );
    }
}

#[test]
fn known_types_are_offered_first() {
    let file = format!("h ecdsa-sha2-nistp256 {ECDSA}\n");
    let order = preferred_host_key_algorithms(
        &recorded_keys(&file, "h", 22),
        &russh::Preferred::DEFAULT.key,
    );
    assert_eq!(
        order[0],
        Algorithm::Ecdsa {
            curve: russh::keys::EcdsaCurve::NistP256
        }
    );
    assert_eq!(order[1], Algorithm::Ed25519);
    assert_eq!(order.len(), russh::Preferred::DEFAULT.key.len());
}
