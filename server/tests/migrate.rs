//! Moving a console to etcd, and backing it up there: `havip migrate` moves a sled console's
//! records to an empty etcd prefix and verifies them (a console started on it lets the same
//! admin in and shows the same records); a second move onto the same prefix is refused; a
//! backup of the etcd console restores into a data directory, and into another etcd prefix
//! (not one that holds a console), consistent either way.

use std::process::{Command, Output};

mod common;

use common::*;

fn run(args: &[&str], store: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env("HAVIP_PASSWORD", PASSWORD);
    if let Some(store) = store {
        command.env("HAVIP_STORE", store);
    }
    command.output().unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_sled_console_moves_to_etcd_verified_and_its_etcd_backup_restores() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = app::store::TestEtcd::start(dir.path());
    let (sled, key) = (dir.path().join("sled"), dir.path().join("shared.key"));
    let (sled, key) = (path(&sled), path(&key));
    let out = run(
        &[
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--data-dir",
            sled,
        ],
        None,
    );
    assert!(out.status.success(), "{}", said(&out));

    let store = etcd.store_url();
    let migrate = ["migrate", "--from", sled, "--secret-key-file", key];
    let out = run(&migrate, Some(&store));
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("verified"), "{}", said(&out));
    // onto a prefix that holds a console already: refused, nothing changed
    let again = run(&migrate, Some(&store));
    assert_eq!(again.status.code(), Some(1), "{}", said(&again));
    assert!(said(&again).contains("is not empty"), "{}", said(&again));

    // a console on etcd lets the same admin in, with the records moved
    let replica = dir.path().join("replica");
    let (console, port) = serve_with(&[
        "--store",
        &store,
        "--data-dir",
        path(&replica),
        "--secret-key-file",
        key,
    ]);
    let cookie = login(port);
    let page = json(&http(port, "POST", "/api/network_page", &cookie, "").2);
    assert!(page.to_string().contains("Default-VPC"), "{page}");

    // a backup of the etcd console (beside it), restored into a data directory
    let backup_file = dir.path().join("etcd.backup");
    let out = Command::new(BIN)
        .args(["backup", "--secret-key-file", key])
        .env("HAVIP_STORE", &store)
        .stdout(std::fs::File::create(&backup_file).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let restored = dir.path().join("restored");
    let restore = ["restore", path(&backup_file), "--data-dir", path(&restored)];
    let out = run(&restore, None);
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("(consistent)"), "{}", said(&out));
    stop(console);

    // ... and straight into another, empty etcd prefix, which a console then serves
    let restore = [
        "restore",
        path(&backup_file),
        "--etcd-prefix",
        "/restored/",
        "--secret-key-file",
        key,
    ];
    let out = run(&restore, Some(&store));
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("under /restored/ (consistent)"),
        "{}",
        said(&out)
    );
    let out = run(&restore, Some(&store));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a prefix that holds a console: {}",
        said(&out)
    );
    assert!(said(&out).contains("is not empty"), "{}", said(&out));
    let (console, port) = serve_with(&[
        "--store",
        &store,
        "--etcd-prefix",
        "/restored/",
        "--data-dir",
        path(&dir.path().join("restored-replica")),
        "--secret-key-file",
        key,
    ]);
    let cookie = login(port);
    let page = json(&http(port, "POST", "/api/network_page", &cookie, "").2);
    assert!(page.to_string().contains("Default-VPC"), "{page}");
    stop(console);
}
