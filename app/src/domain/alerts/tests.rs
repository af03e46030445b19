use super::*;

fn place(havip: &str) -> Scope {
    Scope {
        region_id: Some(RegionId::parse("region-aaaaaaaa").unwrap()),
        vpc_id: Some(VpcId::parse("vpc-bbbbbbbb").unwrap()),
        subnet_id: Some(SubnetId::parse("subnet-cccccccc").unwrap()),
        havip_id: Some(HavipId::parse(havip).unwrap()),
    }
}

#[test]
fn a_scope_matches_when_every_field_it_sets_matches() {
    let at = place("havip-dddddddd");
    assert!(Scope::default().covers(&at, EventType::HolderChanged));
    let vpc = Scope {
        vpc_id: Some(VpcId::parse("vpc-bbbbbbbb").unwrap()),
        ..Scope::default()
    };
    assert!(vpc.covers(&at, EventType::HolderChanged));
    let other = Scope {
        havip_id: Some(HavipId::parse("havip-eeeeeeee").unwrap()),
        ..Scope::default()
    };
    assert!(!other.covers(&at, EventType::HolderChanged));
    assert!(!other.covers(&Scope::default(), EventType::HostDiscovered));
    // agents have no place: their events reach every rule that chose them
    assert!(other.covers(&Scope::default(), EventType::AgentOffline));
}

#[test]
fn event_types_read_back_from_their_names() {
    for t in EventType::CHOOSABLE {
        assert_eq!(EventType::parse(t.as_str()), Some(t));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"{}\"", t.as_str()));
    }
    assert_eq!(EventType::parse("havip.nope"), None);
}

#[cfg(feature = "ssr")]
#[test]
fn internal_destinations_are_refused_unless_allowed() {
    let refused = WebhookDestinations {
        allow_internal: false,
        own: vec!["10.0.0.9".parse().unwrap()],
    };
    for internal in [
        "127.0.0.1",
        "127.9.9.9",
        "::1",
        "::ffff:127.0.0.1",
        "169.254.169.254",
        "fe80::1",
        "0.0.0.0",
        "::",
        "10.0.0.9",
    ] {
        let ip = internal.parse().unwrap();
        assert!(refused.refusal(ip).is_some(), "{internal}");
        assert_eq!(WebhookDestinations::allowing_internal().refusal(ip), None);
    }
    for outside in [
        "10.0.0.8",
        "172.16.0.1",
        "192.168.1.1",
        "fd00::1",
        "203.0.113.7",
    ] {
        assert_eq!(refused.refusal(outside.parse().unwrap()), None, "{outside}");
    }
    let why = refused.refusal("127.0.0.1".parse().unwrap()).unwrap();
    assert_eq!(why, m::errors_words::LOOPBACK_ADDRESS);
    assert_eq!(
        refused.refusal("::ffff:10.0.0.9".parse().unwrap()),
        Some(m::errors_words::OWN_ADDRESS)
    );
}

#[cfg(feature = "ssr")]
#[test]
fn ip_literals_are_read_from_urls() {
    let ip = |u: &str| url_ip(u).map(|a| a.to_string());
    assert_eq!(ip("http://127.0.0.1:8080/x").as_deref(), Some("127.0.0.1"));
    assert_eq!(ip("https://[::1]/x").as_deref(), Some("::1"));
    assert_eq!(ip("http://[fe80::1]:9000?x").as_deref(), Some("fe80::1"));
    assert_eq!(
        ip("http://169.254.169.254").as_deref(),
        Some("169.254.169.254")
    );
    assert_eq!(ip("http://localhost:8080/x"), None);
    assert_eq!(ip("https://hooks.example.com/x"), None);
    let refused = WebhookDestinations::default();
    let field = |u: &str| {
        check_url_destination(u, &refused)
            .err()
            .and_then(|e| e.field)
    };
    for loose in [
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1:80/",
        "http://127.0.0.1./",
    ] {
        assert_eq!(field(loose).as_deref(), Some("url"), "{loose}");
    }
    for fine in [
        "http://hooks.example.com.:80/",
        "http://host-1.example/",
        "http://10.0.0.1/",
    ] {
        assert_eq!(field(fine), None, "{fine}");
    }
}

#[test]
fn rules_are_checked() {
    let good = NewAlertRule {
        name: "pager".into(),
        target: Target::Webhook {
            url: "https://hooks.example.com/havip?x=1".into(),
        },
        events: vec![EventType::HolderChanged],
        scope: Scope::default(),
        dedup_s: 60,
    };
    assert!(check_rule(&good).is_ok());
    let with = |f: &dyn Fn(&mut NewAlertRule)| {
        let mut r = good.clone();
        f(&mut r);
        check_rule(&r).unwrap_err().field
    };
    let url = |u: &str| Target::Webhook { url: u.into() };
    assert_eq!(with(&|r| r.target = url("ftp://x")), Some("url".into()));
    assert_eq!(with(&|r| r.target = url("http://")), Some("url".into()));
    assert_eq!(
        with(&|r| r.target = url("http://u:p@host/")),
        Some("url".into())
    );
    assert_eq!(
        with(&|r| r.target = url("http://host/a b")),
        Some("url".into())
    );
    let exec = |p: &str| Target::Exec { program: p.into() };
    assert_eq!(
        with(&|r| r.target = exec("../bin/sh")),
        Some("program".into())
    );
    assert_eq!(
        with(&|r| r.target = exec(".hidden")),
        Some("program".into())
    );
    assert!(check_rule(&NewAlertRule {
        target: exec("notify-pager.sh"),
        ..good.clone()
    })
    .is_ok());
    assert_eq!(with(&|r| r.events.clear()), Some("events".into()));
    assert_eq!(
        with(&|r| r.events = vec![EventType::Test]),
        Some("events".into())
    );
    assert_eq!(
        with(&|r| r.dedup_s = MAX_DEDUP_S + 1),
        Some("dedup_s".into())
    );
    assert_eq!(with(&|r| r.name = String::new()), Some("name".into()));
}
