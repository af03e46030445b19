//! Two replicas on one etcd prefix: what one commits, the other takes in (its list, its free
//! addresses, its audit count) and publishes to its own browsers and agents, once; and each
//! publishes its own changes once, never again when the watch brings them back.

use super::kv::tests::EtcdServer;
use super::on_etcd_tests::{on, request, small_subnet};
use super::{Store, StoreChange};
use crate::domain::ids::HavipId;
use crate::domain::listing::ListQuery;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

/// The changes published until `last` is (at most 5 s), in order.
async fn until(
    changes: &mut Receiver<StoreChange>,
    last: impl Fn(&StoreChange) -> bool,
) -> Vec<StoreChange> {
    let mut seen = Vec::new();
    loop {
        let change = tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await
            .unwrap_or_else(|_| panic!("no such change within 5 s; published: {seen:?}"))
            .unwrap();
        let done = last(&change);
        seen.push(change);
        if done {
            return seen;
        }
    }
}

/// The changes about `id` among `changes`, as (kind, renamed).
fn about(changes: &[StoreChange], id: &HavipId) -> Vec<&'static str> {
    (changes.iter())
        .filter_map(|c| match c {
            StoreChange::HavipCreated { havip_id, .. } if havip_id == id => Some("created"),
            StoreChange::Havip {
                havip_id,
                renamed: true,
                ..
            } if havip_id == id => Some("renamed"),
            StoreChange::Havip { havip_id, .. } if havip_id == id => Some("changed"),
            StoreChange::HavipDeleted { havip_id, .. } if havip_id == id => Some("deleted"),
            _ => None,
        })
        .collect()
}

fn is_deleted(change: &StoreChange) -> bool {
    matches!(change, StoreChange::HavipDeleted { .. })
}

fn listed(store: &Store, region: &crate::domain::ids::RegionId) -> Vec<HavipId> {
    store.catch_up().unwrap();
    let page = store.havip_page(region, &ListQuery::default()).unwrap();
    page.havips.into_iter().map(|h| h.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_replica_commits_the_other_lists_counts_and_publishes_once() {
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (on(&etcd, &dir_a), on(&etcd, &dir_b));
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());

    // a subnet made on A: B has its free addresses (the map is not only built at start)
    let at = small_subnet(&a).await;
    b.catch_up().unwrap();
    assert_eq!(b.free_count(&at.2), 29);

    let havip = a.create_havip(request(&at, "vip".into())).await.unwrap();
    assert_eq!(
        listed(&b, &at.0),
        vec![havip.id.clone()],
        "read-your-writes on B"
    );
    assert_eq!(b.region_counters(&at.0).total, 1);
    assert_eq!(b.free_count(&at.2), 28);
    let taken = b.create_havip(request(&at, "second".into())).await.unwrap();
    assert_ne!(taken.ip, havip.ip);

    a.rename_havip(&havip.id, "renamed").await.unwrap();
    b.catch_up().unwrap();
    let page = b.havip_page(
        &at.0,
        &ListQuery {
            q: "renamed".into(),
            ..ListQuery::default()
        },
    );
    assert_eq!(page.unwrap().matching, 1, "B searches by the new name");

    a.delete_havip(&havip.id).await.unwrap();
    assert_eq!(listed(&b, &at.0), vec![taken.id.clone()]);
    assert_eq!(b.free_count(&at.2), 28, "the address is free again on B");
    assert_eq!(
        b.audit_len(),
        a.audit_len(),
        "both count every audit record"
    );

    // each replica published each change once: its own as it made it, the other's as the
    // watch brought it
    let (seen_a, seen_b) = (
        until(&mut on_a, is_deleted).await,
        until(&mut on_b, is_deleted).await,
    );
    for seen in [&seen_a, &seen_b] {
        assert_eq!(
            about(seen, &havip.id),
            ["created", "renamed", "deleted"],
            "{seen:?}"
        );
        assert_eq!(about(seen, &taken.id), ["created"], "{seen:?}");
        assert!(
            seen.iter()
                .any(|c| matches!(c, StoreChange::Network { .. })),
            "{seen:?}"
        );
    }
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_seed_once_and_set_up_one_first_administrator() {
    let etcd = EtcdServer::start();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let replicas: Vec<Store> = std::thread::scope(|s| {
        let opening: Vec<_> = (dirs.iter())
            .map(|dir| s.spawn(|| on(&etcd, dir)))
            .collect();
        opening.into_iter().map(|o| o.join().unwrap()).collect()
    });
    for store in &replicas {
        store.catch_up().unwrap();
        assert_eq!(store.regions().unwrap().len(), 1, "one default region");
    }
    // the set-up page used on every replica at once: one first administrator
    let setting_up: Vec<_> = (replicas.iter().enumerate())
        .map(|(i, store)| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_first_admin(&format!("admin{i}"), "a long enough password")
                    .await
            })
        })
        .collect();
    let mut made = 0;
    for set_up in setting_up {
        match set_up.await.unwrap() {
            Ok(_) => made += 1,
            Err(e) => assert!(e.message.contains("set up already"), "{e:?}"),
        }
    }
    assert_eq!(made, 1);
    assert_eq!(replicas[0].user_count().unwrap(), 1);
}

