//! The browser's live channel over a real websocket: a page is sent the changes it says it
//! shows (`Watch`), an HAVIP's with its row, and nothing else.

use crate::tests::fixture::fixture;
use crate::tests::hostile::{close_code, connect, listen, Ws};
use app::api::live::{Interest, LiveEvent, PageMessage, Topic};
use app::domain::auth::Role;
use app::domain::list_changes::{Edit, RowChange};
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The next event the server sends (within 10 s).
async fn next_event(ws: &mut Ws) -> LiveEvent {
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return LiveEvent::from_frame(&text).expect("an event");
                }
                Some(Ok(_)) => continue,
                other => panic!("the channel ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an event within 10 s")
}

/// Opens a channel with the session `cookie`, once the server has greeted it.
async fn greeted(url: &str, cookie: &str) -> Ws {
    let mut ws = connect(url.into(), &[("cookie", cookie)]).await.unwrap();
    assert!(matches!(next_event(&mut ws).await, LiveEvent::Hello { .. }));
    ws
}

/// Opens a channel as the viewer and says what the page shows; returns it and the change
/// number its watch holds from.
async fn watching(url: &str, cookie: &str, interests: Vec<Interest>) -> (Ws, u64) {
    let mut ws = greeted(url, cookie).await;
    let watch = PageMessage::Watch(interests).to_frame();
    ws.send(Message::text(watch)).await.unwrap();
    match next_event(&mut ws).await {
        LiveEvent::Watching { seq } => (ws, seq),
        other => panic!("not Watching: {other:?}"),
    }
}

#[tokio::test]
async fn a_page_is_sent_the_changes_it_shows_an_havips_with_its_row() {
    let f = fixture().await;
    let addr = listen(&f).await;
    let url = format!("ws://{addr}{}", app::api::live::LIVE_PATH);
    let viewer = f.cookies[&Role::Viewer].clone();
    let here = Some(f.havip.region_id.clone());
    let elsewhere = Some(f.store.create_region("Elsewhere").await.unwrap().id);

    let list = Interest::new(&[Topic::Havips, Topic::Agents]);
    let (mut this_list, from) = watching(&url, &viewer, vec![list.clone().in_region(here)]).await;
    let (mut other_list, _) = watching(&url, &viewer, vec![list.in_region(elsewhere)]).await;

    f.store.rename_havip(&f.havip.id, "renamed").await.unwrap();
    match next_event(&mut this_list).await {
        LiveEvent::Change { seq, about, row } => {
            assert_eq!(
                (seq, about.topic, about.havip_id),
                (from + 1, Topic::Havips, Some(f.havip.id.clone()))
            );
            match row.map(|r| *r) {
                Some(RowChange::Row {
                    row,
                    edit,
                    counters,
                    ..
                }) => {
                    assert_eq!(
                        (row.name.as_str(), edit, counters.total),
                        ("renamed", Edit::Renamed, 1)
                    );
                }
                other => panic!("no row: {other:?}"),
            }
        }
        other => panic!("not a change: {other:?}"),
    }
    // the other region's page was not sent the rename: its next event is the next change
    f.store
        .create_agent("edge", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    for ws in [&mut other_list, &mut this_list] {
        match next_event(ws).await {
            LiveEvent::Change { seq, about, row } => {
                assert_eq!((seq, about.topic, row), (from + 2, Topic::Agents, None));
            }
            other => panic!("not the agent's change: {other:?}"),
        }
    }

    f.store.delete_havip(&f.havip.id).await.unwrap();
    match next_event(&mut this_list).await {
        LiveEvent::Change { row, .. } => match row.map(|r| *r) {
            Some(RowChange::Removed { row, counters }) => {
                assert_eq!((row.id, counters.total), (f.havip.id.clone(), 0));
            }
            other => panic!("not removed: {other:?}"),
        },
        other => panic!("not a change: {other:?}"),
    }
}

#[tokio::test]
async fn the_live_channel_takes_only_a_watch() {
    let f = fixture().await;
    let addr = listen(&f).await;
    let url = format!("ws://{addr}{}", app::api::live::LIVE_PATH);
    let viewer = f.cookies[&Role::Viewer].clone();
    let too_many = PageMessage::Watch(vec![Interest::everything(); 5]).to_frame();
    for text in ["hello", r#"{"Watch":{}}"#, too_many.as_str()] {
        let mut ws = greeted(&url, &viewer).await;
        ws.send(Message::text(text)).await.unwrap();
        assert_eq!(close_code(&mut ws).await, Some(1003), "{text}");
    }
}
