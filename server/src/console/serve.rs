//! `havip serve`: the console's HTTP server (SSR pages, server functions, the live websocket).

use crate::console::access::Access;
use anyhow::Context;
use app::store::{Store, StoreConfig};
use app::{shell, App};
use axum::http::header;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address the console listens on.
    #[arg(long, env = "HAVIP_LISTEN", default_value_t = crate::command::default_listen())]
    pub listen: SocketAddr,
    /// Directory of the embedded database (created and seeded on first start).
    #[command(flatten)]
    pub data: crate::cli::DataDir,
    /// Also accept agents on this Unix socket (it crosses network namespaces; agents use
    /// `--server unix:PATH`).
    #[arg(long, env = "HAVIP_AGENT_SOCKET")]
    pub agent_socket: Option<PathBuf>,
    /// Public address pool EIPs are allocated from.
    #[arg(long, env = "HAVIP_EIP_POOL", default_value = app::store::DEFAULT_EIP_POOL)]
    pub eip_pool: ipnet::Ipv4Net,
    /// Maximum number of HAVIPs per VPC.
    #[arg(long, env = "HAVIP_QUOTA", default_value_t = app::domain::DEFAULT_HAVIP_QUOTA_PER_VPC)]
    pub quota: u32,
    /// History events kept per HAVIP (older ones are dropped).
    #[arg(long, env = "HAVIP_HISTORY_LIMIT", default_value_t = app::store::DEFAULT_HISTORY_LIMIT)]
    pub history_limit: u64,
    /// Audit records kept (older ones are dropped).
    #[arg(long, env = "HAVIP_AUDIT_LIMIT", default_value_t = app::store::DEFAULT_AUDIT_LIMIT)]
    pub audit_limit: u64,
    /// Refuse changes ("storage full", HTTP 507) while less than this many MiB are free where
    /// the data is: the database is never left half-written by a full disk.
    #[arg(long, env = "HAVIP_MIN_FREE_MB", default_value_t = app::store::DEFAULT_MIN_FREE_BYTES / (1024 * 1024))]
    pub min_free_mb: u64,
    /// Serve HTTPS and WSS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "HAVIP_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "HAVIP_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also answer the Tencent Cloud API 3.0 compatible API (signed with API keys) on this
    /// address (over TLS too when --tls-cert is given).
    #[arg(long, env = "HAVIP_API_LISTEN")]
    pub api_listen: Option<SocketAddr>,
    /// Requests per second each API key may make per action.
    #[arg(long, env = "HAVIP_API_RATE", default_value_t = crate::tcapi::DEFAULT_RATE)]
    pub api_rate: u32,
    /// Alert rules may run hook programs from this directory (only those, by file name; the
    /// event is on their stdin). Without it, hooks are off.
    #[arg(long, env = "HAVIP_HOOK_DIR")]
    pub hook_dir: Option<PathBuf>,
    /// `subnet.nearly_full` is raised when this percentage of a subnet's addresses is in use.
    #[arg(long, env = "HAVIP_SUBNET_FULL_PERCENT", default_value_t = app::store::DEFAULT_SUBNET_FULL_PERCENT,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub subnet_full_percent: u8,
    /// `GET /metrics` also answers `Authorization: Bearer TOKEN` with this token (at least 16
    /// characters), for a Prometheus without a session or API key. Prefer the environment
    /// variable: a flag shows in the process list.
    #[arg(long, env = "HAVIP_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// The URL browsers open the console at (e.g. https://havip.example.com). Its host name is
    /// the one name, besides IP addresses and localhost, the console answers to: any other
    /// `Host` is refused (421), against DNS rebinding.
    #[arg(long, env = "HAVIP_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// Reverse proxies (addresses or CIDRs, comma-separated) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed: the client's address (for the login back-off and the
    /// audit log) and whether it used HTTPS (secure cookies, the https origin).
    #[arg(long, env = "HAVIP_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxy: Vec<ipnet::IpNet>,
    /// Let webhooks go to loopback, link-local (cloud metadata), unspecified addresses and
    /// the console's own; refused otherwise. Private ranges are always allowed.
    #[arg(long, env = "HAVIP_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,
    /// Connections open at once, per listening address (websockets included); past it a new
    /// connection is refused at once (HTTP 503 with `Retry-After: 1`; over TLS, closed).
    #[arg(long, env = "HAVIP_MAX_CONNECTIONS", default_value_t = crate::console::listener::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Single sign-on with an OpenID Connect provider, and local logins.
    #[command(flatten)]
    pub logins: crate::console::sso::OidcArgs,
}

