//! Two replicas on a three-member etcd cluster (Debian's etcd on loopback): what a create
//! costs, what a request's catch-up read costs, and how long a create answered by one replica
//! takes to be published on the other.
//! Run: cargo bench -p app --features ssr --bench replicas

use app::domain::model::{IpChoice, NewHavip};
use app::store::{Store, StoreChange, StoreConfig, StorePlace, TestEtcd};
use std::time::{Duration, Instant};

mod common;
use common::percentile;

fn replica(url: &str, dir: &std::path::Path) -> Store {
    let config = StoreConfig {
        place: StorePlace::parse(url, "/havip/").unwrap(),
        havip_quota_per_vpc: 100_000,
        secret_key_file: Some(dir.parent().unwrap().join("secret.key")),
        ..Default::default()
    };
    Store::open(dir, config).unwrap()
}

fn report(what: &str, samples: &mut [Duration]) {
    let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
    println!(
        "{what}: median {p50:?}, p99 {p99:?} ({} runs)",
        samples.len()
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let members = TestEtcd::cluster(dir.path(), 3);
    let url = TestEtcd::cluster_url(&members);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = replica(&url, &dir.path().join("a"));
        let b = replica(&url, &dir.path().join("b"));
        let region = a.regions().unwrap().remove(0).id;
        let vpc = a.create_vpc(&region, "bench", "10.8.0.0/16").await.unwrap();
        let subnet = a
            .create_subnet(&vpc.id, "big", "10.8.0.0/16")
            .await
            .unwrap();
        let request = |i: usize| NewHavip {
            region_id: region.clone(),
            name: format!("b{i}"),
            vpc_id: vpc.id.clone(),
            subnet_id: subnet.id.clone(),
            ip: IpChoice::Automatic,
        };

        // a create answered by A, until B publishes it to its pages
        let mut on_b = b.subscribe();
        let (mut created, mut seen) = (Vec::new(), Vec::new());
        for i in 0..1_000 {
            let start = Instant::now();
            let havip = a.create_havip(request(i)).await.unwrap();
            created.push(start.elapsed());
            loop {
                match on_b.recv().await.unwrap() {
                    StoreChange::HavipCreated { havip_id, .. } if havip_id == havip.id => break,
                    _ => continue,
                }
            }
            seen.push(start.elapsed());
        }
        report("create_havip on etcd (3 members), sequential", &mut created);
        report("create on A until B publishes it", &mut seen);

        // 2,000 creates spawned at once, half through each replica (a create waits for etcd
        // on its thread: as many run at once as the runtime has threads, 2 here)
        let start = Instant::now();
        let tasks: Vec<_> = (0..2_000)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let req = request(10_000 + i);
                tokio::spawn(async move { store.create_havip(req).await })
            })
            .collect();
        let mut done = 0;
        for task in tasks {
            task.await.unwrap().unwrap();
            done += 1;
        }
        let rate = done as f64 / start.elapsed().as_secs_f64();
        println!("creates through two replicas, spawned at once: {rate:.0}/s ({done} creates)");

        let mut caught_up = Vec::new();
        for _ in 0..2_000 {
            let start = Instant::now();
            b.catch_up().unwrap();
            caught_up.push(start.elapsed());
        }
        report(
            "catch_up (each request's read of etcd's revision)",
            &mut caught_up,
        );
    });
}
