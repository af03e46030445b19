//! Alerts: what the console tells the outside world when something happens, and the rules that
//! choose who hears what.
//!
//! An `Event` is one thing that happened (a failover, a split brain, an agent going away…). An
//! `AlertRule` names a destination (a webhook URL, or a hook program run with the event on its
//! stdin), the event types it wants and an optional scope; events it matches are delivered to
//! it, at most one per event type and subject within its de-duplication window (the latest of
//! the ones held back follows when the window ends, so the last word is never lost).

use super::error::ApiError;
use super::ids::{AlertId, HavipId, RegionId, SubnetId, VpcId};
use crate::i18n::{m, Coded, Lang, Msg, Text};
use serde::{Deserialize, Serialize};

/// Longest de-duplication window a rule may have (a day).
pub const MAX_DEDUP_S: u32 = 86_400;
/// The window a new rule gets unless it says otherwise.
pub const DEFAULT_DEDUP_S: u32 = 60;
/// Rules the console keeps at most.
pub const MAX_RULES: usize = 100;
/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2_048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "havip.holder.changed")]
    HolderChanged,
    #[serde(rename = "havip.lost")]
    Lost,
    #[serde(rename = "havip.conflict.detected")]
    ConflictDetected,
    #[serde(rename = "havip.conflict.cleared")]
    ConflictCleared,
    #[serde(rename = "havip.unauthorized.claim")]
    UnauthorizedClaim,
    #[serde(rename = "agent.offline")]
    AgentOffline,
    #[serde(rename = "agent.online")]
    AgentOnline,
    #[serde(rename = "host.discovered")]
    HostDiscovered,
    #[serde(rename = "subnet.nearly_full")]
    SubnetNearlyFull,
    /// Sent to one rule on demand ("Send test"), never matched by rules.
    #[serde(rename = "alert.test")]
    Test,
}

impl EventType {
    /// The types a rule can choose, in the order the Alerts page lists them.
    pub const CHOOSABLE: [EventType; 9] = [
        EventType::HolderChanged,
        EventType::Lost,
        EventType::ConflictDetected,
        EventType::ConflictCleared,
        EventType::UnauthorizedClaim,
        EventType::AgentOffline,
        EventType::AgentOnline,
        EventType::HostDiscovered,
        EventType::SubnetNearlyFull,
    ];

    /// The CloudEvents `type`, e.g. `havip.holder.changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::HolderChanged => "havip.holder.changed",
            EventType::Lost => "havip.lost",
            EventType::ConflictDetected => "havip.conflict.detected",
            EventType::ConflictCleared => "havip.conflict.cleared",
            EventType::UnauthorizedClaim => "havip.unauthorized.claim",
            EventType::AgentOffline => "agent.offline",
            EventType::AgentOnline => "agent.online",
            EventType::HostDiscovered => "host.discovered",
            EventType::SubnetNearlyFull => "subnet.nearly_full",
            EventType::Test => "alert.test",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        Self::CHOOSABLE
            .into_iter()
            .chain([EventType::Test])
            .find(|t| t.as_str() == text)
    }

    /// What the Alerts page says about the type (in English).
    pub fn description(self) -> &'static str {
        self.description_msg().text(Lang::En)
    }

    /// What the Alerts page says about the type, for the page's language.
    pub fn description_msg(self) -> Msg {
        use m::alerts as a;
        match self {
            EventType::HolderChanged => a::EVENT_HOLDER_CHANGED,
            EventType::Lost => a::EVENT_LOST,
            EventType::ConflictDetected => a::EVENT_CONFLICT_DETECTED,
            EventType::ConflictCleared => a::EVENT_CONFLICT_CLEARED,
            EventType::UnauthorizedClaim => a::EVENT_UNAUTHORIZED_CLAIM,
            EventType::AgentOffline => a::EVENT_AGENT_OFFLINE,
            EventType::AgentOnline => a::EVENT_AGENT_ONLINE,
            EventType::HostDiscovered => a::EVENT_HOST_DISCOVERED,
            EventType::SubnetNearlyFull => a::EVENT_SUBNET_NEARLY_FULL,
            EventType::Test => a::EVENT_TEST,
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an event happened, or which part of the network a rule listens to (every field
/// optional; a rule's set fields must all match). Agent events carry no scope: they reach
/// every rule that chose their type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<RegionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<VpcId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<SubnetId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub havip_id: Option<HavipId>,
}

impl Scope {
    pub fn is_everything(&self) -> bool {
        *self == Scope::default()
    }

    /// Whether an event at `place` is inside this scope.
    pub fn covers(&self, place: &Scope, event_type: EventType) -> bool {
        if matches!(event_type, EventType::AgentOffline | EventType::AgentOnline) {
            return true;
        }
        fn fits<T: PartialEq>(wanted: &Option<T>, actual: &Option<T>) -> bool {
            wanted.is_none() || wanted == actual
        }
        fits(&self.region_id, &place.region_id)
            && fits(&self.vpc_id, &place.vpc_id)
            && fits(&self.subnet_id, &place.subnet_id)
            && fits(&self.havip_id, &place.havip_id)
    }

    /// "everything", or "VPC vpc-…, subnet subnet-…" (in English).
    pub fn describe(&self) -> String {
        self.describe_in(Lang::En)
    }

    /// `describe` in `lang`, for the pages.
    pub fn describe_in(&self, lang: Lang) -> String {
        use m::alerts as a;
        let parts: Vec<String> = [
            self.region_id
                .as_ref()
                .map(|id| Text::new(a::SCOPE_REGION).arg("id", id)),
            self.vpc_id
                .as_ref()
                .map(|id| Text::new(a::SCOPE_VPC).arg("id", id)),
            self.subnet_id
                .as_ref()
                .map(|id| Text::new(a::SCOPE_SUBNET).arg("id", id)),
            self.havip_id
                .as_ref()
                .map(|id| Text::new(a::SCOPE_HAVIP).arg("id", id)),
        ]
        .into_iter()
        .flatten()
        .map(|text| text.in_lang(lang))
        .collect();
        if parts.is_empty() {
            a::SCOPE_EVERYTHING.text(lang).into()
        } else {
            parts.join(a::SCOPE_SEPARATOR.text(lang))
        }
    }
}

/// One thing that happened. `subject` is what it is about (an HAVIP, agent, subnet or host
/// address); `data` the details (the CloudEvents `data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// its number in the order events are raised (its key in the store's outbox); not sent
    #[serde(default)]
    pub seq: u64,
    pub event_type: EventType,
    /// unix ms
    pub time: u64,
    pub subject: String,
    pub scope: Scope,
    pub data: serde_json::Value,
}

/// An event to deliver to one rule, with how many of its kind were held back before it (see
/// the dispatcher's de-duplication). Kept in the store until its delivery ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    pub event: Event,
    pub suppressed: u32,
}