/// An address or a CIDR: `10.0.0.5` is `10.0.0.5/32`.
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a CIDR"))
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // a certificate that cannot be used is refused before anything else happens
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(crate::tls::server_config(cert, key).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let store = Store::open(
        &args.data.dir,
        StoreConfig {
            havip_quota_per_vpc: args.quota,
            eip_pool: args.eip_pool,
            history_limit: args.history_limit.max(1),
            audit_limit: args.audit_limit.max(1),
            min_free_bytes: args.min_free_mb * 1024 * 1024,
            hook_dir: args.hook_dir.clone(),
            subnet_full_percent: args.subnet_full_percent,
            webhooks: app::domain::alerts::WebhookDestinations {
                allow_internal: args.allow_private_webhooks,
                own: [Some(args.listen), args.api_listen]
                    .iter()
                    .flatten()
                    .map(|a| a.ip())
                    .collect(),
            },
            place: args.data.place()?,
            secret_key_file: args.data.secret_key_file.clone(),
            ..Default::default()
        },
    )
    .map_err(|e| anyhow::anyhow!(e.explain(&args.data.dir)))?;
    if args.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
        anyhow::bail!("--metrics-token must be at least 16 characters");
    }
    let sso = (args.logins).sso(
        args.public_url.as_ref(),
        store.derived_key("sso login state"),
    )?;
    let (access, setup_code) =
        Access::new(store.clone(), tls.is_some()).map_err(|e| anyhow::anyhow!(e.message))?;
    let access = access
        .with_logins(sso, args.logins.local_login)
        .with_metrics_token(args.metrics_token.clone())
        .with_public_url(args.public_url.as_ref())
        .with_trusted_proxies(args.trusted_proxy.clone());
    if let Some(path) = &args.agent_socket {
        let _ = std::fs::remove_file(path);
        let unix = tokio::net::UnixListener::bind(path)
            .with_context(|| format!("cannot listen on {}", path.display()))?;
        crate::logs::announce!("agents also accepted on unix:{}", path.display());
        let agents = agent_router(store.clone());
        tokio::spawn(async move { axum::serve(unix, agents.into_make_service()).await });
    }
    if let Some(sso) = &access.sso {
        sso.discover_in_background();
        crate::logs::announce!("single sign-on with {}", sso.name);
    }
    tokio::spawn(crate::console::work_done_once::run(store.clone()));
    tokio::spawn(give_back_memory_now_and_then());
    if !crate::console::assets::has_site() {
        // a binary from `cargo build` / `cargo leptos build` run outside the repository
        tracing::warn!(
            "this binary has no web site embedded and ./target/site is missing: pages will load without their scripts; build with `make build` (the `embed` feature)"
        );
    }
    // without the socket (e.g. a data directory path too long for one) the console still
    // serves; backups then need it stopped
    if let Err(e) = crate::console::backup_socket::serve(store.clone(), &args.data.dir).await {
        tracing::warn!("online backups are off: {e}");
    }
    // SIGTERM or Ctrl-C: websockets close with "going away", the listeners stop accepting,
    // requests in flight finish (at most GRACE), then everything is flushed and we exit 0
    let signalled = shutdown_signal().context("listening for SIGTERM")?;
    tokio::spawn({
        let store = store.clone();
        async move {
            signalled.await;
            crate::logs::announce!(
                "shutting down: finishing requests in flight (at most {} s)",
                crate::console::listener::GRACE.as_secs()
            );
            store.begin_shutdown();
        }
    });
    let limits = crate::console::listener::Limits {
        max_connections: args.max_connections,
        ..Default::default()
    };
    let closing = |store: &Store| {
        let store = store.clone();
        async move { store.closing().await }
    };
    if let Some(addr) = args.api_listen {
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr} (--api-listen)"))?;
        let api = crate::tcapi::router(crate::tcapi::TcApi::new(store.clone(), args.api_rate));
        crate::logs::announce!("Tencent Cloud API 3.0 compatible endpoint on {scheme}://{addr}");
        if let Some(warning) = crate::tcapi::exposure_warning(addr, tls.is_some()) {
            tracing::warn!("{warning}");
        }
        let (tls, limits) = (tls.clone(), limits.clone());
        let closing = closing(&store);
        tokio::spawn(async move {
            if let Err(e) =
                crate::console::listener::serve(listener, api, tls, limits, closing).await
            {
                tracing::error!("the API endpoint stopped: {e}");
            }
        });
    }
    let app = router(store.clone(), args.listen, access);
    let listener = std::net::TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    crate::logs::announce!(
        "havip console on {scheme}://{} (data in {})",
        args.listen,
        args.data.dir.display()
    );
    // printed once the address answers, so the link works at once
    if let Some(code) = setup_code {
        // the first visitor must prove access to this log (as Grafana and Jenkins do)
        crate::logs::announce!(
            "no user yet: open {scheme}://{}/setup and enter the set-up code {code} to create the first administrator (or run `havip user add NAME --role admin`)",
            args.listen
        );
    }
    let served = crate::console::listener::serve(listener, app, tls, limits, closing(&store)).await;
    if !store
        .sockets_closed(std::time::Duration::from_secs(2))
        .await
    {
        tracing::warn!("some websockets did not close in 2 s; stopping anyway");
    }
    store
        .shut_down_cleanly()
        .map_err(|e| anyhow::anyhow!("flushing the database: {}", e.message))?;
    crate::logs::announce!("havip console stopped");
    served.map_err(anyhow::Error::msg)
}

