//! The console's language: a first visit in the browser's `Accept-Language`, the choice kept
//! in a cookie (and in a user's account), pages rendered on the server in it with the table
//! the browser hydrates with; errors carrying their code and arguments.

use super::fixture::{announce, audited, content_type, fixture, form, lab_agent, page_in};
use super::fixture::{request_as, As, Fixture};
use app::domain::auth::Role;
use app::i18n::{m, Lang};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The login page as a browser with these headers gets it.
async fn login_page(f: &Fixture, headers: &[(header::HeaderName, &str)]) -> String {
    let mut request = Request::get("/login").header(header::ACCEPT, "text/html");
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = (f.router.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into()
}

#[tokio::test]
async fn a_first_visit_is_in_the_browsers_language_and_a_chosen_one_wins() {
    let f = fixture().await;
    let chinese = m::common::CONSOLE_NAME.text(Lang::ZhCn);
    let english = m::common::CONSOLE_NAME.text(Lang::En);

    let page = login_page(&f, &[]).await;
    assert!(page.contains("<html lang=\"en\""), "English by default");
    assert!(page.contains(english) && !page.contains(chinese));
    assert!(
        !page.contains("id=\"havip-messages\""),
        "English needs no table"
    );

    let accept = (header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8");
    let page = login_page(&f, std::slice::from_ref(&accept)).await;
    assert!(
        page.contains("<html lang=\"zh-CN\""),
        "from Accept-Language"
    );
    assert!(page.contains(chinese), "rendered in Chinese on the server");
    // the table the browser hydrates with: every message, in the messages' order
    let start = page.find("id=\"havip-messages\">").expect("the table") + 20;
    let json = &page[start..start + page[start..].find("</script>").unwrap()];
    let table: Vec<String> = serde_json::from_str(json).unwrap();
    assert_eq!(table.len(), app::i18n::COUNT);
    assert!(table.iter().any(|t| t == chinese));

    // a language chosen before (its cookie) wins over the browser's
    let chosen = (header::COOKIE, "havip_lang=en");
    let page = login_page(&f, &[accept, chosen]).await;
    assert!(page.contains("<html lang=\"en\"") && !page.contains(chinese));
}

async fn choose(f: &Fixture, who: Option<Role>, lang: &str) -> (StatusCode, serde_json::Value) {
    request_as(
        f,
        who,
        Method::POST,
        app::api::language::CHOOSE_LANGUAGE_PATH,
        Some(content_type(As::Form)),
        form(&[("lang", lang)]),
    )
    .await
}

#[tokio::test]
async fn anyone_chooses_a_language_and_a_users_choice_is_kept_in_their_account() {
    let f = fixture().await;
    // before any login (the login page's menu): the table, no account changed
    let (status, table) = choose(&f, None, "zh-CN").await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(table.as_array().unwrap().len(), app::i18n::COUNT);
    assert!(audited(&f.store, "user.language").is_empty());

    // a viewer's choice is kept in their account, and audited
    let (status, _) = choose(&f, Some(Role::Viewer), "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    let viewer = f.store.user("viewer-user").unwrap().unwrap();
    assert_eq!(viewer.language.as_deref(), Some("zh-CN"));
    assert_eq!(audited(&f.store, "user.language").len(), 1);
    // English is built into the browser: no table
    let (status, table) = choose(&f, Some(Role::Viewer), "en").await;
    assert_eq!((status, table), (StatusCode::OK, serde_json::json!([])));

    // a language the console does not speak: refused with its code, nothing changed
    let (status, answer) = choose(&f, Some(Role::Viewer), "fr").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "errors.no_such_language");
    assert_eq!(answer["field"], "lang");
    assert_eq!(answer["args"]["choices"], "en, zh-CN");
    let viewer = f.store.user("viewer-user").unwrap().unwrap();
    assert_eq!(viewer.language.as_deref(), Some("en"));
}

#[tokio::test]
async fn the_cookie_of_a_choice_keeps_the_language_for_a_year() {
    let f = fixture().await;
    let request = Request::post(app::api::language::CHOOSE_LANGUAGE_PATH)
        .header(header::CONTENT_TYPE, content_type(As::Form))
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form(&[("lang", "zh-CN")])))
        .unwrap();
    let response = f.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert_eq!(
        cookie,
        "havip_lang=zh-CN; Path=/; Max-Age=31536000; SameSite=Lax"
    );
}

