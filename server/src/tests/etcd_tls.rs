//! A console reaches etcd over TLS: with etcd's CA and its own client certificate it opens the
//! store and works; without the certificate, or without TLS, etcd refuses it, and the store is
//! not opened.

use crate::tests::tls::pki;
use app::store::{EtcdAccess, Store, StoreConfig, StorePlace, TestEtcd};

fn config(etcd: &TestEtcd, access: EtcdAccess) -> StoreConfig {
    StoreConfig {
        place: StorePlace::Etcd {
            endpoints: vec![etcd.endpoint.clone()],
            prefix: "/havip/".into(),
            access,
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_reaches_etcd_over_tls_with_its_certificate_and_is_refused_without() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let etcd = TestEtcd::start_tls(dir.path(), &pki.ca, &pki.cert, &pki.key);
    let with_certificate = EtcdAccess {
        ca: Some(pki.ca.clone()),
        identity: Some((pki.cert.clone(), pki.key.clone())),
        user: None,
    };
    let store = Store::open(dir.path().join("a"), config(&etcd, with_certificate)).unwrap();
    let region = store.regions().unwrap().remove(0);
    let vpc = store
        .create_vpc(&region.id, "over-tls", "10.80.0.0/16")
        .await;
    assert_eq!(vpc.unwrap().name, "over-tls");
    drop(store);

    let without_certificate = EtcdAccess {
        ca: Some(pki.ca.clone()),
        ..Default::default()
    };
    let refused = Store::open(dir.path().join("b"), config(&etcd, without_certificate));
    assert!(refused.is_err(), "etcd took a client without a certificate");
    let refused = Store::open(dir.path().join("c"), config(&etcd, EtcdAccess::default()));
    assert!(refused.is_err(), "etcd answered without TLS");
}
