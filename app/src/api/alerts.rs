//! Alert rules (admins only): list them with their latest deliveries, add, enable or disable,
//! delete, and send a test event to one.

use crate::domain::alerts::{AlertRow, CreatedAlert, NewAlertRule, Scope};
use crate::domain::error::ApiError;
use crate::domain::ids::AlertId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Deliveries the Alerts page shows per rule.
pub const RECENT_DELIVERIES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsView {
    pub rows: Vec<AlertRow>,
    /// whether the console was started with a hook directory
    pub hooks_enabled: bool,
    /// what a rule may listen to: everything, a region, VPC, subnet or HAVIP
    pub places: Vec<Place>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub label: String,
    pub scope: Scope,
}

/// Every region, VPC, subnet and HAVIP, nested in that order.
#[cfg(feature = "ssr")]
fn places(store: &crate::store::Store) -> Result<Vec<Place>, ApiError> {
    let mut places = vec![Place {
        label: "Everything".into(),
        scope: Scope::default(),
    }];
    let havips = store.havips()?;
    for region in store.regions()? {
        let at_region = Scope {
            region_id: Some(region.id.clone()),
            ..Scope::default()
        };
        places.push(Place {
            label: format!("Region {}", region.name),
            scope: at_region.clone(),
        });
        for view in store.network_view(&region.id)? {
            let at_vpc = Scope {
                vpc_id: Some(view.vpc.id.clone()),
                ..at_region.clone()
            };
            places.push(Place {
                label: format!("VPC {} ({})", view.vpc.name, view.vpc.cidr),
                scope: at_vpc.clone(),
            });
            for s in view.subnets {
                let at_subnet = Scope {
                    subnet_id: Some(s.subnet.id.clone()),
                    ..at_vpc.clone()
                };
                places.push(Place {
                    label: format!("Subnet {} ({})", s.subnet.name, s.subnet.cidr),
                    scope: at_subnet.clone(),
                });
                for h in havips.iter().filter(|h| h.subnet_id == s.subnet.id) {
                    places.push(Place {
                        label: format!("HAVIP {} ({})", h.name, h.ip),
                        scope: Scope {
                            havip_id: Some(h.id.clone()),
                            ..at_subnet.clone()
                        },
                    });
                }
            }
        }
    }
    Ok(places)
}

#[server(endpoint = "alerts_page")]
pub async fn alerts_page() -> Result<AlertsView, ApiError> {
    let store = super::store(super::roles::role_for("alerts_page"))?;
    Ok(AlertsView {
        rows: store.alert_rows(RECENT_DELIVERIES)?,
        hooks_enabled: store.hooks_enabled(),
        places: places(&store)?,
    })
}

/// Adds a rule; a webhook's signing secret is in this answer only.
#[server(endpoint = "create_alert", input = leptos::server_fn::codec::Json)]
pub async fn create_alert(rule: NewAlertRule) -> Result<CreatedAlert, ApiError> {
    super::store(super::roles::role_for("create_alert"))?
        .create_alert(rule)
        .await
}

#[server(endpoint = "set_alert_enabled")]
pub async fn set_alert_enabled(id: AlertId, enabled: bool) -> Result<(), ApiError> {
    let store = super::store(super::roles::role_for("set_alert_enabled"))?;
    store.set_alert_enabled(&id, enabled).await.map(|_| ())
}

#[server(endpoint = "delete_alert")]
pub async fn delete_alert(id: AlertId) -> Result<(), ApiError> {
    super::store(super::roles::role_for("delete_alert"))?
        .delete_alert(&id)
        .await
}

/// Sends an `alert.test` event to one rule (enabled or not); its delivery shows in the log.
#[server(endpoint = "test_alert")]
pub async fn test_alert(id: AlertId) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("test_alert"))?;
    store.test_alert(&id, &me.user)
}
