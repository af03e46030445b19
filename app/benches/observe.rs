//! The agents' hot path: every HAVIP gets a probe reply (or miss) each second from each agent.
//! Measures one steady-state observation through the store (lookup, guarded state machine,
//! sled transaction, no change), without and with allowed holders, and the list page's rows
//! for the whole region.
//! Run: cargo bench -p app --features ssr --bench observe

use app::domain::binding::Observation;
use app::domain::mac::Mac;
use app::domain::model::{IpChoice, NewHavip};
use app::store::{NewInstance, Store, StoreConfig};
use std::time::Instant;

mod common;
use common::percentile;

const HAVIPS: usize = 1_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            havip_quota_per_vpc: 100_000,
            ..Default::default()
        };
        let store = Store::open(dir.path(), config).unwrap();
        let region = store.regions().unwrap().remove(0).id;
        let vpc = store.create_vpc(&region, "bench", "10.8.0.0/16").await.unwrap();
        let subnet = store.create_subnet(&vpc.id, "big", "10.8.0.0/16").await.unwrap();
        let mut havips = Vec::with_capacity(HAVIPS);
        for i in 0..HAVIPS {
            let req = NewHavip {
                region_id: region.clone(),
                name: format!("vip-{i}"),
                vpc_id: vpc.id.clone(),
                subnet_id: subnet.id.clone(),
                ip: IpChoice::Automatic,
            };
            havips.push(store.create_havip(req).await.unwrap());
        }
        let holder: Mac = "52:54:00:00:00:01".parse().unwrap();
        let instance = store
            .register_instance(NewInstance {
                name: "holder".into(),
                subnet_id: subnet.id.clone(),
                mac: holder.to_string(),
                ip: "10.8.200.1".into(),
            })
            .await
            .unwrap();
        let (agent, _) = store
            .create_agent("bench", std::slice::from_ref(&subnet.id))
            .await
            .unwrap();
        for h in &havips {
            store
                .observe(&agent, h.ip, Observation::Announce { mac: holder })
                .unwrap();
        }

        let reply = Observation::ProbeReply { mac: holder };
        let round = |label: &str| {
            let mut samples = Vec::with_capacity(HAVIPS * 5);
            let start = Instant::now();
            for _ in 0..5 {
                for h in &havips {
                    let t = Instant::now();
                    store.observe(&agent, h.ip, reply).unwrap();
                    samples.push(t.elapsed());
                }
            }
            let per_second = samples.len() as f64 / start.elapsed().as_secs_f64();
            let (p50, p99) = (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99));
            println!(
                "{label}: median {p50:?}, p99 {p99:?}, {per_second:.0} observations/s on one thread ({} runs)",
                samples.len()
            );
        };
        round("probe reply from the holder, any host allowed");
        for h in &havips {
            store
                .set_allowed_holders(&h.id, std::slice::from_ref(&instance.eni_id))
                .await
                .unwrap();
        }
        round("probe reply from the holder, allowed holders set");
        written_per_minute(&store, &agent, &havips, reply);

        let mut samples = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let page = store
                .havip_page(&region, &app::domain::listing::ListQuery::default())
                .unwrap();
            samples.push(t.elapsed());
            assert!(page.matching >= HAVIPS);
        }
        let (p50, p99) = (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99));
        println!("list page 1 of a region with {HAVIPS} HAVIPs (holder names, agent coverage): median {p50:?}, p99 {p99:?} (50 runs)");
    });
}

/// Steady state: every HAVIP bound, its holder answering one probe a second. Sixty rounds of
/// one reply per HAVIP are one minute of one agent's reports; the bytes the process handed to
/// `write` in that time (`wchar` of /proc/self/io, sled's log included, flushed) are what the
/// database writes per minute when nothing changes. Ten minutes: the first few include sled
/// consolidating the pages of earlier writes (set-up), which reads trigger.
fn written_per_minute(
    store: &Store,
    agent: &app::domain::model::Agent,
    havips: &[app::domain::model::Havip],
    reply: Observation,
) {
    for minute in 1..=10 {
        written_in_a_minute(store, agent, havips, Some(reply), minute);
    }
    written_in_a_minute(store, agent, havips, None, 11);
}

fn written_in_a_minute(
    store: &Store,
    agent: &app::domain::model::Agent,
    havips: &[app::domain::model::Havip],
    reply: Option<Observation>,
    minute: u32,
) {
    store.flush_now().unwrap();
    let dump0 = store.dump().unwrap();
    let before = written_bytes();
    for _ in 0..60 {
        for h in havips.iter().filter(|_| reply.is_some()) {
            store.observe(agent, h.ip, reply.unwrap()).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    store.flush_now().unwrap();
    let bytes = written_bytes() - before;
    assert!(
        dump0 == store.dump().unwrap(),
        "steady state changed a record"
    );
    let what = match reply {
        Some(_) => "one probe reply each per second",
        None => "no observation at all (sled's own background work)",
    };
    println!(
        "steady state, {} bound HAVIPs, {what}, minute {minute}: {:.1} KiB written",
        havips.len(),
        bytes as f64 / 1024.0
    );
}

fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("wchar in /proc/self/io")
}
