//! `havip serve`'s single sign-on flags (also `HAVIP_*` variables and `[serve]` keys of the
//! configuration file), checked at start: a mistake stops the console with its reason.

use super::provider::{Provider, ProviderConfig};
use super::state::StateKey;
use super::{Sso, CALLBACK_PATH};
use anyhow::{bail, Context};
use app::domain::sso::{GroupRoles, LocalLogin};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct OidcArgs {
    /// Log in with an OpenID Connect provider: its issuer URL (discovery reads
    /// ISSUER/.well-known/openid-configuration), e.g. https://sso.example.com/realms/corp.
    /// HTTPS, or HTTP on loopback only.
    #[arg(long, env = "HAVIP_OIDC_ISSUER", requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// The console's client ID at the provider.
    #[arg(long, env = "HAVIP_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (a confidential client, as Keycloak and Entra ID
    /// make by default); without it, a public client that proves itself by PKCE alone.
    #[arg(long, env = "HAVIP_OIDC_CLIENT_SECRET_FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Where the provider sends browsers back: this console's URL with the path
    /// /login/sso/callback (register it at the provider). Default: --public-url's.
    #[arg(long, env = "HAVIP_OIDC_REDIRECT_URL", requires = "oidc_issuer")]
    pub oidc_redirect_url: Option<url::Url>,
    /// The provider's name on the login page ("Log in with NAME"). Default: the issuer's
    /// host name.
    #[arg(long, env = "HAVIP_OIDC_NAME")]
    pub oidc_name: Option<String>,
    /// The scopes asked for (space-separated; `openid` is always asked).
    #[arg(
        long,
        env = "HAVIP_OIDC_SCOPES",
        default_value = "openid profile email"
    )]
    pub oidc_scopes: String,
    /// The ID token's claim that lists the person's groups (or roles).
    #[arg(long, env = "HAVIP_OIDC_ROLE_CLAIM", default_value = "groups")]
    pub oidc_role_claim: String,
    /// Members of this group (a value of the role claim) are administrators.
    #[arg(long, env = "HAVIP_OIDC_ADMIN_GROUP")]
    pub oidc_admin_group: Option<String>,
    /// Members of this group are operators (unless also administrators).
    #[arg(long, env = "HAVIP_OIDC_OPERATOR_GROUP")]
    pub oidc_operator_group: Option<String>,
    /// Refuse a person in neither group (instead of letting them in as a viewer).
    #[arg(long, env = "HAVIP_OIDC_REQUIRE_GROUP")]
    pub oidc_require_group: bool,
    /// Who may log in with a local password on the login page: all, admins-only (the
    /// break-glass way in while everyone else uses SSO) or off. `havip user …` on the
    /// command line always works.
    #[arg(long, env = "HAVIP_LOCAL_LOGIN", default_value = "all")]
    pub local_login: LocalLogin,
}

impl OidcArgs {
    /// Single sign-on as the flags configure it (None without `--oidc-issuer`).
    pub fn sso(&self, public_url: Option<&url::Url>, key: [u8; 32]) -> anyhow::Result<Option<Sso>> {
        let Some(issuer_text) = &self.oidc_issuer else {
            if self.local_login == LocalLogin::Off {
                bail!("--local-login off leaves no way to log in: configure single sign-on (--oidc-issuer) first");
            }
            return Ok(None);
        };
        // the issuer exactly as written: discovery compares it with the provider's own, where a
        // trailing `/` counts (some providers' issuers end with one, most do not)
        let issuer_text = issuer_text.trim();
        let issuer = url::Url::parse(issuer_text)
            .with_context(|| format!("--oidc-issuer {issuer_text:?} is not a URL"))?;
        let loopback = issuer.host().is_some_and(|h| match h {
            url::Host::Domain(d) => d == "localhost",
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        });
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            bail!("--oidc-issuer must be an https:// URL (http:// only on loopback): {issuer}");
        }
        let redirect = match (&self.oidc_redirect_url, public_url) {
            (Some(url), _) => url.clone(),
            (None, Some(public)) => public.join(CALLBACK_PATH)?,
            (None, None) => bail!(
                "single sign-on needs --oidc-redirect-url (this console's URL with the path {CALLBACK_PATH}) or --public-url"
            ),
        };
        if redirect.path() != CALLBACK_PATH || redirect.query().is_some() {
            bail!("--oidc-redirect-url must end with the path {CALLBACK_PATH}: {redirect}");
        }
        let secret = match &self.oidc_client_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("reading --oidc-client-secret-file {}", path.display())
                })?;
                let secret = text.trim().to_string();
                if secret.is_empty() {
                    bail!("--oidc-client-secret-file {} is empty", path.display());
                }
                Some(secret)
            }
            None => None,
        };
        let name = self
            .oidc_name
            .clone()
            .unwrap_or_else(|| issuer.host_str().unwrap_or("single sign-on").to_string());
        let mut scopes: Vec<String> = self
            .oidc_scopes
            .split_whitespace()
            .map(String::from)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        let provider = Provider::new(ProviderConfig {
            issuer: issuer_text.to_string(),
            client_id: self.oidc_client_id.clone().unwrap_or_default(),
            secret,
            redirect: redirect.clone(),
            scopes,
            role_claim: self.oidc_role_claim.clone(),
        })?;
        Ok(Some(Sso {
            name,
            provider,
            roles: GroupRoles {
                admin: self.oidc_admin_group.clone(),
                operator: self.oidc_operator_group.clone(),
                require_group: self.oidc_require_group,
            },
            state_key: StateKey::new(key),
            login_page: redirect.join("/login")?,
        }))
    }
}
