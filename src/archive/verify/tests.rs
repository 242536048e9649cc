//! `verify` against the fixture archives: each deliberately broken one, findings snapshotted.

use std::io::Write;

use super::*;
use crate::archive::fixtures::{HostBackup, ManifestAt};

fn findings(archive: &[u8]) -> String {
    let verification = verify_reader(archive);
    let lines: Vec<_> = verification
        .findings
        .iter()
        .map(ToString::to_string)
        .collect();
    format!("ok: {}\n{}", verification.is_ok(), lines.join("\n"))
}

#[test]
fn a_good_archive_has_no_findings() {
    let archive = HostBackup::good().archive();
    let verification = verify_reader(&archive[..]);
    assert_eq!(verification.findings, []);
    assert_eq!(verification.sha256, Some(Sha256Sum::of(&archive)));
    assert_eq!(verification.manifest.unwrap().members.len(), 5);
}

#[test]
fn archives_with_the_manifest_last_or_first_verify() {
    // Last as `hubfleet backup` writes it now, first as it wrote it before.
    for at in [ManifestAt::Last, ManifestAt::First] {
        let archive = HostBackup::good().manifest_at(at).archive();
        let verification = verify_reader(&archive[..]);
        assert_eq!(verification.findings, []);
        assert_eq!(verification.manifest.unwrap().members.len(), 5);
    }
    // Archives written before: one gzip member (flate2), the manifest first.
    let mut older = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    older
        .write_all(&HostBackup::good().manifest_at(ManifestAt::First).stream())
        .unwrap();
    let verification = verify_reader(&older.finish().unwrap()[..]);
    assert_eq!(verification.findings, []);
}

#[test]
fn broken_archives_collect_every_finding() {
    let db = "db/jupyterhub.sqlite";
    let good = HostBackup::good().archive();
    let gzip = |bytes: &[u8]| {
        let mut encoder = Codec::default().encoder(Vec::new());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    };
    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 16].fill(0x55);
    let mut bad_crc = good.clone();
    let crc = bad_crc.len() - 8;
    bad_crc[crc] ^= 0xff;
    // The good backup's entries, then more written by `add`, compressed.
    let appended = |add: &dyn Fn(&mut tar::Builder<Vec<u8>>)| {
        let mut b = tar::Builder::new(HostBackup::good().stream_without_end_marker());
        add(&mut b);
        gzip(&b.into_inner().unwrap())
    };
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    let cases = [
        (
            "wrong hash and wrong size",
            HostBackup::good()
                .wrong_hash(db)
                .wrong_size("env/packages.txt")
                .archive(),
        ),
        ("missing member", HostBackup::good().missing(db).archive()),
        (
            "extra member",
            HostBackup::good().extra("extra/etc/motd").archive(),
        ),
        (
            "manifest between members",
            HostBackup::good().manifest_at(ManifestAt::Second).archive(),
        ),
        ("truncated", good[..good.len() / 3].to_vec()),
        ("corrupt gzip bytes", corrupt),
        ("bad gzip checksum", bad_crc),
        ("not gzip", HostBackup::good().stream()),
        ("bytes after the gzip data", trailing),
        (
            "no manifest",
            gzip(&{
                let mut b = tar::Builder::new(Vec::new());
                let mut h = tar::Header::new_gnu();
                h.set_size(3);
                b.append_data(&mut h, "db/jupyterhub.sqlite", &b"abc"[..])
                    .unwrap();
                b.into_inner().unwrap()
            }),
        ),
        (
            "manifest does not parse",
            gzip(&{
                let mut b = tar::Builder::new(Vec::new());
                let mut h = tar::Header::new_gnu();
                h.set_size(9);
                b.append_data(&mut h, "manifest.json", &b"{\"host\": "[..])
                    .unwrap();
                b.into_inner().unwrap()
            }),
        ),
        ("empty file", Vec::new()),
        (
            "a member twice, the last copy different",
            appended(&|b: &mut tar::Builder<Vec<u8>>| {
                let mut h = tar::Header::new_gnu();
                h.set_size(3);
                b.append_data(&mut h, db, &b"bad"[..]).unwrap();
            }),
        ),
        (
            "a link named like a member, after it",
            appended(&|b: &mut tar::Builder<Vec<u8>>| {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, db, "/etc/passwd").unwrap();
            }),
        ),
        (
            "a link of its own, and a path out of the archive",
            appended(&|b: &mut tar::Builder<Vec<u8>>| {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, "config/elsewhere", "/etc").unwrap();
                // The tar crate refuses to write `..`; the name goes into the header as bytes.
                let mut h = tar::Header::new_old();
                h.as_old_mut().name[..10].copy_from_slice(b"../.bashrc");
                h.set_size(4);
                h.set_cksum();
                b.append(&h, &b"evil"[..]).unwrap();
            }),
        ),
    ];
    let text: Vec<_> = cases
        .iter()
        .map(|(name, archive)| format!("--- {name}\n{}", findings(archive)))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn a_missing_file_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let verification = verify(&dir.path().join("nope.tar.gz"));
    assert!(!verification.is_ok());
    assert_eq!(verification.sha256, None);
}
