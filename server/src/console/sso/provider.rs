//! The OpenID provider as the console talks to it, with the `openidconnect` crate: discovery
//! (`.well-known/openid-configuration` and the JWKS, read again at most every `FRESH` and when
//! an ID token names a key the console has not seen), the authorization request (code flow,
//! PKCE S256, `state`, `nonce`), the code's exchange, and the ID token's checks: signature,
//! `iss`, `aud` (and `azp`), `exp`, `iat` and `nonce`.

use super::state::LoginState;
use app::i18n::{m, Text};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IssuerUrl, JsonWebKeySet,
    LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use std::time::{Duration, Instant};

/// Discovery is read again when older than this: a provider that went down is noticed at the
/// next login click, and a flood of clicks costs the provider one request each `FRESH`.
pub const FRESH: Duration = Duration::from_secs(2);
/// How long the provider has to answer one request.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How far the provider's clock may be from ours, and how old an ID token may be (`iat`).
const SKEW_S: u64 = 5 * 60;
const TOKEN_AGE_S: u64 = 10 * 60;

/// Every claim of an ID token besides the standard ones (the role claim is among them).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

/// The client as discovery makes it: an authorization endpoint always, the token and userinfo
/// endpoints if the provider names them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type FullIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// What a checked ID token says of the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub issuer: String,
    pub subject: String,
    /// `preferred_username`, then `email`: the user name's source at a first login
    pub name_hints: Vec<String>,
    /// the role claim's values
    pub groups: Vec<String>,
}

/// Why a login did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// the provider could not be reached, or answered nonsense
    Unreachable(String),
    /// the provider or its answer was refused: (what the audit log and the person are told)
    Refused(Text),
}

pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    role_claim: String,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<(ProviderMetadataWithLogout, Instant)>>,
    /// the origins the browser is sent to (see `origins`), as of the last discovery
    origins: std::sync::Mutex<Vec<String>>,
    /// when an unknown key last made the console read the keys again
    keys_read_for_unknown: std::sync::Mutex<Option<Instant>>,
}

pub struct ProviderConfig {
    /// as the operator wrote it (checked to be a URL)
    pub issuer: String,
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect: url::Url,
    pub scopes: Vec<String>,
    pub role_claim: String,
}

