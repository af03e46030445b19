//! Configuration for the HA software that moves an HAVIP: keepalived `vrrp_instance` blocks for
//! the primary and the secondary, and a Pacemaker `IPaddr2` resource.
//!
//! The console guide's sample mixes `state MASTER` with `nopreempt` and `preempt_delay`;
//! keepalived ignores both then (and `keepalived -t` fails), so the primary always preempts back.
//! The generator offers the two modes that work: non-preemptive (both nodes `state BACKUP` and
//! `nopreempt`; the priority only picks the first master) and preemptive (the higher priority
//! takes the address back, optionally after a delay).

use super::ip::check_manual_ip;
use crate::i18n::m::detail;
use crate::i18n::{Lang, Msg, Text};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preemption {
    /// Once a node is master it stays master until it fails.
    NonPreemptive,
    /// The primary takes the address back when it recovers, after `delay_s` seconds if set.
    Preemptive { delay_s: Option<u16> },
}

impl Preemption {
    /// What the mode does, as the panel explains it.
    pub fn explain(&self) -> Msg {
        match self {
            Preemption::NonPreemptive => detail::HA_EXPLAIN_NON_PREEMPTIVE,
            Preemption::Preemptive { .. } => detail::HA_EXPLAIN_PREEMPTIVE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepalivedParams {
    pub vip: Ipv4Addr,
    pub subnet: Ipv4Net,
    pub interface: String,
    pub primary_ip: String,
    pub secondary_ip: String,
    pub router_id: u8,
    pub primary_priority: u8,
    pub secondary_priority: u8,
    pub advert_int: u8,
    pub preemption: Preemption,
    pub auth_pass: String,
    /// Re-send gratuitous ARPs every N seconds while master (agents started later still hear them).
    pub garp_master_refresh: Option<u16>,
    /// keepalived's `use_vmac`: the holder answers with VRRP's virtual MAC, not its own.
    #[serde(default)]
    pub use_vmac: bool,
}

impl KeepalivedParams {
    /// The proposed parameters, with `auth_pass` (see `random_auth_pass`).
    pub fn defaults(vip: Ipv4Addr, subnet: Ipv4Net, auth_pass: String) -> Self {
        KeepalivedParams {
            vip,
            subnet,
            interface: "eth0".into(),
            primary_ip: String::new(),
            secondary_ip: String::new(),
            router_id: 51,
            primary_priority: 100,
            secondary_priority: 90,
            advert_int: 1,
            preemption: Preemption::NonPreemptive,
            auth_pass,
            garp_master_refresh: Some(60),
            use_vmac: false,
        }
    }

    /// What the console can and cannot see of this pair when it uses VRRP's virtual MAC (in
    /// English).
    pub fn vmac_explain(&self) -> Option<String> {
        self.vmac_explain_text().map(|t| t.to_string())
    }

    /// The same, for the panel (in the reader's language).
    pub fn vmac_explain_text(&self) -> Option<Text> {
        self.use_vmac.then(|| {
            Text::new(detail::HA_VMAC_EXPLAIN).arg("vrid", format!("{:02x}", self.router_id))
        })
    }
}

/// A fresh PASS password to propose: 8 random letters and digits (keepalived reads only the
/// first 8 characters; `#` and `!` would start a comment in its configuration). Made on the
/// server and sent with the page's data, so the page and the browser show the same one.
#[cfg(feature = "ssr")]
pub fn random_auth_pass() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(8)
        .map(char::from)
        .collect()
}

/// A problem with the parameters, as the panel says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    text: Text,
    /// what is wrong with a host's address, said within `text` (`{msg}`)
    host: Option<Text>,
}

impl Problem {
    fn new(msg: Msg) -> Self {
        Problem {
            text: Text::new(msg),
            host: None,
        }
    }

