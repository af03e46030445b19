//! The console's records in Tencent Cloud's shapes: every field of the reference present
//! (empty strings, not missing keys), times as "YYYY-MM-DD hh:mm:ss" (UTC).

use app::domain::binding::Status;
use app::domain::model::{format_time, Eip, Havip, Instance, Subnet, Vpc};
use serde_json::{json, Value};

const NEVER: &str = "0000-00-00 00:00:00";

/// An HAVIP: its state, holder ENI and instance from the binding the agents report;
/// `FlushedTime` is when the holder last changed.
pub fn havip(h: &Havip, instances: &[Instance]) -> Value {
    let status = h.binding.status();
    let holder = match &status {
        Status::Bound { mac, .. } => instances.iter().find(|i| i.mac == *mac),
        _ => None,
    };
    let flushed = match (&status, &h.binding.lost) {
        (Status::Bound { since, .. }, _) => format_time(*since),
        (_, Some(lost)) => format_time(lost.last_seen),
        _ => NEVER.to_string(),
    };
    let associations: Vec<Value> = h
        .allowed
        .iter()
        .filter_map(|eni| instances.iter().find(|i| i.eni_id == *eni))
        .map(|i| json!({"HaVipId": h.id, "InstanceId": i.id, "InstanceType": "CVM"}))
        .collect();
    json!({
        "HaVipId": h.id,
        "HaVipName": h.name,
        "Vip": h.ip.to_string(),
        "VpcId": h.vpc_id,
        "SubnetId": h.subnet_id,
        "NetworkInterfaceId": holder.map(|i| i.eni_id.to_string()).unwrap_or_default(),
        "InstanceId": holder.map(|i| i.id.to_string()).unwrap_or_default(),
        "AddressIp": h.eip.map(|ip| ip.to_string()).unwrap_or_default(),
        "State": if matches!(status, Status::Bound { .. }) { "AVAILABLE" } else { "UNBIND" },
        "CreatedTime": format_time(h.created),
        "Business": "",
        "HaVipAssociationSet": associations,
        "CheckAssociate": !h.allowed.is_empty(),
        "CdcId": "",
        "FlushedTime": flushed,
        "TagSet": [],
    })
}

pub fn vpc(v: &Vpc, is_default: bool) -> Value {
    json!({
        "VpcId": v.id,
        "VpcName": v.name,
        "CidrBlock": v.cidr.to_string(),
        "IsDefault": is_default,
        "EnableMulticast": false,
        "CreatedTime": format_time(v.created),
        "DnsServerSet": [],
        "DomainName": "",
        "DhcpOptionsId": "",
        "EnableDhcp": true,
        "Ipv6CidrBlock": "",
        "TagSet": [],
        "AssistantCidrSet": [],
    })
}

pub fn subnet(s: &Subnet, usable: u32, free: u32, is_default: bool) -> Value {
    json!({
        "VpcId": s.vpc_id,
        "SubnetId": s.id,
        "SubnetName": s.name,
        "CidrBlock": s.cidr.to_string(),
        "IsDefault": is_default,
        "EnableBroadcast": false,
        "Zone": "",
        "RouteTableId": "",
        "CreatedTime": format_time(s.created),
        "AvailableIpAddressCount": free,
        "TotalIpAddressCount": usable,
        "Ipv6CidrBlock": "",
        "NetworkAclId": "",
        "IsRemoteVpcSnat": false,
        "TagSet": [],
        "CdcId": "",
        "IsCdcSubnet": 0,
    })
}

pub fn address(e: &Eip) -> Value {
    json!({
        "AddressId": e.id,
        "AddressName": "",
        "AddressStatus": if e.havip_id.is_some() { "BIND" } else { "UNBIND" },
        "AddressIp": e.ip.to_string(),
        "InstanceId": e.havip_id.as_ref().map(|h| h.to_string()).unwrap_or_default(),
        "CreatedTime": format_time(e.allocated),
        "NetworkInterfaceId": "",
        "PrivateAddressIp": "",
        "IsArrears": false,
        "IsBlocked": false,
        "IsEipDirectConnection": false,
        "AddressType": "EIP",
        "CascadeRelease": false,
        "InternetServiceProvider": "BGP",
        "InstanceType": if e.havip_id.is_some() { "HAVIP" } else { "" },
        "TagSet": [],
    })
}
