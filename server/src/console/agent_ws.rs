//! The server's end of the agent protocol: `/agent/ws`.

use crate::agent::protocol::{
    self, AgentMessage, CloseReason, Liveness, ServerMessage, PROTOCOL_VERSION,
};
use crate::console::refusal::Refusal;
use app::domain::binding::Observation;
use app::domain::error::ApiError;
use app::domain::model::Agent;
use app::store::{Store, StoreChange};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Authenticates the upgrade request before any message is read.
pub async fn upgrade(
    State(store): State<Store>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        let missing = app::i18n::m::errors_console::AGENT_NO_CREDENTIALS;
        return Refusal(ApiError::unauthorized(missing)).into_response();
    };
    let agent = match store.agent_by_token(token) {
        Ok(Some(agent)) => agent,
        Ok(None) => {
            let invalid = app::i18n::m::errors_console::AGENT_BAD_TOKEN;
            return Refusal(ApiError::unauthorized(invalid)).into_response();
        }
        Err(e) => return Refusal(e).into_response(),
    };
    // credentials first, then the protocol: an outsider learns nothing about the endpoint
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return Refusal(ApiError::malformed(e.body_text())).into_response(),
    };
    // frames up to four times our own limit still reach `protocol::decode`, which closes with
    // a reason; past that the websocket library stops reading (and the connection ends)
    ws.max_message_size(protocol::LIBRARY_LIMIT_BYTES)
        .max_frame_size(protocol::LIBRARY_LIMIT_BYTES)
        .on_upgrade(move |socket| session(socket, store, agent, Liveness::default()))
}

/// Sends one message; an agent that stopped reading gets 10 s, then the session ends.
async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> bool {
    let text = serde_json::to_string(msg).expect("server messages serialize");
    let sent = socket.send(Message::Text(text.into()));
    matches!(
        tokio::time::timeout(Duration::from_secs(10), sent).await,
        Ok(Ok(()))
    )
}

