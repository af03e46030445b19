use crate::domain::error::ApiError;
use crate::domain::ids::{EipId, HavipId};
use crate::domain::model::{Eip, Havip};
#[cfg(feature = "ssr")]
use crate::domain::pages::EipRow;
use crate::domain::pages::EipsData;
use leptos::prelude::*;

#[server(endpoint = "eips_page")]
pub async fn eips_page() -> Result<EipsData, ApiError> {
    let store = super::store(super::roles::role_for("eips_page"))?;
    let eips = store
        .eips()?
        .into_iter()
        .map(|eip| EipRow {
            havip_name: eip
                .havip_id
                .as_ref()
                .and_then(|h| store.havip(h).ok())
                .map(|h| h.name),
            eip,
        })
        .collect();
    Ok(EipsData {
        pool: store.config().eip_pool.to_string(),
        eips,
    })
}

#[server(endpoint = "allocate_eip")]
pub async fn allocate_eip() -> Result<Eip, ApiError> {
    super::store(super::roles::role_for("allocate_eip"))?
        .allocate_eip()
        .await
}

#[server(endpoint = "release_eip")]
pub async fn release_eip(id: EipId) -> Result<Eip, ApiError> {
    super::store(super::roles::role_for("release_eip"))?
        .release_eip(&id)
        .await
}

#[server(endpoint = "bind_eip")]
pub async fn bind_eip(eip_id: EipId, havip_id: HavipId) -> Result<Havip, ApiError> {
    super::store(super::roles::role_for("bind_eip"))?
        .bind_eip(&eip_id, &havip_id)
        .await
}

#[server(endpoint = "unbind_eip")]
pub async fn unbind_eip(eip_id: EipId) -> Result<Eip, ApiError> {
    super::store(super::roles::role_for("unbind_eip"))?
        .unbind_eip(&eip_id)
        .await
}

/// Allocates a new EIP and binds it to the HAVIP in one step (released again if binding fails).
#[server(endpoint = "bind_new_eip")]
pub async fn bind_new_eip(havip_id: HavipId) -> Result<Havip, ApiError> {
    let store = super::store(super::roles::role_for("bind_new_eip"))?;
    store.havip(&havip_id)?;
    let eip = store.allocate_eip().await?;
    match store.bind_eip(&eip.id, &havip_id).await {
        Ok(h) => Ok(h),
        Err(e) => {
            let _ = store.release_eip(&eip.id).await;
            Err(e)
        }
    }
}

/// Unbinds whatever EIP the HAVIP has.
#[server(endpoint = "unbind_havip_eip")]
pub async fn unbind_havip_eip(havip_id: HavipId) -> Result<Eip, ApiError> {
    let store = super::store(super::roles::role_for("unbind_havip_eip"))?;
    let havip = store.havip(&havip_id)?;
    let eip = store
        .eips()?
        .into_iter()
        .find(|e| e.havip_id.as_ref() == Some(&havip.id))
        .ok_or_else(|| {
            let text = crate::i18n::Text::new(crate::i18n::m::errors_api::HAVIP_NO_EIP);
            ApiError::conflict(text.arg("havip", &havip.id))
        })?;
    store.unbind_eip(&eip.id).await
}