impl Provider {
    pub fn new(config: ProviderConfig) -> anyhow::Result<Provider> {
        let http = reqwest::Client::builder()
            // a provider's answer never sends the console elsewhere (no SSRF through it)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .build()?;
        Ok(Provider {
            // the issuer exactly as written: a trailing `/` is significant
            issuer: IssuerUrl::new(config.issuer.clone())?,
            client_id: ClientId::new(config.client_id),
            secret: config.secret.map(ClientSecret::new),
            redirect: RedirectUrl::from_url(config.redirect),
            scopes: config.scopes,
            role_claim: config.role_claim,
            http,
            cached: tokio::sync::Mutex::new(None),
            origins: std::sync::Mutex::new(vec![origin(&config.issuer)]),
            keys_read_for_unknown: std::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata, read again when older than `fresh`. One request at a time:
    /// a flood of logins waits for the one under way.
    async fn metadata(&self, fresh: Duration) -> Result<ProviderMetadataWithLogout, Failure> {
        let mut cached = self.cached.lock().await;
        if let Some((metadata, at)) = cached.as_ref() {
            if at.elapsed() < fresh {
                return Ok(metadata.clone());
            }
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| Failure::Unreachable(explain(&e)))?;
        *cached = Some((metadata.clone(), Instant::now()));
        let mut origins = vec![
            origin(self.issuer.as_str()),
            origin(metadata.authorization_endpoint().as_str()),
        ];
        if let Some(end) = &metadata.additional_metadata().end_session_endpoint {
            origins.push(origin(end.as_str()));
        }
        origins.sort();
        origins.dedup();
        *app::support::lock(&self.origins) = origins;
        Ok(metadata)
    }

    /// The metadata read last, if any (without asking the provider).
    pub async fn known_metadata(&self) -> Option<ProviderMetadataWithLogout> {
        self.cached.lock().await.as_ref().map(|(m, _)| m.clone())
    }

    /// Reads the metadata now (at start, so that the pages' policy knows the provider's
    /// addresses before the first login).
    pub async fn discover(&self) -> Result<(), Failure> {
        self.metadata(Duration::ZERO).await.map(drop)
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> Client {
        CoreClient::from_provider_metadata(metadata, self.client_id.clone(), self.secret.clone())
            .set_redirect_uri(self.redirect.clone())
    }

    /// Where to send the browser to log in, and what it must bring back.
    pub async fn start(&self, next: String, now_s: u64) -> Result<(url::Url, LoginState), Failure> {
        let client = self.client(self.metadata(FRESH).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let state = LoginState {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            until: now_s + super::state::LIFETIME_S,
        };
        Ok((url, state))
    }

    /// Exchanges `code` and checks the ID token it brings against `login`.
    pub async fn finish(&self, code: String, login: &LoginState) -> Result<Person, Failure> {
        let metadata = match self.known_metadata().await {
            Some(metadata) => metadata,
            None => self.metadata(FRESH).await?,
        };
        let client = self.client(metadata);
        let exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Failure::Unreachable(format!("it names no token endpoint ({e})")))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()));
        let answer = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(e) => Failure::Refused(
                    Text::new(m::errors_sso::CODE_REFUSED).arg("reason", e.error()),
                ),
                other => Failure::Unreachable(explain(&other)),
            })?;
        // the access token is not used: the ID token says who logged in
        let raw = answer
            .id_token()
            .ok_or_else(|| Failure::Refused(m::errors_sso::NO_ID_TOKEN.into()))?
            .to_string();
        let token: FullIdToken = raw
            .parse()
            .map_err(|_| Failure::Refused(m::errors_sso::ID_TOKEN_UNREADABLE.into()))?;
        let nonce = Nonce::new(login.nonce.clone());
        match self.check(&client, &token, &nonce) {
            // a key the console has not seen: the provider may have rotated its keys
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let client = self.client(self.with_fresh_keys().await?);
                self.check(&client, &token, &nonce).map_err(refused)
            }
            other => other.map_err(refused),
        }
    }

    /// The metadata with the provider's keys read again, for an ID token signed with a key
    /// the console has not seen: at most once per `FRESH` (tokens naming made-up keys cost
    /// the provider no more).
    async fn with_fresh_keys(&self) -> Result<ProviderMetadataWithLogout, Failure> {
        let mut cached = self.cached.lock().await;
        let Some((metadata, _)) = cached.as_mut() else {
            drop(cached);
            return self.metadata(Duration::ZERO).await;
        };
        let due = {
            let mut last = app::support::lock(&self.keys_read_for_unknown);
            let due = last.is_none_or(|at| at.elapsed() >= FRESH);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
                .await
                .map_err(|e| Failure::Unreachable(explain(&e)))?;
            *metadata = metadata.clone().set_jwks(keys);
        }
        Ok(metadata.clone())
    }

    fn check(
        &self,
        client: &Client,
        token: &FullIdToken,
        nonce: &Nonce,
    ) -> Result<Person, ClaimsVerificationError> {
        let now = app::support::now_ms() / 1000;
        let verifier = client
            .id_token_verifier()
            .set_issue_time_verifier_fn(move |iat| {
                let iat = u64::try_from(iat.timestamp()).unwrap_or(0);
                if iat > now + SKEW_S {
                    Err(format!("issued in the future ({iat}, now {now})"))
                } else if iat + TOKEN_AGE_S + SKEW_S < now {
                    Err(format!("issued too long ago ({iat}, now {now})"))
                } else {
                    Ok(())
                }
            });
        let claims = token.claims(&verifier, nonce)?;
        let mut name_hints = vec![];
        if let Some(name) = claims.preferred_username() {
            name_hints.push(name.to_string());
        }
        if let Some(email) = claims.email() {
            name_hints.push(email.to_string());
        }
        Ok(Person {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            name_hints,
            groups: groups(claims.additional_claims().0.get(&self.role_claim)),
        })
    }

    /// Where to send a browser to end its session at the provider too, if the provider
    /// offers that (`end_session_endpoint`); it comes back to `back_to`.
    pub async fn end_session_url(&self, back_to: url::Url) -> Option<url::Url> {
        let metadata = match self.known_metadata().await {
            Some(metadata) => metadata,
            None => self.metadata(FRESH).await.ok()?,
        };
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_client_id(self.client_id.clone())
                .set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(back_to))
                .http_get_url(),
        )
    }

    /// The origins the browser is sent to (for the pages' `form-action`): the issuer's, and
    /// those of the endpoints discovery named.
    pub fn origins(&self) -> Vec<String> {
        app::support::lock(&self.origins).clone()
    }
}

fn origin(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization())
}

/// The role claim's values: a list of strings, or one string.
fn groups(claim: Option<&serde_json::Value>) -> Vec<String> {
    match claim {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => vec![],
    }
}

/// A refused ID token, as the person is told.
fn refused(e: ClaimsVerificationError) -> Failure {
    use m::errors_sso as why;
    let why = match &e {
        ClaimsVerificationError::Expired(_) => why::TOKEN_EXPIRED,
        ClaimsVerificationError::InvalidAudience(_) => why::TOKEN_AUDIENCE,
        ClaimsVerificationError::InvalidIssuer(_) => why::TOKEN_ISSUER,
        ClaimsVerificationError::InvalidNonce(_) => why::TOKEN_NONCE,
        ClaimsVerificationError::SignatureVerification(_) => why::TOKEN_SIGNATURE,
        ClaimsVerificationError::Other(text) if text.contains("issue") => why::TOKEN_ISSUED_AT,
        _ => why::TOKEN_CHECKS,
    };
    tracing::info!("ID token refused: {e}");
    Failure::Refused(why.into())
}

/// An error and its causes, one line (the provider's address is in it, never a secret).
fn explain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_claim_is_a_list_or_one_value() {
        let list = serde_json::json!(["a", "b", 3]);
        assert_eq!(groups(Some(&list)), vec!["a", "b"]);
        assert_eq!(groups(Some(&serde_json::json!("admins"))), vec!["admins"]);
        assert!(groups(Some(&serde_json::json!({"a": 1}))).is_empty());
        assert!(groups(None).is_empty());
    }
}
