//! Webhook deliveries: the event as a CloudEvent 1.0 in structured mode
//! (`application/cloudevents+json`), signed as Standard Webhooks sign
//! (<https://www.standardwebhooks.com>), so receivers can verify it with an off-the-shelf
//! library:
//!
//! - `webhook-id`: the event id (the same on every retry, for de-duplication),
//! - `webhook-timestamp`: unix seconds of this attempt,
//! - `webhook-signature`: `v1,` and base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the
//!   base64-decoded part of the rule's `whsec_…` secret.

use super::dedup::Outgoing;
use super::destinations::{literal_refusal, refusal_in};
use app::domain::alerts::WebhookDestinations;
use app::domain::error::ApiError;
use app::domain::model::format_time;
use app::i18n::{m::outcomes as o, Coded, Msg, Text};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// One attempt may take this long (connect, send, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The CloudEvent for `out`, from the console at `source`.
pub fn cloudevent(out: &Outgoing, source: &str) -> serde_json::Value {
    let e = &out.event;
    let mut data = e.data.clone();
    if out.suppressed > 0 {
        if let Some(d) = data.as_object_mut() {
            d.insert("suppressed".into(), out.suppressed.into());
        }
    }
    serde_json::json!({
        "specversion": "1.0",
        "id": e.id,
        "source": source,
        "type": e.event_type.as_str(),
        "subject": e.subject,
        "time": rfc3339(e.time),
        "datacontenttype": "application/json",
        "data": data,
    })
}

/// `2026-11-26T01:02:03.456Z`
pub fn rfc3339(ms: u64) -> String {
    format!("{}.{:03}Z", format_time(ms).replace(' ', "T"), ms % 1000)
}

/// The `webhook-signature` value for a body sent with `id` at `timestamp`; `None` when the
/// secret is not a `whsec_` secret.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// How one attempt ended.
pub enum Attempt {
    Delivered(Outcome),
    /// worth another try (network trouble, 5xx, 429, 408)
    Retry(Outcome),
    /// the receiver refused it (other 4xx); trying again would not help
    Refused(Outcome),
}

/// What an attempt came to: in English (the log, the API) and by its code (the Alerts page
/// says it in the reader's language).
pub struct Outcome {
    pub english: String,
    pub coded: Option<Coded>,
}

impl From<Text> for Outcome {
    fn from(text: Text) -> Self {
        Outcome {
            english: text.to_string(),
            coded: Coded::of(&text),
        }
    }
}

impl From<Msg> for Outcome {
    fn from(msg: Msg) -> Self {
        Text::new(msg).into()
    }
}

impl From<&ApiError> for Outcome {
    fn from(error: &ApiError) -> Self {
        Outcome {
            english: error.message.clone(),
            coded: error.coded(),
        }
    }
}

/// Where a webhook goes: its URL, the rule's secret, and how long one attempt may take.
pub struct Receiver<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub timeout: Duration,
}

/// A duration as the delivery log shows it: `5 s`, `0.2 s`.
pub fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// One attempt to post `out` to `to`; refused without connecting when its URL names an IP
/// address `destinations` does not allow (the client checks names as it resolves them).
pub async fn post(
    client: &reqwest::Client,
    destinations: &WebhookDestinations,
    to: &Receiver<'_>,
    out: &Outgoing,
    source: &str,
) -> Attempt {
    let Ok(parsed) = reqwest::Url::parse(to.url) else {
        return Attempt::Refused(o::URL_UNREADABLE.into());
    };
    if let Some((ip, what)) = literal_refusal(&parsed, destinations) {
        let why = Text::new(o::REFUSED_ADDRESS)
            .arg("ip", ip)
            .word("what", what);
        return Attempt::Refused(why.into());
    }
    let body = serde_json::to_vec(&cloudevent(out, source)).expect("json");
    let timestamp = app::support::now_ms() / 1000;
    let Some(signature) = sign(to.secret, &out.event.id, timestamp, &body) else {
        return Attempt::Refused(o::CANNOT_SIGN.into());
    };
    let sent = client
        .post(parsed)
        .timeout(to.timeout)
        .header("content-type", "application/cloudevents+json")
        .header("webhook-id", &out.event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(answer) => {
            let status = answer.status();
            let outcome = Text::new(o::HTTP_STATUS)
                .arg("status", status.as_u16())
                .into();
            if status.is_success() {
                Attempt::Delivered(outcome)
            } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                Attempt::Retry(outcome)
            } else {
                Attempt::Refused(outcome)
            }
        }
        Err(e) if refusal_in(&e).is_some() => {
            Attempt::Refused(refusal_in(&e).expect("a refusal").0.clone().into())
        }
        Err(e) if e.is_timeout() => Attempt::Retry(
            Text::new(o::NO_ANSWER)
                .arg("limit", seconds(to.timeout))
                .into(),
        ),
        Err(e) if e.is_connect() => Attempt::Retry(o::CANNOT_CONNECT.into()),
        Err(e) => Attempt::Retry(Text::new(o::FAILED).arg("detail", without_url(&e)).into()),
    }
}

/// An error's text without the URL (which may carry a token in its query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "(the URL)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // the example of the Standard Webhooks specification's reference libraries
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("not-a-secret", id, 1, body), None);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_795_603_692_042), "2026-11-25T10:48:12.042Z");
    }
}
