//! An etcd server for tests (the store's and the binary's): Debian's `etcd` on loopback ports,
//! its data in a directory the test owns, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[doc(hidden)]
pub struct TestEtcd {
    child: Child,
    /// how it was started, to start it again
    args: Vec<std::ffi::OsString>,
    /// `127.0.0.1:PORT`
    pub endpoint: String,
}

fn spawn(args: &[std::ffi::OsString]) -> Child {
    Command::new("etcd")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("etcd is installed (scripts/setup.sh --test installs Debian's etcd-server)")
}

/// `n` distinct free loopback ports (each held until all are chosen, so none is given twice).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
        .collect();
    (held.iter())
        .map(|l| l.local_addr().expect("its address").port())
        .collect()
}

impl TestEtcd {
    /// Starts etcd with its data in `dir`, once it accepts connections.
    pub fn start(dir: &Path) -> TestEtcd {
        TestEtcd::cluster(dir, 1).remove(0)
    }

    /// Starts a cluster of `members` members, their data in `dir`, once each accepts
    /// connections.
    pub fn cluster(dir: &Path, members: usize) -> Vec<TestEtcd> {
        TestEtcd::launch(dir, members, None)
    }

    /// Starts one member that clients reach over TLS only, with a certificate `ca` signed
    /// (`cert`, `key`), and that takes only clients with a certificate `ca` signed.
    pub fn start_tls(dir: &Path, ca: &Path, cert: &Path, key: &Path) -> TestEtcd {
        TestEtcd::launch(dir, 1, Some([ca, cert, key])).remove(0)
    }

    fn launch(dir: &Path, members: usize, tls: Option<[&Path; 3]>) -> Vec<TestEtcd> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let free = free_ports(2 * members);
        let ports: Vec<(u16, u16)> = free.chunks(2).map(|pair| (pair[0], pair[1])).collect();
        let peer_url = |peer: u16| format!("http://127.0.0.1:{peer}");
        let initial = (ports.iter().enumerate())
            .map(|(i, (_, peer))| format!("m{i}={}", peer_url(*peer)))
            .collect::<Vec<_>>()
            .join(",");
        let started: Vec<TestEtcd> = (ports.iter().enumerate())
            .map(|(i, (client, peer))| {
                let endpoint = format!("127.0.0.1:{client}");
                let mut args: Vec<std::ffi::OsString> = vec![
                    "--name".into(),
                    format!("m{i}").into(),
                    "--data-dir".into(),
                    dir.join(format!("etcd-m{i}")).into(),
                ];
                for (flag, value) in [
                    ("--listen-client-urls", format!("{scheme}://{endpoint}")),
                    ("--advertise-client-urls", format!("{scheme}://{endpoint}")),
                    ("--listen-peer-urls", peer_url(*peer)),
                    ("--initial-advertise-peer-urls", peer_url(*peer)),
                    ("--initial-cluster", initial.clone()),
                ] {
                    args.extend([flag.into(), value.into()]);
                }
                if let Some([ca, cert, key]) = tls {
                    for (flag, path) in [
                        ("--trusted-ca-file", ca),
                        ("--cert-file", cert),
                        ("--key-file", key),
                    ] {
                        args.extend([flag.into(), path.into()]);
                    }
                    args.push("--client-cert-auth".into());
                }
                TestEtcd {
                    child: spawn(&args),
                    args,
                    endpoint,
                }
            })
            .collect();
        started.iter().for_each(TestEtcd::listening);
        started
    }

    /// Waits until it accepts connections (at most 20 s).
    fn listening(&self) {
        let t0 = Instant::now();
        while TcpStream::connect(&self.endpoint).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(20), "etcd listens");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts it again after `stop`, on its data and ports.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.args);
        self.listening();
    }

    /// What `--store` takes for a cluster of these members.
    pub fn cluster_url(members: &[TestEtcd]) -> String {
        let endpoints: Vec<&str> = members.iter().map(|m| m.endpoint.as_str()).collect();
        format!("etcd://{}", endpoints.join(","))
    }

    /// Whether this member is its cluster's leader now (asked of itself; from any thread,
    /// inside a runtime or not).
    pub fn is_leader(&self) -> bool {
        let endpoint = self.endpoint.clone();
        let asked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let Ok(client) = etcd_client::Client::connect([endpoint], None).await else {
                    return false;
                };
                let status = client.maintenance_client().status().await;
                status.is_ok_and(|s| s.header().is_some_and(|h| h.member_id() == s.leader()))
            })
        });
        asked.join().unwrap_or(false)
    }

    /// What `--store` takes for it.
    pub fn store_url(&self) -> String {
        format!("etcd://{}", self.endpoint)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        self.stop();
    }
}
