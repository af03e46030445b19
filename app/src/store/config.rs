//! What a store is opened with: quotas, limits, timeouts and where alerts may go.

use super::{DEFAULT_AUDIT_LIMIT, DEFAULT_MIN_FREE_BYTES, DEFAULT_SUBNET_FULL_PERCENT};
use crate::domain::binding::BindingRules;
use crate::domain::DEFAULT_HAVIP_QUOTA_PER_VPC;

/// Events kept per HAVIP; older ones are dropped as new ones come.
pub const DEFAULT_HISTORY_LIMIT: u64 = 10_000;
/// A discovered station not seen for this long is forgotten.
pub const DEFAULT_STATION_TTL_MS: u64 = 24 * 3600 * 1000;
/// sled's page cache, counted in the pages' size on disk (its default is 1 GiB, which a busy
/// console fills: 237 MiB resident at 50,000 HAVIPs). Pages beyond it are read again from the
/// file, which the kernel caches. It holds only since sled's cache takes its evictions in 8
/// shards (`vendor/sled/PATCHES.md`). With 50,000 HAVIPs and 1,000 live channels an idle
/// console settled at 49-52 MiB at 4 MiB, 58-64 MiB at 8 MiB and 64-77 MiB at 16 MiB, with
/// creates and lists as fast at each size (BENCHMARKS.md).
pub const CACHE_BYTES: u64 = 4 << 20;
/// The documentation range (RFC 5737): safe as a default, never routed.
pub const DEFAULT_EIP_POOL: &str = "203.0.113.0/24";

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub havip_quota_per_vpc: u32,
    pub binding: BindingRules,
    /// public addresses EIPs are allocated from
    pub eip_pool: ipnet::Ipv4Net,
    /// history events kept per HAVIP (the oldest are dropped)
    pub history_limit: u64,
    /// how long a discovered station is listed after it was last seen
    pub station_ttl_ms: u64,
    /// a session unused this long ends
    pub session_idle_ms: u64,
    /// a session ends this long after login, used or not
    pub session_max_ms: u64,
    /// audit records kept (the oldest are dropped)
    pub audit_limit: u64,
    /// changes are refused while less than this is free where the data is (see `space`)
    pub min_free_bytes: u64,
    /// where alert hook programs live; `None`: hooks are off
    pub hook_dir: Option<std::path::PathBuf>,
    /// `subnet.nearly_full` is raised when this share of a subnet's addresses is in use
    pub subnet_full_percent: u8,
    /// where webhooks may be sent (`--allow-private-webhooks`, the console's own addresses)
    pub webhooks: crate::domain::alerts::WebhookDestinations,
    /// where the records live
    pub place: StorePlace,
    /// the key that seals secrets (`--secret-key-file`); `None`: `secret.key` in the data
    /// directory
    pub secret_key_file: Option<std::path::PathBuf>,
}

/// Where the records live (`--store`): sled in the data directory, or under a prefix of an
/// etcd cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StorePlace {
    #[default]
    Sled,
    Etcd {
        /// `host:port` of each member
        endpoints: Vec<String>,
        /// the keys' prefix (`--etcd-prefix`), so that one etcd can hold several consoles
        prefix: String,
        /// TLS and credentials
        access: EtcdAccess,
    },
}

/// How a console checks etcd and proves itself to it (`--etcd-ca`, `--etcd-cert`,
/// `--etcd-key`, `--etcd-user` with `HAVIP_ETCD_PASSWORD`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EtcdAccess {
    /// the CA (PEM) that signed the members' certificates: etcd is reached over TLS
    pub ca: Option<std::path::PathBuf>,
    /// this console's client certificate and key (PEM), for etcd's `--client-cert-auth`
    pub identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// an etcd user and its password (etcd's own authentication)
    pub user: Option<(String, String)>,
}

impl std::fmt::Debug for EtcdAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdAccess")
            .field("ca", &self.ca)
            .field("identity", &self.identity)
            // never the password
            .field("user", &self.user.as_ref().map(|(name, _)| name))
            .finish()
    }
}

impl StorePlace {
    /// `sled`, or `etcd://HOST:PORT[,HOST:PORT…]` with the keys under `prefix`.
    pub fn parse(text: &str, prefix: &str) -> Result<StorePlace, String> {
        if text == "sled" {
            return Ok(StorePlace::Sled);
        }
        let Some(members) = text.strip_prefix("etcd://") else {
            return Err(format!(
                "{text:?}: expected sled or etcd://HOST:PORT[,HOST:PORT...]"
            ));
        };
        let endpoints: Vec<String> = members.split(',').map(str::to_string).collect();
        for endpoint in &endpoints {
            let port = endpoint
                .rsplit_once(':')
                .map(|(host, port)| (host, port.parse::<u16>()));
            if !matches!(port, Some((host, Ok(_))) if !host.is_empty()) {
                return Err(format!("{endpoint:?}: an etcd member is HOST:PORT"));
            }
        }
        if !prefix.starts_with('/') || !prefix.ends_with('/') {
            return Err(format!(
                "{prefix:?}: the etcd prefix starts and ends with /"
            ));
        }
        Ok(StorePlace::Etcd {
            endpoints,
            prefix: prefix.into(),
            access: EtcdAccess::default(),
        })
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            havip_quota_per_vpc: DEFAULT_HAVIP_QUOTA_PER_VPC,
            binding: BindingRules::default(),
            eip_pool: DEFAULT_EIP_POOL.parse().expect("literal"),
            history_limit: DEFAULT_HISTORY_LIMIT,
            station_ttl_ms: DEFAULT_STATION_TTL_MS,
            session_idle_ms: 12 * 3600 * 1000,
            session_max_ms: 7 * 24 * 3600 * 1000,
            audit_limit: DEFAULT_AUDIT_LIMIT,
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            hook_dir: None,
            subnet_full_percent: DEFAULT_SUBNET_FULL_PERCENT,
            webhooks: Default::default(),
            place: StorePlace::Sled,
            secret_key_file: None,
        }
    }
}