/// Waits until `b` says the agent has `connections` connections (at most 10 s).
async fn until_connections(b: &Store, agent: &crate::domain::ids::AgentId, connections: u32) {
    let t0 = std::time::Instant::now();
    loop {
        b.catch_up().unwrap();
        if b.presence(agent).map_or(0, |p| p.connections) == connections {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "not {connections} connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_connected_to_one_replica_is_online_on_the_other_while_that_replica_lives() {
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (on(&etcd, &dir_a), on(&etcd, &dir_b));
    let at = small_subnet(&a).await;
    let (agent, _token) = a
        .create_agent("rack-1", std::slice::from_ref(&at.2))
        .await
        .unwrap();
    let mut on_b = b.subscribe();

    let connected = a.agent_connected(&agent);
    until(&mut on_b, |c| matches!(c, StoreChange::Agents)).await;
    until_connections(&b, &agent.id, 1).await;
    assert!(
        b.watched_subnets().unwrap().contains(&at.2),
        "B's rows say the subnet is watched"
    );
    drop(connected);
    until_connections(&b, &agent.id, 0).await;
    assert!(!b.watched_subnets().unwrap().contains(&at.2));

    // A's lease ends (as when A dies): its records go, and B shows the agent offline; A,
    // alive, takes a new lease and shares them again
    let _connected = a.agent_connected(&agent);
    until_connections(&b, &agent.id, 1).await;
    let mut client = etcd_client::Client::connect([etcd.endpoint.clone()], None)
        .await
        .unwrap();
    for lease in client.leases().await.unwrap().leases() {
        client.lease_revoke(lease.id()).await.unwrap();
    }
    until_connections(&b, &agent.id, 0).await;
    until_connections(&b, &agent.id, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_token_retried_on_two_replicas_at_once_makes_one_havip() {
    use super::{ClientToken, Created};
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (on(&etcd, &dir_a), on(&etcd, &dir_b));
    let at = small_subnet(&a).await;
    b.catch_up().unwrap();
    let id = |created: Created| match created {
        Created::New(havip) => (havip.id, true),
        Created::Earlier(earlier) => (earlier.havip_id, false),
    };
    for round in 0..10 {
        let token = ClientToken {
            key: format!("AKIDtest:token-{round}"),
            fingerprint: format!("round {round}"),
        };
        let (on_a, on_b) = tokio::join!(
            a.create_havip_once(request(&at, format!("a-{round}")), Some(&token)),
            b.create_havip_once(request(&at, format!("b-{round}")), Some(&token)),
        );
        let ((id_a, new_a), (id_b, new_b)) = (id(on_a.unwrap()), id(on_b.unwrap()));
        assert_eq!(id_a, id_b, "round {round}: one HAVIP for one token");
        assert!(new_a != new_b, "round {round}: made once, answered once");
    }
    assert_eq!(listed(&a, &at.0).len(), 10);
    assert_eq!(listed(&b, &at.0).len(), 10);
    // the token of another request, and no token at all, make new ones
    let other = ClientToken {
        key: "AKIDtest:token-0".into(),
        fingerprint: "something else".into(),
    };
    match b
        .create_havip_once(request(&at, "x".into()), Some(&other))
        .await
    {
        Ok(Created::Earlier(earlier)) => assert_eq!(earlier.fingerprint, "round 0"),
        other => panic!("{other:?}"),
    }
    b.create_havip(request(&at, "plain".into())).await.unwrap();
    assert_eq!(listed(&a, &at.0).len(), 11);
    // the leader's sweep forgets the ten tokens once their day is over, not before
    let now = super::now_ms();
    assert_eq!(a.forget_old_client_tokens(now).unwrap(), 0);
    assert_eq!(
        a.forget_old_client_tokens(now + 25 * 3600 * 1000).unwrap(),
        10
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_on_two_replicas_decide_one_binding_each_change_recorded_once() {
    use crate::domain::binding::{Change, Observation, Status};
    use crate::domain::mac::Mac;
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (on(&etcd, &dir_a), on(&etcd, &dir_b));
    let at = small_subnet(&a).await;
    let havip = a.create_havip(request(&at, "vip".into())).await.unwrap();
    let subnets = std::slice::from_ref(&at.2);
    let (near_a, _) = a.create_agent("rack-a", subnets).await.unwrap();
    let (near_b, _) = a.create_agent("rack-b", subnets).await.unwrap();
    b.catch_up().unwrap();
    let macs: [Mac; 2] = ["02:00:00:00:00:01", "02:00:00:00:00:02"].map(|m| m.parse().unwrap());
    let (ip, id) = (havip.ip, havip.id.clone());

    // both agents hear every gratuitous ARP of a pair failing over back and forth, at the
    // same moment, each through its own replica: each failover is decided and recorded once
    let rounds = 12;
    for round in 0..rounds {
        let announce = Observation::Announce {
            mac: macs[round % 2],
        };
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let heard =
            [(a.clone(), near_a.clone()), (b.clone(), near_b.clone())].map(|(store, agent)| {
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    store.observe(&agent, ip, announce).unwrap()
                })
            });
        let decided: Vec<Vec<Change>> = heard.map(|h| h.join().unwrap()).into();
        assert_eq!(
            decided.iter().map(Vec::len).sum::<usize>(),
            1,
            "round {round}: one replica decides the change, the other finds it made: {decided:?}"
        );
    }
    a.catch_up().unwrap();
    let history = a.history(&id, 0, 100).unwrap();
    assert_eq!(
        history.len(),
        rounds,
        "bound once, then a failover each round: {history:?}"
    );
    assert_eq!(b.history(&id, 0, 100).unwrap().len(), rounds);

    // holder loss needs the misses of all agents: one that still hears the holder, through
    // the other replica, keeps it bound
    let holder = macs[(rounds - 1) % 2];
    let on = |store: &Store, agent, obs| {
        store.catch_up().unwrap();
        store.observe(agent, ip, obs).unwrap()
    };
    on(&a, &near_a, Observation::ProbeMiss);
    on(&a, &near_a, Observation::ProbeMiss);
    on(&b, &near_b, Observation::ProbeReply { mac: holder });
    on(&a, &near_a, Observation::ProbeMiss);
    on(&a, &near_a, Observation::ProbeMiss);
    b.catch_up().unwrap();
    assert!(
        matches!(b.havip(&id).unwrap().binding.status(), Status::Bound { mac, .. } if mac == holder),
        "the holder answered B's agent in between"
    );
    // nobody hears it any more: lost, once
    let lost = on(&b, &near_b, Observation::ProbeMiss);
    assert_eq!(lost, vec![Change::Lost { mac: holder }]);
    assert_eq!(on(&a, &near_a, Observation::ProbeMiss), vec![]);
    a.catch_up().unwrap();
    assert_eq!(a.havip(&id).unwrap().binding.status(), Status::Unbound);
    assert_eq!(a.history(&id, 0, 100).unwrap().len(), rounds + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_alone_trims_the_audit_log_and_replicas_share_what_ended() {
    use crate::domain::auth::Role;
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = || super::StoreConfig {
        place: super::StorePlace::parse(&format!("etcd://{}", etcd.endpoint), "/havip/").unwrap(),
        audit_limit: 20,
        ..super::StoreConfig::default()
    };
    let a = Store::open(dir_a.path(), config()).unwrap();
    let mut a_leads = a.leading();
    tokio::time::timeout(Duration::from_secs(10), a_leads.wait_for(|l| *l))
        .await
        .expect("A is elected")
        .unwrap();
    let b = Store::open(dir_b.path(), config()).unwrap();
    let b_leads = b.leading();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!*b_leads.borrow(), "one leader");

    // changes made on B past the limit: B does not trim, the leader does (into its archive)
    let at = small_subnet(&b).await;
    let havip = b.create_havip(request(&at, "vip".into())).await.unwrap();
    for i in 0..30 {
        b.rename_havip(&havip.id, &format!("name-{i}"))
            .await
            .unwrap();
    }
    a.catch_up().unwrap();
    assert!(a.audit_len() > 30, "{}", a.audit_len());
    let archive = |dir: &tempfile::TempDir| dir.path().join(super::audit_archive::FILE_NAME);
    assert!(!archive(&dir_b).exists(), "only the leader archives");
    a.trim_audit();
    b.catch_up().unwrap();
    assert_eq!((a.audit_len(), b.audit_len()), (20, 20));
    assert!(archive(&dir_a).exists());
    assert!(!archive(&dir_b).exists());

    // an API signature accepted by A is refused by B, until its window has ended
    let (digest, now) = ([7u8; 32], 1_000_000);
    assert!(a.first_use_of_signature(&digest, now + 300, now).unwrap());
    assert!(!b
        .first_use_of_signature(&digest, now + 300, now + 1)
        .unwrap());
    assert_eq!(b.forget_old_signatures(now + 299).unwrap(), 0);
    assert_eq!(b.forget_old_signatures(now + 301).unwrap(), 1);
    assert!(a
        .first_use_of_signature(&digest, now + 700, now + 400)
        .unwrap());

    // a session made on B that ended by time is forgotten by the leader's sweep
    let password = "a long enough password";
    b.create_user("ops", password, Role::Operator)
        .await
        .unwrap();
    let (_, token) = b.login("ops", password, None).await.unwrap();
    a.catch_up().unwrap();
    assert_eq!(a.sessions_of("ops").unwrap(), 1);
    assert_eq!(a.forget_expired_sessions(super::now_ms()).unwrap(), 0);
    b.backdate_session(&token, 13 * 3600 * 1000).unwrap();
    a.catch_up().unwrap();
    assert_eq!(a.forget_expired_sessions(super::now_ms()).unwrap(), 1);
    b.catch_up().unwrap();
    assert_eq!(b.sessions_of("ops").unwrap(), 0);
}
