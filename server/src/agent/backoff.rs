//! What the agent does after a connection to the console ends: reconnect soon, reconnect
//! later and later (exponential back-off with jitter), or stop when retrying cannot help.

use std::time::Duration;

const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How a connection to the console ended, as far as reconnecting is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It was up and healthy for a while, then lost (console restart, network blip): the
    /// back-off starts over.
    Lost(String),
    /// Connecting failed, or the connection ended soon after it began: retry, later each time.
    Failed(String),
    /// A refusal that retrying cannot heal: the agent stops.
    Fatal(String),
}

impl Outcome {
    pub(super) fn message(&self) -> &str {
        match self {
            Outcome::Lost(m) | Outcome::Failed(m) | Outcome::Fatal(m) => m,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    Stop(String),
}

/// Exponential back-off with jitter, driven by how each connection ended.
#[derive(Debug)]
pub struct Backoff {
    /// The longest the next wait may be.
    ceiling: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            ceiling: BACKOFF_START,
        }
    }
}

impl Backoff {
    /// What to do after `outcome`. `jitter` (uniform in 0..1) puts the wait between half and
    /// all of the ceiling, so a fleet of agents does not reconnect in lockstep.
    pub fn next(&mut self, outcome: &Outcome, jitter: f64) -> Decision {
        match outcome {
            Outcome::Fatal(why) => return Decision::Stop(why.clone()),
            Outcome::Lost(_) => self.ceiling = BACKOFF_START,
            Outcome::Failed(_) => {}
        }
        let wait = self.ceiling.mul_f64(0.5 + jitter.clamp(0.0, 1.0) * 0.5);
        self.ceiling = (self.ceiling * 2).min(BACKOFF_MAX);
        Decision::Retry(wait)
    }
}

/// Why an established websocket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum End {
    /// The console sent a close frame.
    Closed { code: u16, reason: String },
    /// Anything else: the connection broke, or went quiet.
    Broken(String),
}

/// Classifies the end of a websocket session; `healthy`: it was welcomed and lasted.
pub(super) fn judge(end: End, healthy: bool) -> Outcome {
    let (code, reason) = match end {
        End::Broken(why) if healthy => return Outcome::Lost(why),
        End::Broken(why) => return Outcome::Failed(why),
        End::Closed { code, reason } => (code, reason),
    };
    let said = format!("the console closed the connection: {reason} ({code})");
    match code {
        // the hello is the same every time, so a console that refused it refuses it again
        1002 => Outcome::Fatal(format!(
            "{said}; this agent and the console do not speak the same protocol: \
             run the same havip version on both"
        )),
        // policy: the console no longer accepts this agent (today: its token was revoked)
        1008 => Outcome::Fatal(format!(
            "{said}; create a new token on the console's Agents page and restart the agent \
             with it"
        )),
        // the console refused data we sent: a bug, but the data changes, so keep retrying
        1003 | 1007 | 1009 => {
            Outcome::Failed(format!("{said}; this is a bug in havip, please report it"))
        }
        // going away (1001), restarting (1012), try again later (1013), ...
        _ if healthy => Outcome::Lost(said),
        _ => Outcome::Failed(said),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_resets_after_a_healthy_session_and_stops_on_fatal() {
        let failed = Outcome::Failed("refused".into());
        let mut b = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            // jitter 1.0: the whole ceiling
            match b.next(&failed, 1.0) {
                Decision::Retry(wait) => ceilings.push(wait.as_millis()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            ceilings,
            [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000, 30000]
        );
        // jitter 0: half the ceiling, never less
        assert_eq!(
            b.next(&failed, 0.0),
            Decision::Retry(Duration::from_secs(15))
        );
        // a healthy session that was lost starts over
        assert_eq!(
            b.next(&Outcome::Lost("restart".into()), 1.0),
            Decision::Retry(Duration::from_millis(200))
        );
        assert_eq!(
            b.next(&failed, 1.0),
            Decision::Retry(Duration::from_millis(400))
        );
        assert_eq!(
            b.next(&Outcome::Fatal("revoked".into()), 0.5),
            Decision::Stop("revoked".into())
        );
    }

    #[test]
    fn how_a_session_ended_decides_what_follows() {
        let closed = |code: u16, reason: &str| End::Closed {
            code,
            reason: reason.into(),
        };
        let kind = |o: Outcome| match o {
            Outcome::Lost(_) => "lost",
            Outcome::Failed(_) => "failed",
            Outcome::Fatal(_) => "fatal",
        };
        for healthy in [false, true] {
            let again = if healthy { "lost" } else { "failed" };
            let cases = [
                (closed(1002, "unsupported protocol version 1"), "fatal"),
                (closed(1008, "agent token revoked"), "fatal"),
                (closed(1007, "malformed message"), "failed"),
                (closed(1009, "frame exceeds the limit"), "failed"),
                (closed(1003, "binary frames are not supported"), "failed"),
                (closed(1000, ""), again),
                (closed(1001, "going away"), again),
                (closed(1011, "internal error"), again),
                (closed(1012, "restarting"), again),
                (closed(1013, "try again later"), again),
                (End::Broken("connection reset".into()), again),
            ];
            for (end, want) in cases {
                assert_eq!(
                    kind(judge(end.clone(), healthy)),
                    want,
                    "{end:?} healthy={healthy}"
                );
            }
        }
        let Outcome::Fatal(why) = judge(closed(1008, "agent token revoked"), true) else {
            unreachable!()
        };
        assert!(
            why.contains("agent token revoked") && why.contains("Agents page"),
            "{why}"
        );
        let Outcome::Failed(why) = judge(closed(1009, "too big"), false) else {
            unreachable!()
        };
        assert!(why.contains("bug"), "{why}");
    }
}
