use crate::domain::error::ApiError;
use crate::domain::model::Agent;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetChoice {
    pub id: String,
    pub label: String,
}

/// An agent and whether it is connected now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    pub agent: Agent,
    pub connected: bool,
    /// since when connected, or when last disconnected; None: not seen since the console started
    pub since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentsData {
    pub agents: Vec<AgentRow>,
    pub subnets: Vec<SubnetChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAgent {
    pub agent: Agent,
    /// shown once; only its hash is stored
    pub token: String,
}

/// Browsers never see token hashes.
#[cfg(feature = "ssr")]
fn public(mut agent: Agent) -> Agent {
    agent.token_sha256.clear();
    agent
}

#[server]
pub async fn agents_page() -> Result<AgentsData, ApiError> {
    let store = super::store()?;
    let mut subnets = vec![];
    for region in store.regions()? {
        for view in store.network_view(&region.id)? {
            for s in view.subnets {
                subnets.push(SubnetChoice {
                    label: format!(
                        "{} / {} / {} ({})",
                        region.name, view.vpc.name, s.subnet.name, s.subnet.cidr
                    ),
                    id: s.subnet.id,
                });
            }
        }
    }
    Ok(AgentsData {
        agents: store
            .agents()?
            .into_iter()
            .map(|a| {
                let presence = store.presence(&a.id);
                AgentRow {
                    connected: presence.is_some_and(|p| p.connections > 0),
                    since: presence.map(|p| p.since),
                    agent: public(a),
                }
            })
            .collect(),
        subnets,
    })
}

/// `subnet_ids`: comma-separated subnet IDs the agent reports for.
#[server]
pub async fn create_agent(name: String, subnet_ids: String) -> Result<CreatedAgent, ApiError> {
    let ids: Vec<String> = subnet_ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let (agent, token) = super::store()?.create_agent(&name, &ids).await?;
    Ok(CreatedAgent {
        agent: public(agent),
        token,
    })
}

#[server]
pub async fn revoke_agent(id: String) -> Result<Agent, ApiError> {
    super::store()?.revoke_agent(&id).await.map(public)
}