    /// What it says in `lang`.
    pub fn in_lang(&self, lang: Lang) -> String {
        match &self.host {
            Some(host) => (self.text.clone())
                .arg("msg", host.in_lang(lang))
                .in_lang(lang),
            None => self.text.in_lang(lang),
        }
    }
}

/// In English.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_lang(Lang::En))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

/// Every problem with the parameters, as (field, message).
pub fn check(p: &KeepalivedParams) -> Vec<(&'static str, Problem)> {
    let mut errors = vec![];
    let iface_ok = !p.interface.is_empty()
        && p.interface.len() <= 15
        && p.interface
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if !iface_ok {
        errors.push(("interface", Problem::new(detail::HA_ERR_INTERFACE)));
    }
    let host = |field: &'static str, text: &str, errors: &mut Vec<(&'static str, Problem)>| {
        match check_manual_ip(text, p.subnet, |ip| ip == p.vip) {
            Ok(ip) => Some(ip),
            Err(e) => {
                let msg = match e {
                    super::ip::IpError::InUse(_) => Text::new(detail::HA_ERR_OWN_ADDRESS),
                    other => other.text(),
                };
                let who = if field == "primary_ip" {
                    detail::HA_ERR_PRIMARY_HOST
                } else {
                    detail::HA_ERR_SECONDARY_HOST
                };
                errors.push((
                    field,
                    Problem {
                        text: Text::new(who),
                        host: Some(msg),
                    },
                ));
                None
            }
        }
    };
    let a = host("primary_ip", &p.primary_ip, &mut errors);
    let b = host("secondary_ip", &p.secondary_ip, &mut errors);
    if a.is_some() && a == b {
        errors.push(("secondary_ip", Problem::new(detail::HA_ERR_SAME_HOSTS)));
    }
    if p.router_id == 0 {
        errors.push(("router_id", Problem::new(detail::HA_ERR_ROUTER_ID)));
    }
    if !(1..=254).contains(&p.primary_priority) || !(1..=254).contains(&p.secondary_priority) {
        errors.push(("priority", Problem::new(detail::HA_ERR_PRIORITIES)));
    } else if p.primary_priority <= p.secondary_priority {
        errors.push(("priority", Problem::new(detail::HA_ERR_PRIMARY_HIGHER)));
    }
    if p.advert_int == 0 {
        errors.push(("advert_int", Problem::new(detail::HA_ERR_ADVERT_INT)));
    }
    if p.auth_pass.is_empty()
        || p.auth_pass.len() > 8
        || !p.auth_pass.chars().all(|c| c.is_ascii_graphic())
    {
        errors.push(("auth_pass", Problem::new(detail::HA_ERR_AUTH_PASS)));
    }
    if let Preemption::Preemptive { delay_s: Some(d) } = p.preemption {
        if d > 1000 {
            errors.push(("preempt_delay", Problem::new(detail::HA_ERR_PREEMPT_DELAY)));
        }
    }
    if p.garp_master_refresh == Some(0) {
        errors.push(("garp_master_refresh", Problem::new(detail::HA_ERR_GARP)));
    }
    errors
}

/// The `vrrp_instance` block for one node. Call only with parameters `check` accepts.
pub fn keepalived(p: &KeepalivedParams, role: Role) -> String {
    let (me, peer, priority) = match role {
        Role::Primary => (&p.primary_ip, &p.secondary_ip, p.primary_priority),
        Role::Secondary => (&p.secondary_ip, &p.primary_ip, p.secondary_priority),
    };
    let (state, mode) = match (p.preemption, role) {
        (Preemption::NonPreemptive, _) => ("BACKUP", Some("nopreempt".to_string())),
        (Preemption::Preemptive { delay_s: Some(d) }, _) => {
            ("BACKUP", Some(format!("preempt_delay {d}")))
        }
        (Preemption::Preemptive { delay_s: None }, Role::Primary) => ("MASTER", None),
        (Preemption::Preemptive { delay_s: None }, Role::Secondary) => ("BACKUP", None),
    };
    let role_name = match role {
        Role::Primary => "primary",
        Role::Secondary => "secondary",
    };
    let mut lines = vec![
        format!(
            "# keepalived on the {role_name} ({}) for HAVIP {}",
            me.trim(),
            p.vip
        ),
        format!("vrrp_instance VI_{} {{", p.router_id),
        format!("    state {state}"),
        format!("    interface {}", p.interface),
        format!("    virtual_router_id {}", p.router_id),
    ];
    lines.extend(mode.map(|m| format!("    {m}")));
    lines.push(format!("    priority {priority}"));
    lines.push(format!("    advert_int {}", p.advert_int));
    if p.use_vmac {
        // the adverts still leave from the base interface, where the unicast peer hears them
        lines.extend(["    use_vmac".to_string(), "    vmac_xmit_base".to_string()]);
    }
    lines.extend(
        p.garp_master_refresh
            .map(|s| format!("    garp_master_refresh {s}")),
    );
    lines.extend([
        "    authentication {".to_string(),
        "        auth_type PASS".to_string(),
        format!("        auth_pass {}", p.auth_pass),
        "    }".to_string(),
        format!("    unicast_src_ip {}", me.trim()),
        "    unicast_peer {".to_string(),
        format!("        {}", peer.trim()),
        "    }".to_string(),
        "    virtual_ipaddress {".to_string(),
        format!("        {}", p.vip),
        "    }".to_string(),
        "}".to_string(),
    ]);
    lines.join("\n") + "\n"
}