async fn close(mut socket: WebSocket, refusal: CloseReason) {
    tracing::info!(
        code = refusal.code,
        "agent connection closed: {}",
        refusal.reason
    );
    let frame = CloseFrame {
        code: refusal.code,
        reason: refusal.reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// One agent's connection. Pings the agent every `liveness.ping` and hangs up when nothing at
/// all (Pong included) has arrived for `liveness.idle`: an agent behind a half-open connection
/// stops counting as connected, and its HAVIPs stop counting as watched.
pub(crate) async fn session(mut socket: WebSocket, store: Store, agent: Agent, liveness: Liveness) {
    let _open = store.socket_opened();
    let mut changes = store.subscribe();
    let mut said_hello = false;
    // the agent counts as connected from its hello until this session ends, however it ends
    let mut _connected = None;
    let mut watching = Vec::new();
    let mut heard = Instant::now();
    let rate = std::num::NonZeroU32::new(protocol::MAX_MESSAGES_PER_S).expect("not zero");
    let limiter = governor::RateLimiter::direct(governor::Quota::per_second(rate));
    let mut warned: Option<Instant> = None;
    let mut pings = tokio::time::interval_at(heard + liveness.ping, liveness.ping);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            frame = socket.recv() => {
                heard = Instant::now();
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => return close(socket, CloseReason::binary()).await,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Err(e)) => {
                        tracing::info!(agent = ?agent.name, "connection error: {e}");
                        return;
                    }
                };
                let msg = match protocol::decode(&text, said_hello) {
                    Ok(msg) => msg,
                    Err(refusal) => return close(socket, refusal).await,
                };
                if limiter.check().is_err() {
                    if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                        warned = Some(Instant::now());
                        tracing::warn!(agent = ?agent.name, "sends over {} messages/s; reading it more slowly", protocol::MAX_MESSAGES_PER_S);
                    }
                    limiter.until_ready().await;
                }
                if let Err(e) = handle(&store, &agent, msg.clone()) {
                    tracing::warn!(agent = ?agent.name, "{e}");
                }
                if matches!(msg, AgentMessage::Hello { .. }) {
                    said_hello = true;
                    _connected.get_or_insert_with(|| store.agent_connected(&agent));
                    let welcome = ServerMessage::Welcome { version: PROTOCOL_VERSION, agent: agent.name.clone() };
                    if !send(&mut socket, &welcome).await || !send_watch(&mut socket, &store, &agent, &mut watching).await {
                        return;
                    }
                }
            }
            change = changes.recv() => match change {
                // only a new or deleted HAVIP of its subnets changes what an agent watches (not
                // a binding change, which happens on every failover)
                Ok(StoreChange::HavipCreated { subnet_id, .. } | StoreChange::HavipDeleted { subnet_id, .. })
                    if !agent.subnet_ids.contains(&subnet_id) => {}
                Ok(StoreChange::HavipCreated { .. } | StoreChange::HavipDeleted { .. } | StoreChange::Resync) | Err(RecvError::Lagged(_)) => {
                    if said_hello && !send_watch(&mut socket, &store, &agent, &mut watching).await {
                        return;
                    }
                }
                Ok(StoreChange::Havip { .. }) => {}
                Ok(StoreChange::Agents) => {
                    // revoked while connected: hang up
                    if store.agent(&agent.id).map(|a| a.revoked).unwrap_or(true) {
                        return close(socket, CloseReason { code: 1008, reason: "agent token revoked".into() }).await;
                    }
                }
                Ok(StoreChange::Network { .. } | StoreChange::Instances { .. } | StoreChange::Eips | StoreChange::Users | StoreChange::Alerts) => {}
                Err(RecvError::Closed) => return,
            },
            _ = store.closing() => {
                let refusal = CloseReason { code: 1001, reason: "the console is shutting down; reconnect shortly".into() };
                let _ = tokio::time::timeout(Duration::from_secs(1), close(socket, refusal)).await;
                return;
            }
            _ = pings.tick() => {
                // bounded: an agent that stopped reading must not hold this loop in a send
                let ping = socket.send(Message::Ping(Default::default()));
                if !matches!(tokio::time::timeout(liveness.idle, ping).await, Ok(Ok(()))) {
                    tracing::info!(agent = ?agent.name, "connection lost (ping failed)");
                    return;
                }
            }
            _ = tokio::time::sleep_until(heard + liveness.idle) => {
                let idle = liveness.idle.as_secs_f32();
                let reason = format!("nothing heard from the agent for {idle} s");
                tracing::info!(agent = ?agent.name, "{reason}; hanging up");
                // a last word for an agent that is merely slow; a vanished one never reads it
                let refusal = CloseReason { code: 1001, reason };
                let _ = tokio::time::timeout(Duration::from_secs(1), close(socket, refusal)).await;
                return;
            }
        }
    }
}

/// Sends the watch list when it differs from what the agent has.
async fn send_watch(
    socket: &mut WebSocket,
    store: &Store,
    agent: &Agent,
    watching: &mut Vec<std::net::Ipv4Addr>,
) -> bool {
    let Ok(ips) = store.watch_list(agent) else {
        return true;
    };
    if ips == *watching && !watching.is_empty() {
        return true;
    }
    *watching = ips.clone();
    send(socket, &ServerMessage::Watch { ips }).await
}

fn handle(
    store: &Store,
    agent: &Agent,
    msg: AgentMessage,
) -> Result<(), app::domain::error::ApiError> {
    match msg {
        AgentMessage::Hello { interface, mac, .. } => {
            tracing::info!(agent = ?agent.name, "connected ({interface:?}, {mac})");
        }
        AgentMessage::Observe { ip, observation } => {
            store.observe(agent, ip, observation)?;
        }
        AgentMessage::Snapshot { holders } => {
            for holder in holders {
                for mac in holder.macs {
                    store.observe(agent, holder.ip, Observation::ProbeReply { mac })?;
                }
            }
        }
        AgentMessage::Station { ip, mac } => store.record_station(agent, ip, mac)?,
        AgentMessage::Advert { advert } => store.vrrp_heard(agent, &advert)?,
    }
    Ok(())
}