/// A refusal carries its message's code and arguments, read in either language; its message
/// stays English for scripts.
#[tokio::test]
async fn a_refused_address_carries_its_code_and_arguments() {
    let f = fixture().await;
    let region = f.store.regions().unwrap().remove(0);
    let body = serde_json::json!({"req": {
        "region_id": region.id, "name": "web", "vpc_id": f.vpc_id, "subnet_id": f.subnet_id,
        "ip": {"Manual": "10.9.9.9"},
    }});
    let (status, answer) = request_as(
        &f,
        Some(Role::Operator),
        Method::POST,
        "/api/create_havip",
        Some(content_type(As::Json)),
        body.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "errors.ip_outside_subnet");
    assert_eq!(answer["field"], "ip");
    assert_eq!(answer["args"]["ip"], "10.9.9.9");
    let error: app::domain::error::ApiError = serde_json::from_value(answer.clone()).unwrap();
    assert_eq!(error.in_lang(Lang::En), answer["message"].as_str().unwrap());
    let chinese = error.in_lang(Lang::ZhCn);
    assert!(
        chinese.contains("10.9.9.9") && chinese.contains("网段范围"),
        "{chinese}"
    );
}

#[tokio::test]
async fn the_historys_causes_are_kept_by_code_and_said_in_the_readers_language() {
    let f = fixture().await;
    let mac = "52:54:00:00:00:01";
    announce(&f, &lab_agent(&f).await, mac);
    let event = f.store.history(&f.havip.id, 0, 1).unwrap().remove(0);
    // in English for programs (the API, alerts), and by its code for the pages
    assert_eq!(event.cause, format!("gratuitous ARP from {mac}"));
    let coded = event.cause_text.expect("the cause's code");
    assert_eq!(coded.code, "causes.announce");
    assert_eq!(coded.args["mac"], mac);

    // the history's line (the page's data for the browser carries the English too)
    let detail = format!("/havip/{}", f.havip.id);
    let english = page_in(&f, &detail, "en").await;
    assert!(english.contains(&format!("class=\"cause\">gratuitous ARP from {mac}")));
    let chinese = page_in(&f, &detail, "zh-CN").await;
    assert!(
        chinese.contains(&format!("class=\"cause\">收到来自 {mac} 的免费 ARP")),
        "the cause in Chinese"
    );

    // an event recorded before causes had codes keeps its English words
    let mut old =
        serde_json::to_value(f.store.history(&f.havip.id, 0, 1).unwrap()[0].clone()).unwrap();
    old.as_object_mut().unwrap().remove("cause_text");
    let old: app::domain::model::HistoryEvent = serde_json::from_value(old).unwrap();
    assert!(old.cause_text.is_none());
}

#[tokio::test]
async fn the_audit_logs_none_and_its_command_line_are_said_in_the_readers_language() {
    let f = fixture().await;
    // a record whose object had no such field before
    let (status, answer) = super::zone::set_zone(&f, "Asia/Shanghai").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let english = page_in(&f, "/audit", "en").await;
    let chinese = page_in(&f, "/audit", "zh-CN").await;
    let line = |none: &str| format!("time_zone: {none} → Asia/Shanghai");
    assert!(english.contains(&line("(none)")), "in English");
    assert!(chinese.contains(&line("（无）")), "in Chinese");
    // a user made by `havip user add` on the shell: by the command line
    let shell = f.store.acting(app::domain::audit::Actor::command_line());
    shell
        .create_user("carol", "a long enough password", Role::Viewer)
        .await
        .unwrap();
    let english = page_in(&f, "/audit", "en").await;
    let chinese = page_in(&f, "/audit", "zh-CN").await;
    assert!(english.contains("data-testid=\"user\">(command line)<"));
    assert!(chinese.contains("data-testid=\"user\">（命令行）<"));
}
