use super::*;

#[test]
fn the_frame_format_is_the_events_json() {
    let hello = LiveEvent::Hello {
        epoch: 7,
        seq: 42,
        bundle: "pkg/0123456789abcdef".into(),
    };
    let text = hello.to_frame();
    assert_eq!(
        text,
        r#"{"Hello":{"epoch":7,"seq":42,"bundle":"pkg/0123456789abcdef"}}"#
    );
    assert_eq!(LiveEvent::from_frame(&text), Some(hello));
    let changed = LiveEvent::Change {
        seq: 43,
        about: About {
            topic: Topic::Agents,
            region_id: None,
            havip_id: None,
        },
        row: None,
    };
    assert_eq!(
        changed.to_frame(),
        r#"{"Change":{"seq":43,"about":{"topic":"Agents","region_id":null,"havip_id":null},"row":null}}"#
    );
    assert_eq!(LiveEvent::from_frame("\0{}"), None);
    let watch = PageMessage::Watch(vec![Interest::new(&[Topic::Eips])]);
    assert_eq!(
        watch.to_frame(),
        r#"{"Watch":[{"topics":["Eips"],"region_id":null,"havip_id":null}]}"#
    );
    assert_eq!(PageMessage::from_frame(&watch.to_frame()), Some(watch));
}

#[test]
fn a_watch_names_at_most_four_interests() {
    let five = PageMessage::Watch(vec![Interest::everything(); MAX_INTERESTS + 1]);
    assert_eq!(PageMessage::from_frame(&five.to_frame()), None);
    assert_eq!(PageMessage::from_frame(r#"{"Watch":{}}"#), None);
}

#[test]
fn an_interest_concerns_its_topics_region_and_havip() {
    let region = |s: &str| Some(s.parse::<RegionId>().unwrap());
    let havip = |s: &str| Some(s.parse::<HavipId>().unwrap());
    let about = |topic, region_id, havip_id| About {
        topic,
        region_id,
        havip_id,
    };
    let list = Interest::new(&[Topic::Havips, Topic::Agents]).in_region(region("region-aaaaaaaa"));
    assert!(list.concerns(&about(
        Topic::Havips,
        region("region-aaaaaaaa"),
        havip("havip-11111111")
    )));
    assert!(!list.concerns(&about(
        Topic::Havips,
        region("region-bbbbbbbb"),
        havip("havip-11111111")
    )));
    assert!(
        list.concerns(&about(Topic::Agents, None, None)),
        "no region: every region's"
    );
    assert!(!list.concerns(&about(Topic::Eips, None, None)));
    let detail = Interest::new(&[Topic::Havips]).of_havip(havip("havip-11111111"));
    assert!(detail.concerns(&about(
        Topic::Havips,
        region("region-bbbbbbbb"),
        havip("havip-11111111")
    )));
    assert!(!detail.concerns(&about(
        Topic::Havips,
        region("region-bbbbbbbb"),
        havip("havip-22222222")
    )));
    assert!(Interest::everything().concerns(&about(Topic::Users, None, None)));
}