/// Where a rule's events go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// POSTed as a CloudEvent, signed with the rule's secret.
    Webhook { url: String },
    /// A program in the console's hook directory, run with the event as JSON on its stdin.
    Exec { program: String },
}

impl Target {
    /// "webhook https://…" or "hook NAME" (in English).
    pub fn describe(&self) -> String {
        self.describe_text().to_string()
    }

    /// `describe`, for the page's language.
    pub fn describe_text(&self) -> Text {
        match self {
            Target::Webhook { url } => Text::new(m::alerts::TARGET_WEBHOOK).arg("url", url),
            Target::Exec { program } => Text::new(m::alerts::TARGET_HOOK).arg("program", program),
        }
    }
}

/// What a caller asks for when adding a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAlertRule {
    pub name: String,
    pub target: Target,
    pub events: Vec<EventType>,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default = "default_dedup")]
    pub dedup_s: u32,
}

fn default_dedup() -> u32 {
    DEFAULT_DEDUP_S
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: AlertId,
    pub name: String,
    pub target: Target,
    pub events: Vec<EventType>,
    pub scope: Scope,
    pub dedup_s: u32,
    pub enabled: bool,
    pub created: u64,
}

impl AlertRule {
    /// Whether an event goes to this rule (a test goes to the rule it names only, even a
    /// disabled one).
    pub fn wants(&self, event: &Event) -> bool {
        if event.event_type == EventType::Test {
            return event.subject == self.id.as_str();
        }
        self.enabled
            && self.events.contains(&event.event_type)
            && self.scope.covers(&event.scope, event.event_type)
    }
}

/// One event's delivery to one rule, after its last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: EventType,
    pub subject: String,
    /// when the last attempt ended (unix ms)
    pub at: u64,
    pub attempts: u32,
    pub delivered: bool,
    /// "HTTP 200", "exit status 0", "no answer within 5 s", "cannot connect (gave up)"…, in
    /// English (the log, the API)
    pub outcome: String,
    /// the same by its code, for the Alerts page to say in the reader's language (without "gave
    /// up", which `gave_up` says); none in deliveries logged before outcomes had codes
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_text: Option<Coded>,
    /// the last attempt was worth another, but the attempts ran out
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gave_up: bool,
    /// events of the same type and subject held back by the window before this one
    #[serde(default)]
    pub suppressed: u32,
}

/// A rule with its most recent deliveries, newest first (the Alerts page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub rule: AlertRule,
    pub recent: Vec<Delivery>,
}

/// A rule just added, with the webhook secret that signs its deliveries (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAlert {
    pub rule: AlertRule,
    pub secret: Option<String>,
}

/// A hook program's name: a file directly in the hook directory (no path, no hidden files).
pub fn check_program(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("program", m::errors_alerts::PROGRAM_NAME))
    }
}

