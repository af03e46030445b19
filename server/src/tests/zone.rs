//! Times in each user's time zone, rendered on the server: the detail page's history and
//! timeline and the audit log agree, with the zone named and UTC in each tooltip.

use super::fixture::{announce, audited, content_type, fixture, lab_agent, page_in};
use super::fixture::{request_as, As, Fixture};
use app::domain::auth::Role;
use axum::http::{Method, StatusCode};

/// The page at `path` as the administrator gets it (in English).
async fn page(f: &Fixture, path: &str) -> String {
    page_in(f, path, "en").await
}

/// The admin's `POST /api/set_time_zone`, as the account page sends it.
pub(super) async fn set_zone(f: &Fixture, zone: &str) -> (StatusCode, serde_json::Value) {
    let body = super::fixture::form(&[("zone", zone)]);
    let form = Some(content_type(As::Form));
    request_as(
        f,
        Some(Role::Admin),
        Method::POST,
        "/api/set_time_zone",
        form,
        body,
    )
    .await
}

#[tokio::test]
async fn history_timeline_and_audit_show_the_users_zone_with_utc_in_the_tooltip() {
    let f = fixture().await;
    let agent = lab_agent(&f).await;
    for mac in ["52:54:00:00:00:01", "52:54:00:00:00:02"] {
        announce(&f, &agent, mac);
    }
    let failover = f.store.history(&f.havip.id, 0, 1).unwrap()[0].at;
    let created = f.havip.created;

    // nobody chose a zone yet: UTC
    let detail = page(&f, &format!("/havip/{}", f.havip.id)).await;
    let utc = app::domain::zone::Zone::utc();
    assert!(
        detail.contains(&format!(">{}<", utc.format(failover))),
        "UTC at first"
    );

    let (status, answer) = set_zone(&f, "Asia/Shanghai").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let shanghai = app::support::zone("Asia/Shanghai", (failover / 1000) as i64).unwrap();
    let local = shanghai.format(failover);
    assert!(local.ends_with(" CST"), "{local}");
    // eight hours ahead of UTC, to the second
    let eight_hours_later = app::domain::model::format_time(failover + 8 * 3600 * 1000);
    assert_eq!(local, format!("{eight_hours_later} CST"));

    let detail = page(&f, &format!("/havip/{}", f.havip.id)).await;
    // the history, with UTC in the tooltip
    let tooltip = shanghai.explain(failover);
    assert!(
        tooltip.ends_with("UTC · Asia/Shanghai (UTC+08:00)"),
        "{tooltip}"
    );
    assert!(
        detail.contains(&format!("title=\"{tooltip}\"")) && detail.contains(&format!(">{local}<")),
        "the history's time in Shanghai"
    );
    // the timeline's failover, and the HAVIP's creation
    assert!(
        detail.contains(&format!("Failover at {local}")),
        "the timeline"
    );
    assert!(detail.contains(&shanghai.format(created)), "created");
    // UTC is left to the tooltips
    let shown_in_utc = format!(">{}<", utc.format(failover));
    assert!(!detail.contains(&shown_in_utc), "no time shown in UTC");

    // the audit log: the zone's own change, in the zone
    let changed = audited(&f.store, "user.time_zone")[0].at;
    let log = page(&f, "/audit").await;
    assert!(
        log.contains(&shanghai.format(changed)),
        "the audit log in Shanghai"
    );

    // a zone the database does not know is refused, and changes nothing
    let (status, answer) = set_zone(&f, "Mars/Olympus").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let admin = f.store.user("admin-user").unwrap().unwrap();
    assert_eq!(admin.time_zone.as_deref(), Some("Asia/Shanghai"));
}
