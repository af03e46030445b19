//! An etcd server for tests (the store's and the binary's): Debian's `etcd` on loopback ports,
//! its data in a directory the test owns, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[doc(hidden)]
pub struct TestEtcd {
    child: Child,
    /// `127.0.0.1:PORT`
    pub endpoint: String,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

impl TestEtcd {
    /// Starts etcd with its data in `dir`, once it accepts connections.
    pub fn start(dir: &Path) -> TestEtcd {
        TestEtcd::cluster(dir, 1).remove(0)
    }

    /// Starts a cluster of `members` members, their data in `dir`, once each accepts
    /// connections.
    pub fn cluster(dir: &Path, members: usize) -> Vec<TestEtcd> {
        let ports: Vec<(u16, u16)> = (0..members).map(|_| (free_port(), free_port())).collect();
        let peer_url = |peer: u16| format!("http://127.0.0.1:{peer}");
        let initial = (ports.iter().enumerate())
            .map(|(i, (_, peer))| format!("m{i}={}", peer_url(*peer)))
            .collect::<Vec<_>>()
            .join(",");
        let started: Vec<TestEtcd> = (ports.iter().enumerate())
            .map(|(i, (client, peer))| {
                let endpoint = format!("127.0.0.1:{client}");
                let child = Command::new("etcd")
                    .args(["--name", &format!("m{i}"), "--data-dir"])
                    .arg(dir.join(format!("etcd-m{i}")))
                    .args(["--listen-client-urls", &format!("http://{endpoint}")])
                    .args(["--advertise-client-urls", &format!("http://{endpoint}")])
                    .args(["--listen-peer-urls", &peer_url(*peer)])
                    .args(["--initial-advertise-peer-urls", &peer_url(*peer)])
                    .args(["--initial-cluster", &initial])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect(
                        "etcd is installed (scripts/setup.sh --test installs Debian's etcd-server)",
                    );
                TestEtcd { child, endpoint }
            })
            .collect();
        let t0 = Instant::now();
        for member in &started {
            while TcpStream::connect(&member.endpoint).is_err() {
                assert!(t0.elapsed() < Duration::from_secs(20), "etcd listens");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        started
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
