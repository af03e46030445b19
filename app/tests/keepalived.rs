//! The generated keepalived configuration is accepted by Debian's keepalived (`keepalived -t`).

use app::domain::haconfig::{keepalived, KeepalivedParams, Preemption, Role};
use std::process::Command;

#[test]
fn keepalived_accepts_every_generated_configuration() {
    let binary = ["/usr/sbin/keepalived", "/sbin/keepalived"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("keepalived is needed for this test: apt-get install keepalived (scripts/setup.sh --test does)");
    let dir = tempfile::tempdir().unwrap();
    let mut base = KeepalivedParams::defaults(
        "172.16.16.12".parse().unwrap(),
        "172.16.16.0/24".parse().unwrap(),
        // as `random_auth_pass` makes them: 8 letters and digits
        "Xq7pR2mZ".into(),
    );
    base.primary_ip = "172.16.16.5".into();
    base.secondary_ip = "172.16.16.6".into();
    // keepalived -t checks that the interface exists on this host and is not loopback
    base.interface = host_interface();
    let mut checked = 0;
    for preemption in [
        Preemption::NonPreemptive,
        Preemption::Preemptive { delay_s: None },
        Preemption::Preemptive { delay_s: Some(30) },
    ] {
        for refresh in [None, Some(60)] {
            for role in [Role::Primary, Role::Secondary] {
                let mut p = base.clone();
                p.preemption = preemption;
                p.garp_master_refresh = refresh;
                assert!(app::domain::haconfig::check(&p).is_empty());
                let text = keepalived(&p, role);
                let file = dir.path().join(format!("k{checked}.conf"));
                std::fs::write(&file, &text).unwrap();
                let out = Command::new(binary)
                    .arg("-t")
                    .arg("-f")
                    .arg(&file)
                    .output()
                    .unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "keepalived -t refused:\n{text}\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12);
}

fn host_interface() -> String {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort_by_key(|n| (n != "eth0", n.clone()));
    names
        .into_iter()
        .next()
        .expect("keepalived -t needs a non-loopback interface on this host")
}
