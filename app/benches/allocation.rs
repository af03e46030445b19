//! Allocation speed: picking the lowest free address of a /16 with 60,000 addresses in use,
//! in memory (FreeRanges) and end to end through the store (sled transaction + flush).
//! Run: cargo bench -p app --features ssr --bench allocation

use app::store::FreeRanges;
use std::net::Ipv4Addr;
use std::time::Instant;

mod common;
use common::percentile;

fn main() {
    // a /16: usable 10.0.0.2-10.0.255.254; 60,000 used, scattered (every address but a few gaps)
    let (first, last) = (
        u32::from(Ipv4Addr::new(10, 0, 0, 2)),
        u32::from(Ipv4Addr::new(10, 0, 255, 254)),
    );
    let mut ranges = FreeRanges::new(Ipv4Addr::from(first), Ipv4Addr::from(last));
    let mut seed = 7u32;
    let mut used = 0;
    while used < 60_000 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let ip = Ipv4Addr::from(first + (seed >> 4) % (last - first + 1));
        if ranges.claim(ip) {
            used += 1;
        }
    }
    println!(
        "free ranges: {} free addresses left of {}",
        ranges.free_count(),
        last - first + 1
    );

    let mut samples = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let start = Instant::now();
        let ip = ranges.lowest().expect("free address");
        ranges.claim(ip);
        ranges.release(ip);
        samples.push(start.elapsed());
    }
    let (p50, p99) = (
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    );
    println!("lowest free + claim + release, /16 with 60,000 used: median {p50:?}, p99 {p99:?} (100,000 runs)");

    // end to end: one create through the store (validation, transaction, flush) in a /16
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = app::store::Store::open(dir.path(), app::store::StoreConfig { havip_quota_per_vpc: 100_000, ..Default::default() }).unwrap();
        let region = store.regions().unwrap().remove(0).id;
        let vpc = store.create_vpc(&region, "bench", "10.8.0.0/16").await.unwrap();
        let subnet = store.create_subnet(&vpc.id, "big", "10.8.0.0/16").await.unwrap();
        let mut samples = Vec::new();
        for i in 0..2_000 {
            let req = app::domain::model::NewHavip {
                region_id: region.clone(),
                name: format!("b{i}"),
                vpc_id: vpc.id.clone(),
                subnet_id: subnet.id.clone(),
                ip: app::domain::model::IpChoice::Automatic,
            };
            let start = Instant::now();
            store.create_havip(req).await.unwrap();
            samples.push(start.elapsed());
        }
        let (p50, p99) = (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99));
        println!("create_havip through the store (transaction + durable flush), 2,000 sequential: median {p50:?}, p99 {p99:?}");
    });
}
