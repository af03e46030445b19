//! Replicas on a three-member etcd cluster (Debian's etcd on loopback): what a create costs,
//! what a request's catch-up read costs, how long a create answered by one replica takes to
//! be published on another; 64 clients over three replicas, with the etcd leader killed in
//! the middle (how long writes stall, nothing acknowledged lost); and what agents probing
//! 1,000 bound HAVIPs through two replicas write to etcd (nothing).
//! Run: cargo bench -p app --features ssr --bench replicas

use app::domain::binding::Observation;
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

        // 64 clients, spread over three replicas, each creating one HAVIP after another; the
        // etcd leader is killed a second in
        let c = replica(&url, &dir.path().join("c"));
        let replicas = [a.clone(), b.clone(), c.clone()];
        let start = Instant::now();
        let clients: Vec<_> = (0..64)
            .map(|client| {
                let store = replicas[client % 3].clone();
                let (region, vpc, subnet) = (region.clone(), vpc.id.clone(), subnet.id.clone());
                tokio::spawn(async move {
                    let mut done = vec![];
                    for i in 0..40 {
                        let asked = Instant::now();
                        let made = store
                            .create_havip(NewHavip {
                                region_id: region.clone(),
                                name: format!("c{client}-{i}"),
                                vpc_id: vpc.clone(),
                                subnet_id: subnet.clone(),
                                ip: IpChoice::Automatic,
                            })
                            .await;
                        done.push((asked, Instant::now(), made.map(|h| h.id)));
                    }
                    done
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut members = members;
        let leader = members.iter().position(TestEtcd::is_leader).unwrap();
        let killed_at = Instant::now();
        members[leader].stop();
        let mut latencies = vec![];
        let mut finished = vec![];
        let mut acknowledged = vec![];
        let mut refused = 0;
        for client in clients {
            for (asked, answered, made) in client.await.unwrap() {
                latencies.push(answered - asked);
                match made {
                    Ok(id) => {
                        finished.push(answered);
                        acknowledged.push(id);
                    }
                    Err(_) => refused += 1,
                }
            }
        }
        let elapsed = start.elapsed();
        finished.sort();
        let stall = (finished.windows(2))
            .filter(|w| w[1] > killed_at)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default();
        let rate = acknowledged.len() as f64 / elapsed.as_secs_f64();
        report("64 clients over 3 replicas: a create", &mut latencies);
        println!(
            "64 clients over 3 replicas: {rate:.0} acknowledged creates/s; the etcd leader killed: writes stalled {stall:?} at most; {refused} answered an error"
        );
        a.catch_up().unwrap();
        let ips: std::collections::HashSet<_> = (acknowledged.iter())
            .map(|id| a.havip(id).expect("an acknowledged create is there").ip)
            .collect();
        assert_eq!(ips.len(), acknowledged.len(), "an address given twice");
        let lost = replicas.iter().map(Store::lost_answers).fold((0, 0), |t, l| (t.0 + l.0, t.1 + l.1));
        println!(
            "  {} acknowledged, all there, each address once; answers lost: {} found made, {} found not made and sent again",
            acknowledged.len(),
            lost.0,
            lost.1
        );

        // 1,000 bound HAVIPs, probed through two replicas by one agent each: one minute's
        // probes (one per HAVIP and agent each second) write nothing to etcd
        let (near_a, _) = a.create_agent("bench-a", std::slice::from_ref(&subnet.id)).await.unwrap();
        let (near_b, _) = a.create_agent("bench-b", std::slice::from_ref(&subnet.id)).await.unwrap();
        b.catch_up().unwrap();
        let holder = "02:00:00:00:be:01".parse().unwrap();
        let bound: Vec<_> = (acknowledged.iter().take(1_000))
            .map(|id| a.havip(id).unwrap().ip)
            .collect();
        for ip in &bound {
            let changed = a.observe(&near_a, *ip, Observation::Announce { mac: holder });
            assert_eq!(changed.unwrap().len(), 1, "{ip} bound");
        }
        b.catch_up().unwrap();
        let revision = || {
            let endpoint = members[(leader + 1) % members.len()].endpoint.clone();
            async move {
                let mut client = etcd_client::Client::connect([endpoint], None).await.unwrap();
                client.get("x", None).await.unwrap().header().unwrap().revision()
            }
        };
        let before = revision().await;
        let start = Instant::now();
        for _second in 0..60 {
            for ip in &bound {
                a.observe(&near_a, *ip, Observation::ProbeReply { mac: holder }).unwrap();
                b.observe(&near_b, *ip, Observation::ProbeReply { mac: holder }).unwrap();
            }
        }
        let took = start.elapsed();
        let written = revision().await - before;
        println!(
            "{} bound HAVIPs probed through two replicas, a minute's probes ({} replies) in {took:?}: {written} etcd writes",
            bound.len(),
            bound.len() * 120
        );
    });
}