/// Returns freed memory to the system every few seconds. After bursts of requests (lists sorted
/// or searched across 50,000 HAVIPs, hundreds of pages) glibc kept 10–25 MiB more resident than
/// the console used, until something trimmed it; 6 s later it is back (70.8 → 58.0 MiB, measured
/// with `cargo bench -p havip --bench http`). A trim takes about a millisecond.
async fn give_back_memory_now_and_then() {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        let _ = tokio::task::spawn_blocking(app::support::give_back_freed_memory).await;
    }
}

/// SIGTERM or Ctrl-C (SIGINT), caught from this call on: before the console listens, so a
/// signal sent as soon as it answers is never the default action (a kill, exit status 143).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}

fn leptos_options(listen: SocketAddr) -> LeptosOptions {
    // the site is embedded (or read from target/site in development); pages load its bundle
    // from a directory named by the hash of its contents (see `embedded`)
    LeptosOptions::builder()
        .output_name("havip")
        .site_root("target/site")
        .site_pkg_dir(crate::console::assets::bundle_dir())
        .site_addr(listen)
        .build()
}

fn hardening_header(
    name: header::HeaderName,
    value: &'static str,
) -> tower_http::set_header::SetResponseHeaderLayer<header::HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::overriding(
        name,
        header::HeaderValue::from_static(value),
    )
}

pub fn router(store: Store, listen: SocketAddr, access: Access) -> Router {
    let options = leptos_options(listen);
    let routes = generate_route_list(App);
    let context = {
        let store = store.clone();
        let access = access.clone();
        move || {
            provide_context(store.clone());
            // what the login page offers, and where logging out may send the browser
            provide_context(access.login_options());
            if let Some(sso) = &access.sso {
                provide_context(app::domain::sso::FormTargets(sso.origins()));
            }
            // the chunks of the page's lazy route are named in the page's <head> (preloads)
            if let Some(manifest) = crate::console::assets::split_manifest() {
                provide_context(manifest);
            }
        }
    };
    let console = Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(crate::console::assets::file_or_404)
        .with_state(options);
    console
        .merge(agent_router(store.clone()))
        .merge(live_router(store.clone()))
        .merge(crate::console::health::routes(store.clone()))
        .merge(crate::console::metrics::routes(store.clone()))
        .merge(crate::console::rest::routes(store))
        .merge(crate::console::login::routes(access.clone()))
        .merge(crate::console::sso::routes(access.clone()))
        .layer(axum::middleware::from_fn_with_state(
            access,
            crate::console::access::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            app::api::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn(
            crate::console::access::limit_body,
        ))
        // pages, server functions and JSON compressed on the fly (the site's files are
        // compressed ahead, see `assets`, and pass through)
        .layer(dynamic_compression())
        // headers every answer carries (pages add their Content-Security-Policy as they render)
        .layer(hardening_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(hardening_header(header::REFERRER_POLICY, "same-origin"))
        .layer(hardening_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(axum::middleware::from_fn(
            crate::console::request_log::log_request,
        ))
}

fn agent_router(store: Store) -> Router {
    Router::new()
        .route(
            "/agent/ws",
            axum::routing::get(crate::console::agent_ws::upgrade),
        )
        .with_state(store)
}

/// Browsers' live channels (behind the access guard, as every route of `router`), fed by one
/// hub for all of them.
fn live_router(store: Store) -> Router {
    let hub = app::api::live::hub::LiveHub::start(store.clone());
    Router::new()
        .route(
            app::api::live::LIVE_PATH,
            axum::routing::get(crate::console::live_ws::upgrade),
        )
        .with_state((store, hub))
}

/// Compression of what is made per request (pages, server functions, JSON): a fast level, as
/// it costs every request. The site's files are left to `embedded`, which sends what the build
/// compressed at the best level (brotli's best on the 941 KB wasm takes seconds).
fn dynamic_compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/wasm"))
        .and(NotForContentType::const_new("text/javascript"))
        .and(NotForContentType::const_new("text/css"))
        .and(NotForContentType::const_new("image/svg+xml"));
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(predicate)
}
