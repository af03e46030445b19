//! The VRRP routers agents hear advertising each HAVIP (`domain::vrrp`), in memory: adverts
//! come every second and say only who advertises now, which a restart learns again at once.

use super::{lock, Store};
use crate::domain::error::ApiError;
use crate::domain::ids::HavipId;
use crate::domain::model::Agent;
use crate::domain::vrrp::{Advert, Routers};

impl Store {
    /// An agent heard `advert`: kept for each of the agent's HAVIPs it names. When the routers
    /// that say they are master change (one more, a split brain, one less), the HAVIP's pages
    /// are told.
    pub fn vrrp_heard(&self, agent: &Agent, advert: &Advert) -> Result<(), ApiError> {
        let now = crate::support::now_ms();
        for ip in &advert.addresses {
            let Some(havip_id) = self.havip_for(agent, *ip)? else {
                continue;
            };
            // during a split brain each advert goes to the binding too, which then shows it
            // again if a loss cleared it meanwhile (`rebind` writes nothing when it shows it);
            // the history's cause is said only then
            let (changed, masters, cause) = {
                let mut all = lock(&self.inner.vrrp);
                let routers = all.entry(havip_id.clone()).or_default();
                let changed = routers.heard(advert, now);
                let masters: Vec<_> = routers.master_routers(now).map(|r| r.mac).collect();
                let cause = (changed || masters.len() >= 2).then(|| routers.describe_masters(now));
                (changed, masters, cause)
            };
            if let Some(cause) = cause {
                let rebound =
                    !(self.advertised_masters(agent, &havip_id, &masters, &cause)?).is_empty();
                // the routers shown changed even when the binding did not
                if changed && !rebound {
                    if let Some(havip) = self.havip_if_any(&havip_id)? {
                        self.publish_havip(&havip, false);
                    }
                }
            }
        }
        Ok(())
    }

    /// The routers heard advertising an HAVIP's address, if any.
    pub fn vrrp_routers(&self, id: &HavipId) -> Option<Routers> {
        lock(&self.inner.vrrp).get(id).cloned()
    }
}