/// A webhook URL: absolute http(s) with a host, no credentials in it, at most `MAX_URL_LEN`.
pub fn check_url(url: &str) -> Result<(), ApiError> {
    use m::errors_alerts as e;
    let refuse = |why: Msg| Err(ApiError::invalid("url", why));
    if url.len() > MAX_URL_LEN {
        return refuse(e::URL_TOO_LONG);
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return refuse(e::URL_SCHEME);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return refuse(e::URL_NO_HOST);
    }
    if authority.contains('@') {
        return refuse(e::URL_CREDENTIALS);
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse(e::URL_SPACES);
    }
    Ok(())
}

/// A webhook URL's host against `destinations` (on the server, where they are known): an IP
/// address must be one webhooks may go to, and written as one (`127.1`, `2130706433`,
/// `0x7f.0.0.1` all reach an IPv4 address that could not be checked otherwise). A name is
/// checked when a delivery resolves it.
#[cfg(feature = "ssr")]
pub fn check_url_destination(
    url: &str,
    destinations: &WebhookDestinations,
) -> Result<(), ApiError> {
    let authority = url.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or("")
    });
    if names_ipv4_loosely(authority) {
        return Err(ApiError::invalid("url", m::errors_alerts::URL_LOOSE_IPV4));
    }
    match url_ip(url).and_then(|ip| Some((ip, destinations.refusal(ip)?))) {
        Some((ip, what)) => Err(ApiError::invalid(
            "url",
            Text::new(m::errors_alerts::URL_REFUSED)
                .arg("ip", ip)
                .word("what", what),
        )),
        None => Ok(()),
    }
}

#[cfg(feature = "ssr")]
/// The host part of a URL's authority (`host`, `host:port`, `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split(']').next().unwrap_or(authority);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

#[cfg(feature = "ssr")]
/// A host that HTTP clients read as an IPv4 address (its last label is a number) without
/// being one written in the usual four decimal numbers.
fn names_ipv4_loosely(authority: &str) -> bool {
    let host = host_of(authority);
    if host.starts_with('[') {
        return false; // IPv6
    }
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last
                .strip_prefix("0x")
                .or_else(|| last.strip_prefix("0X"))
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    numeric && host.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(feature = "ssr")]
/// The IP address a webhook URL (accepted by `check_url`) names as its host; `None` for a
/// name, which is checked when a delivery resolves it.
pub fn url_ip(url: &str) -> Option<std::net::IpAddr> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = host_of(rest.split(['/', '?', '#']).next()?);
    host.trim_start_matches('[').parse().ok()
}

#[cfg(feature = "ssr")]
/// Where webhooks may go. Loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, where
/// clouds answer metadata requests; fe80::/10), unspecified (0.0.0.0, ::) addresses and the
/// console's own listen addresses are refused unless `allow_internal`
/// (`havip serve --allow-private-webhooks`); private ranges (10/8, 172.16/12, 192.168/16,
/// fc00::/7) are allowed, receivers often live there. Checked when a rule names an IP address,
/// and on every address a name resolves to when a delivery connects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookDestinations {
    pub allow_internal: bool,
    /// the addresses the console listens on (any port of them is refused)
    pub own: Vec<std::net::IpAddr>,
}

#[cfg(feature = "ssr")]
impl WebhookDestinations {
    /// Every address allowed (`--allow-private-webhooks`).
    pub fn allowing_internal() -> WebhookDestinations {
        WebhookDestinations {
            allow_internal: true,
            own: vec![],
        }
    }

    /// What `ip` is that webhooks may not be sent to it (a word: "a loopback address"); `None`
    /// when they may.
    pub fn refusal(&self, ip: std::net::IpAddr) -> Option<Msg> {
        use m::errors_words as w;
        use std::net::IpAddr;
        if self.allow_internal {
            return None;
        }
        // an IPv4-mapped IPv6 address (::ffff:127.0.0.1) is its IPv4 address
        let ip = ip.to_canonical();
        let link_local = match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_unicast_link_local(),
        };
        if ip.is_loopback() {
            Some(w::LOOPBACK_ADDRESS)
        } else if link_local {
            Some(w::LINK_LOCAL_ADDRESS)
        } else if ip.is_unspecified() {
            Some(w::UNSPECIFIED_ADDRESS)
        } else if self.own.iter().any(|own| own.to_canonical() == ip) {
            Some(w::OWN_ADDRESS)
        } else {
            None
        }
    }
}

/// Every rule of a new alert rule, in the browser and on the server.
pub fn check_rule(new: &NewAlertRule) -> Result<(), ApiError> {
    super::name::check_name(&new.name).map_err(|e| e.refusal("name"))?;
    match &new.target {
        Target::Webhook { url } => check_url(url)?,
        Target::Exec { program } => check_program(program)?,
    }
    if new.events.is_empty() {
        return Err(ApiError::invalid("events", m::errors_alerts::NO_EVENTS));
    }
    if new.events.contains(&EventType::Test) {
        return Err(ApiError::invalid(
            "events",
            m::errors_alerts::TEST_NOT_CHOSEN,
        ));
    }
    if new.dedup_s > MAX_DEDUP_S {
        return Err(ApiError::invalid("dedup_s", m::errors_alerts::DEDUP_MAX));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