/// A Pacemaker resource that holds the HAVIP (pcs syntax).
pub fn pacemaker(vip: Ipv4Addr, subnet: Ipv4Net, interface: &str) -> String {
    let octets = vip.octets();
    format!(
        "pcs resource create havip-{}-{}-{}-{} ocf:heartbeat:IPaddr2 \\\n    ip={vip} cidr_netmask={} nic={interface} \\\n    op monitor interval=10s\n",
        octets[0],
        octets[1],
        octets[2],
        octets[3],
        subnet.prefix_len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn params() -> KeepalivedParams {
        let mut p = KeepalivedParams::defaults(
            "172.16.16.12".parse().unwrap(),
            "172.16.16.0/24".parse().unwrap(),
            "Xq7pR2mZ".into(),
        );
        p.primary_ip = "172.16.16.5".into();
        p.secondary_ip = "172.16.16.6".into();
        p
    }

    #[test]
    fn non_preemptive_is_backup_and_nopreempt_on_both() {
        let p = params();
        assert!(check(&p).is_empty());
        for role in [Role::Primary, Role::Secondary] {
            let text = keepalived(&p, role);
            assert!(text.contains("\n    state BACKUP\n"), "{text}");
            assert!(text.contains("nopreempt"));
            assert!(!text.contains("preempt_delay"));
            assert!(text.contains("garp_master_refresh 60"));
        }
        let primary = keepalived(&p, Role::Primary);
        assert!(
            primary.contains("priority 100\n") && primary.contains("unicast_src_ip 172.16.16.5\n")
        );
        assert!(primary.contains("unicast_peer {\n        172.16.16.6\n"));
        assert!(primary.contains("virtual_ipaddress {\n        172.16.16.12\n"));
        let secondary = keepalived(&p, Role::Secondary);
        assert!(
            secondary.contains("priority 90\n")
                && secondary.contains("unicast_src_ip 172.16.16.6\n")
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_proposed_password_is_random_and_valid() {
        let passwords: Vec<String> = (0..20).map(|_| random_auth_pass()).collect();
        for pass in &passwords {
            assert_eq!(pass.len(), 8, "{pass}");
            assert!(pass.bytes().all(|b| b.is_ascii_alphanumeric()), "{pass}");
            let mut p = params();
            p.auth_pass = pass.clone();
            assert!(check(&p).is_empty(), "{pass}");
            assert!(keepalived(&p, Role::Primary).contains(&format!("auth_pass {pass}\n")));
        }
        let mut distinct = passwords.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), passwords.len(), "{passwords:?}");
        assert!(!passwords.contains(&"1111".to_string()));
    }

    #[test]
    fn the_virtual_mac_is_offered_and_explained() {
        let mut p = params();
        assert!(!keepalived(&p, Role::Primary).contains("use_vmac"));
        assert_eq!(p.vmac_explain(), None);
        p.use_vmac = true;
        for role in [Role::Primary, Role::Secondary] {
            let text = keepalived(&p, role);
            assert!(
                text.contains("    advert_int 1\n    use_vmac\n    vmac_xmit_base\n"),
                "{text}"
            );
        }
        assert!(p.vmac_explain().unwrap().contains("00:00:5e:00:01:33"));
    }

    #[test]
    fn preemptive_modes() {
        let mut p = params();
        p.preemption = Preemption::Preemptive { delay_s: None };
        assert!(keepalived(&p, Role::Primary).contains("state MASTER\n"));
        assert!(keepalived(&p, Role::Secondary).contains("state BACKUP\n"));
        assert!(!keepalived(&p, Role::Primary).contains("preempt"));
        p.preemption = Preemption::Preemptive { delay_s: Some(30) };
        let text = keepalived(&p, Role::Primary);
        assert!(text.contains("state BACKUP\n") && text.contains("preempt_delay 30"));
    }

    #[test]
    fn parameter_errors() {
        let fields =
            |p: &KeepalivedParams| check(p).into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        let mut p = params();
        p.primary_ip = "172.16.16.12".into();
        assert_eq!(fields(&p), ["primary_ip"]);
        assert_eq!(
            check(&p)[0].1.to_string(),
            "Primary host: A host's own address cannot be the HAVIP."
        );
        p.primary_ip = "172.16.17.5".into();
        assert_eq!(fields(&p), ["primary_ip"]);
        p = params();
        p.secondary_ip = p.primary_ip.clone();
        assert_eq!(fields(&p), ["secondary_ip"]);
        p = params();
        p.primary_priority = 90;
        p.interface = "eth 0".into();
        p.auth_pass = "far too long".into();
        p.router_id = 0;
        assert_eq!(
            fields(&p),
            ["interface", "router_id", "priority", "auth_pass"]
        );
    }

    #[test]
    fn pacemaker_resource() {
        let p = params();
        assert_eq!(
            pacemaker(p.vip, p.subnet, "eth0"),
            "pcs resource create havip-172-16-16-12 ocf:heartbeat:IPaddr2 \\\n    ip=172.16.16.12 cidr_netmask=24 nic=eth0 \\\n    op monitor interval=10s\n"
        );
    }
}
