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
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let child = Command::new("etcd")
            .args(["--name", "test", "--data-dir"])
            .arg(dir.join("etcd"))
            .args(["--listen-client-urls", &format!("http://{endpoint}")])
            .args(["--advertise-client-urls", &format!("http://{endpoint}")])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("test={peer_url}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd is installed (scripts/setup.sh --test installs Debian's etcd-server)");
        let server = TestEtcd { child, endpoint };
        let t0 = Instant::now();
        while TcpStream::connect(&server.endpoint).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(20), "etcd listens");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
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
