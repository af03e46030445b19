//! Hook deliveries: a program from the console's hook directory, run without a shell, with the
//! CloudEvent as JSON on its stdin and the event's type, id and subject in `HAVIP_EVENT_TYPE`,
//! `HAVIP_EVENT_ID` and `HAVIP_EVENT_SUBJECT` (as arpwatch and arpalert run their hooks). Exit
//! status 0 is delivered; anything else, or no exit within the time limit, is tried again.

use super::dedup::Outgoing;
use super::webhook::{cloudevent, seconds, Attempt};
use app::i18n::{m::outcomes as o, Text};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A hook may run this long before it is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `program` for `out`; killed once it has run for `limit` (`HOOK_TIMEOUT` in the console).
pub async fn run(program: &Path, out: &Outgoing, source: &str, limit: Duration) -> Attempt {
    let body = serde_json::to_vec(&cloudevent(out, source)).expect("json");
    let spawned = tokio::process::Command::new(program)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HAVIP_EVENT_TYPE", out.event.event_type.as_str())
        .env("HAVIP_EVENT_ID", &out.event.id)
        .env("HAVIP_EVENT_SUBJECT", &out.event.subject)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let text = Text::new(o::CANNOT_START).arg("detail", e.kind());
            return Attempt::Retry(text.into());
        }
    };
    let finished = tokio::time::timeout(limit, async {
        if let Some(mut stdin) = child.stdin.take() {
            // a hook that does not read its input is its own business
            let _ = stdin.write_all(&body).await;
        }
        child.wait().await
    })
    .await;
    match finished {
        Ok(Ok(status)) if status.success() => {
            Attempt::Delivered(Text::new(o::EXIT_STATUS).arg("code", 0).into())
        }
        Ok(Ok(status)) => Attempt::Retry(match status.code() {
            Some(code) => Text::new(o::EXIT_STATUS).arg("code", code).into(),
            None => o::KILLED_BY_SIGNAL.into(),
        }),
        Ok(Err(e)) => Attempt::Retry(Text::new(o::FAILED).arg("detail", e.kind()).into()),
        Err(_) => Attempt::Retry(
            Text::new(o::STILL_RUNNING)
                .arg("limit", seconds(limit))
                .into(),
        ),
    }
}
