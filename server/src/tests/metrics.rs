//! `/metrics` over HTTP: who may scrape it, and what it says after a failover and a split brain.

use crate::tests::fixture::{fixture, Fixture};
use app::domain::auth::Role;
use app::domain::binding::Observation;
use app::domain::mac::Mac;
use axum::body::Body;
use axum::http::{header, Request};
use base64::Engine;
use http_body_util::BodyExt;
use tower::ServiceExt;

const TOKEN: &str = "scrape-token-0123456789";

async fn scrape(
    router: &axum::Router,
    auth: Option<(header::HeaderName, String)>,
) -> (u16, String) {
    let mut request = Request::get(crate::console::metrics::PATH);
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn with_token(f: &Fixture) -> axum::Router {
    let (access, _) = crate::console::access::Access::new(f.store.clone(), false).unwrap();
    crate::console::serve::router(
        f.store.clone(),
        "127.0.0.1:0".parse().unwrap(),
        access.with_metrics_token(Some(TOKEN.into())),
    )
}

fn basic(id: &str, secret: &str) -> (header::HeaderName, String) {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    (header::AUTHORIZATION, format!("Basic {pair}"))
}

fn bearer(token: &str) -> Option<(header::HeaderName, String)> {
    Some((header::AUTHORIZATION, format!("Bearer {token}")))
}

/// The value of the one sample whose name and labels start as `series` says.
fn value(text: &str, series: &str) -> f64 {
    let found: Vec<&str> = text.lines().filter(|l| l.starts_with(series)).collect();
    assert_eq!(found.len(), 1, "one sample {series} in:\n{text}");
    found[0].rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn metrics_need_a_session_an_api_key_or_the_scrape_token() {
    let f = fixture().await;
    let router = with_token(&f);
    let (id, secret) = f.store.create_api_key("viewer-user").await.unwrap();
    let allowed = [
        ("the scrape token", bearer(TOKEN)),
        ("an API key", Some(basic(&id.id, &secret))),
        (
            "a viewer's session",
            Some((header::COOKIE, f.cookies[&Role::Viewer].clone())),
        ),
    ];
    for (who, auth) in allowed {
        let (status, text) = scrape(&router, auth).await;
        assert_eq!(status, 200, "{who}: {text}");
        assert!(text.ends_with("# EOF\n"), "{who}");
    }
    let refused = [
        ("nobody", None),
        ("a wrong token", bearer("scrape-token-0123456780")),
        ("an empty token", bearer("")),
        ("an API key's wrong secret", Some(basic(&id.id, "wrong"))),
        ("an unknown API key", Some(basic("AKIDnope", &secret))),
        (
            "garbage",
            Some((header::AUTHORIZATION, "Basic !!!".to_string())),
        ),
    ];
    for (who, auth) in refused.clone() {
        let (status, text) = scrape(&router, auth).await;
        assert_eq!(status, 401, "{who}: {text}");
        assert!(!text.contains("havip_"), "{who}");
    }
    // without --metrics-token no bearer token works, not even an empty one
    assert_eq!(scrape(&f.router, bearer("")).await.0, 401);
    assert_eq!(scrape(&f.router, bearer(TOKEN)).await.0, 401);
    // a disabled key stops working
    f.store
        .set_api_key_disabled("viewer-user", &id.id, true)
        .await
        .unwrap();
    assert_eq!(scrape(&router, Some(basic(&id.id, &secret))).await.0, 401);
    // the token opens /metrics only
    let request =
        Request::get("/api/v1/havips").header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn metrics_show_state_holders_and_counts_after_a_failover_and_a_split_brain() {
    let f = fixture().await;
    let router = with_token(&f);
    let (agent, _) = f
        .store
        .create_agent("lab", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    let _connected = f.store.agent_connected(&agent);
    let at = format!("vip=\"172.16.16.12\",subnet=\"{}\"", f.subnet_id);
    let (_, before) = scrape(&router, bearer(TOKEN)).await;
    assert_eq!(value(&before, &format!("havip_vip_state{{{at}}}")), 0.0);
    assert!(!before.contains("havip_vip_holder_info{"));

    let mac = |s: &str| s.parse::<Mac>().unwrap();
    let observe = |o| f.store.observe(&agent, f.havip.ip, o).unwrap();
    observe(Observation::Announce {
        mac: mac("52:54:00:00:00:01"),
    });
    observe(Observation::Announce {
        mac: mac("52:54:00:00:00:02"),
    });
    let (_, bound) = scrape(&router, bearer(TOKEN)).await;
    assert_eq!(value(&bound, &format!("havip_vip_state{{{at}}}")), 1.0);
    assert_eq!(
        value(
            &bound,
            &format!("havip_vip_holder_info{{{at},mac=\"52:54:00:00:00:02\",instance=\"\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(&bound, &format!("havip_vip_holder_changes_total{{{at}}}")),
        2.0
    );

    // the old holder still answers after the handover's in-flight answers: a split brain
    let grace = app::domain::binding::BindingRules::default().handover_grace_ms;
    tokio::time::sleep(std::time::Duration::from_millis(grace + 50)).await;
    observe(Observation::ProbeReply {
        mac: mac("52:54:00:00:00:01"),
    });
    let (_, text) = scrape(&router, bearer(TOKEN)).await;
    assert_eq!(value(&text, &format!("havip_vip_state{{{at}}}")), 2.0);
    assert_eq!(
        text.matches("havip_vip_holder_info{").count(),
        2,
        "both claimants"
    );
    assert_eq!(
        value(&text, &format!("havip_vip_conflicts_total{{{at}}}")),
        1.0
    );
    assert_eq!(value(&text, "havip_agent_up{agent=\"lab\"}"), 1.0);
    assert_eq!(
        value(&text, "havip_agent_observations_total{agent=\"lab\"}"),
        3.0
    );
    let subnet = format!("havip_subnet_addresses{{subnet=\"{}\"", f.subnet_id);
    assert_eq!(value(&text, &format!("{subnet},state=\"havip\"}}")), 1.0);
    let free = value(&text, &format!("{subnet},state=\"free\"}}"));
    assert_eq!(free, f64::from(f.store.free_count(&f.subnet_id)));
    assert!(value(&text, "havip_http_request_duration_seconds_count") >= 3.0);
    assert_eq!(
        value(
            &text,
            &format!(
                "havip_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    // one type line per family, all in the namespace
    for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
        assert!(line.starts_with("# TYPE havip_"), "{line}");
    }
    drop(_connected);
    let (_, after) = scrape(&router, bearer(TOKEN)).await;
    assert_eq!(value(&after, "havip_agent_up{agent=\"lab\"}"), 0.0);
}
