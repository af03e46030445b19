//! What the login page offers: single sign-on (and the provider's name), and who may log in
//! with a local password. Public: it is asked before anyone is logged in, and says nothing an
//! outsider could not read on the login page itself.

use crate::domain::error::ApiError;
use crate::domain::sso::LoginOptions;
use leptos::prelude::*;

#[server(endpoint = "login_options")]
pub async fn login_offers() -> Result<LoginOptions, ApiError> {
    // the server puts its configuration in every request's context
    Ok(use_context::<LoginOptions>().unwrap_or_default())
}
