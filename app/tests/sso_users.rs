//! Users of single sign-on in the store (on sled, and on etcd with `HAVIP_TEST_STORE=etcd`):
//! one user per person at the provider, whose role follows their groups at every login, who
//! never takes a local user's name, and who stays refused once disabled in havip.

use app::domain::auth::Role;
use app::domain::error::ErrorKind;
use app::store::{SsoIdentity, SsoPerson, StoreConfig};

#[allow(dead_code)] // the helpers of the HAVIP tests
mod common;
use common::open_store;

const PASSWORD: &str = "a local password of the test";

fn person(subject: &str, name: &str, role: Role) -> SsoPerson {
    SsoPerson {
        identity: SsoIdentity {
            issuer: "https://sso.example.com/realms/corp".into(),
            subject: subject.into(),
        },
        name_hints: vec![name.into(), format!("{name}@corp.example")],
        role,
    }
}

#[tokio::test]
async fn one_user_per_person_whose_role_follows_their_groups() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), StoreConfig::default());
    store
        .create_user("admin", PASSWORD, Role::Admin)
        .await
        .unwrap();

    let (me, token) = store
        .sso_login(&person("s-1", "Alice", Role::Admin), None)
        .await
        .unwrap();
    assert_eq!((me.user.as_str(), me.role), ("alice", Role::Admin));
    let now = app::support::now_ms();
    assert_eq!(store.session_at(&token, now).unwrap(), Some(me.clone()));
    let alice = store.user("alice").unwrap().unwrap();
    assert!(alice.password_hash.is_empty(), "no local password");
    assert_eq!(alice.sso.as_ref().unwrap().subject, "s-1");

    // removed from the admin group at the provider: an operator from the next login on
    let (me, _) = store
        .sso_login(&person("s-1", "alice", Role::Operator), None)
        .await
        .unwrap();
    assert_eq!((me.user.as_str(), me.role), ("alice", Role::Operator));
    assert_eq!(
        store.users().unwrap().len(),
        2,
        "the same user, not another"
    );

    // a person whose name a local user has gets another name; the local user is untouched
    let (other, _) = store
        .sso_login(&person("s-2", "admin", Role::Viewer), None)
        .await
        .unwrap();
    assert!(
        other.user.starts_with("admin-") && other.user.len() == 12,
        "{other:?}"
    );
    let local = store.user("admin").unwrap().unwrap();
    assert_eq!((local.role, local.sso), (Role::Admin, None));
    assert!(store.login("admin", PASSWORD, None).await.is_ok());

    // no password can be set for a user of single sign-on, and none logs them in
    let refused = store
        .set_password("alice", PASSWORD, true)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict, "{refused:?}");
    assert!(store.login("alice", "", None).await.is_err());
    assert!(!store.password_is("alice", "").await.unwrap());

    // disabled in havip: refused whatever the provider says, and recorded
    store.set_user_disabled("alice", true).await.unwrap();
    let users = store.users().unwrap();
    let refused = store
        .sso_login(&person("s-1", "alice", Role::Admin), None)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
    assert_eq!(store.users().unwrap(), users, "nothing changed");
    assert_eq!(store.sessions_of("alice").unwrap(), 0);
    let log = store
        .audit(&app::domain::audit::AuditQuery {
            action: "login.sso_refused".into(),
            ..Default::default()
        })
        .unwrap();
    let entry = &log.entries[0];
    assert_eq!(entry.object, "user alice");
    assert_eq!(entry.after.as_ref().unwrap()["subject"], "s-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_first_login_seen_twice_at_once_makes_one_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), StoreConfig::default());
    let logins = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .sso_login(&person("s-9", "bob", Role::Viewer), None)
                .await
        })
    });
    for login in futures::future::join_all(logins).await {
        assert_eq!(login.unwrap().unwrap().0.user, "bob");
    }
    assert_eq!(store.users().unwrap().len(), 1);
    assert_eq!(store.sessions_of("bob").unwrap(), 8);
}
