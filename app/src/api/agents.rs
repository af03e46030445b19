use crate::domain::error::ApiError;
use crate::domain::ids::{AgentId, SubnetId};
use crate::domain::model::Agent;
#[cfg(feature = "ssr")]
use crate::domain::pages::{AgentRow, SubnetChoice};
use crate::domain::pages::{AgentsData, CreatedAgent};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Browsers never see token hashes.
#[cfg(feature = "ssr")]
fn public(mut agent: Agent) -> Agent {
    agent.token_sha256.clear();
    agent
}

#[server(endpoint = "agents_page")]
pub async fn agents_page() -> Result<AgentsData, ApiError> {
    let store = super::store(super::roles::role_for("agents_page"))?;
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

/// Registers an agent for the subnets it reports for; its token is in the answer, only now.
#[server(input = Json, endpoint = "create_agent")]
pub async fn create_agent(
    name: String,
    subnet_ids: Vec<SubnetId>,
) -> Result<CreatedAgent, ApiError> {
    let (agent, token) = super::store(super::roles::role_for("create_agent"))?
        .create_agent(&name, &subnet_ids)
        .await?;
    Ok(CreatedAgent {
        agent: public(agent),
        token,
    })
}

#[server(endpoint = "revoke_agent")]
pub async fn revoke_agent(id: AgentId) -> Result<Agent, ApiError> {
    super::store(super::roles::role_for("revoke_agent"))?
        .revoke_agent(&id)
        .await
        .map(public)
}
