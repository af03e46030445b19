"""The Tencent Cloud API 3.0 compatible endpoint, driven by the official Python SDK
(tencentcloud-sdk-python, pinned in requirements.txt) against the real console binary.

run.sh starts the console with --api-listen, creates users admin/operator/viewer and one key
each, and sets HAVIP_API (host:port), HAVIP_CONSOLE (the console's URL) and HAVIP_KEYS (a
directory with NAME.key files holding "SecretId SecretKey").
"""

import json
import os
import time
import unittest
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vpc.v20170312 import models, vpc_client

API = os.environ["HAVIP_API"]
CONSOLE = os.environ["HAVIP_CONSOLE"]
KEYS = os.environ["HAVIP_KEYS"]
PASSWORD = "tcapi test password"


def key(who):
    with open(os.path.join(KEYS, f"{who}.key")) as f:
        return f.read().split()


def client(who="operator", method="POST", secret=None, region="ap-default", language="en-US"):
    sid, skey = key(who)
    http = HttpProfile(endpoint=API, protocol="http", reqMethod=method)
    # the SDK sends the language as X-TC-Language
    profile = ClientProfile(httpProfile=http, language=language)
    c = vpc_client.VpcClient(credential.Credential(sid, secret or skey), region, profile)
    c.signer = (sid, method)
    return c


# The second each (key, method, parameters) was last sent in (see `call`).
_last_sent = {}


def call(c, action, params):
    """Calls `action` through the SDK's typed request and response models.

    The console accepts each signature once (a captured request cannot be sent again). TC3
    timestamps are whole seconds and the SDK signs only content-type and host, not the action,
    so the same parameters sent with the same key within one second carry the same signature,
    whatever the action: such a call waits for the next second, as a script's next call would
    come, and is then signed anew."""
    sent = None
    if hasattr(c, "signer"):
        sent = (c.signer, json.dumps(params, sort_keys=True))
        while _last_sent.get(sent, -1) >= int(time.time()):
            time.sleep(0.05)
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    try:
        return json.loads(getattr(c, action)(request).to_json_string())
    finally:
        if sent:
            # the SDK took its timestamp during the call: at the latest, now
            _last_sent[sent] = int(time.time())


def uid(prefix):
    return f"{prefix}-{time.time_ns() % 10**9}"


class Console:
    """The console's own server functions, logged in with a session (for what the API
    does not do: keys and instances)."""

    def __init__(self, name):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.post("/login", {"name": name, "password": PASSWORD})

    def post(self, path, form):
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(CONSOLE + path, data=data, headers={"Accept": "application/json"})
        with self.opener.open(req) as res:
            body = res.read()
            return json.loads(body) if body else None


class TencentApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        c = client("viewer")
        vpcs = call(c, "DescribeVpcs", {"Offset": "0", "Limit": "20"})
        cls.vpc = vpcs["VpcSet"][0]["VpcId"]
        subnets = call(c, "DescribeSubnets", {"Filters": [{"Name": "vpc-id", "Values": [cls.vpc]}]})
        cls.subnet = next(s for s in subnets["SubnetSet"] if s["CidrBlock"] == "172.16.16.0/24")["SubnetId"]

    def refused(self, code, action, params, who="operator", **kw):
        with self.assertRaises(TencentCloudSDKException) as e:
            call(client(who, **kw), action, params)
        self.assertEqual(e.exception.get_code(), code, e.exception.get_message())
        self.assertTrue(e.exception.get_request_id())
        return e.exception

    def create(self, name=None, vip=None, vpc=None, subnet=None, **extra):
        params = {"VpcId": vpc or self.vpc, "SubnetId": subnet or self.subnet, "HaVipName": name or uid("vip")}
        if vip:
            params["Vip"] = vip
        params.update(extra)
        return call(client(), "CreateHaVip", params)["HaVip"]

    def test_create_automatic_and_manual_with_every_field(self):
        auto = self.create()
        self.assertTrue(auto["Vip"].startswith("172.16.16."))
        manual = self.create(vip="172.16.16.77")
        self.assertEqual(manual["Vip"], "172.16.16.77")
        for field in ["HaVipId", "HaVipName", "Vip", "VpcId", "SubnetId", "NetworkInterfaceId", "InstanceId",
                      "AddressIp", "State", "CreatedTime", "Business", "HaVipAssociationSet", "CheckAssociate",
                      "CdcId", "FlushedTime", "TagSet"]:
            self.assertIn(field, manual)
        self.assertEqual(manual["State"], "UNBIND")
        self.assertEqual(manual["FlushedTime"], "0000-00-00 00:00:00")
        self.assertRegex(manual["CreatedTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        got = call(client("viewer", method="GET"), "DescribeHaVips", {"HaVipIds": [manual["HaVipId"]]})
        self.assertEqual(got["TotalCount"], 1)
        self.assertEqual(got["HaVipSet"][0]["HaVipName"], manual["HaVipName"])

    def test_every_mapped_error_code(self):
        self.refused("InvalidParameterValue.Reserved", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x", "Vip": "172.16.16.1"})
        self.refused("InvalidParameterValue.Range", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x", "Vip": "10.9.9.9"})
        self.refused("InvalidParameterValue.Malformed", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x", "Vip": "172.16.16"})
        taken = self.create()
        self.refused("ResourceInUse", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x", "Vip": taken["Vip"]})
        self.refused("InvalidParameterValue.TooLong", "ModifyHaVipAttribute",
                     {"HaVipId": taken["HaVipId"], "HaVipName": "n" * 61})
        self.refused("ResourceNotFound", "ModifyHaVipAttribute", {"HaVipId": "havip-0000dead", "HaVipName": "x"})
        self.refused("InvalidParameterValue.Malformed", "DeleteHaVip", {"HaVipId": "havip-nope"})
        self.refused("ResourceNotFound", "CreateHaVip",
                     {"VpcId": "vpc-0000dead", "SubnetId": self.subnet, "HaVipName": "x"})
        self.refused("MissingParameter", "CreateHaVip", {"VpcId": self.vpc, "HaVipName": "x"})
        self.refused("UnsupportedRegion", "DescribeHaVips", {}, region="ap-mars")

    def test_messages_in_chinese_with_the_same_codes(self):
        reserved = {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x", "Vip": "172.16.16.1"}
        english = self.refused("InvalidParameterValue.Reserved", "CreateHaVip", reserved)
        chinese = self.refused("InvalidParameterValue.Reserved", "CreateHaVip", reserved, language="zh-CN")
        self.assertIn("reserved", english.get_message())
        self.assertIn("系统保留地址", chinese.get_message())
        gone = self.refused("ResourceNotFound", "DeleteHaVip", {"HaVipId": "havip-0000dead"}, language="zh-CN")
        self.assertEqual(gone.get_message(), "资源不存在。")
        refused = self.refused("UnauthorizedOperation", "CreateHaVip", reserved, who="viewer", language="zh-CN")
        self.assertIn("未授权操作", refused.get_message())

    def test_a_full_subnet_and_the_quota(self):
        admin = client("admin")
        vpc = call(admin, "CreateVpc", {"VpcName": uid("quota"), "CidrBlock": "10.70.0.0/16"})["Vpc"]["VpcId"]
        tiny = call(admin, "CreateSubnet", {"VpcId": vpc, "SubnetName": "tiny", "CidrBlock": "10.70.1.0/28"})
        tiny = tiny["Subnet"]["SubnetId"]
        for _ in range(13):  # a /28 has 13 usable addresses
            self.create(vpc=vpc, subnet=tiny)
        self.refused("ResourceInsufficient", "CreateHaVip", {"VpcId": vpc, "SubnetId": tiny, "HaVipName": "x"})
        more = call(admin, "CreateSubnet", {"VpcId": vpc, "SubnetName": "more", "CidrBlock": "10.70.2.0/28"})
        more = more["Subnet"]["SubnetId"]
        for _ in range(7):  # 20 in the VPC: the console's --quota
            self.create(vpc=vpc, subnet=more)
        self.refused("LimitExceeded", "CreateHaVip", {"VpcId": vpc, "SubnetId": more, "HaVipName": "x"})
        limits = call(client("viewer"), "DescribeVpcLimits", {"LimitTypes": ["vpc-max-havips"]})
        self.assertEqual(limits["VpcLimitSet"], [{"LimitType": "vpc-max-havips", "LimitValue": 20}])
        # deleting what is used is refused; emptied, the subnet and the VPC go
        self.refused("ResourceInUse", "DeleteSubnet", {"SubnetId": tiny}, who="admin")
        self.refused("ResourceInUse", "DeleteVpc", {"VpcId": vpc}, who="admin")
        self.refused("UnauthorizedOperation", "DeleteSubnet", {"SubnetId": tiny}, who="operator")
        for h in call(client(), "DescribeHaVips", {"Filters": [{"Name": "vpc-id", "Values": [vpc]}], "Limit": 100})["HaVipSet"]:
            call(client(), "DeleteHaVip", {"HaVipId": h["HaVipId"]})
        call(admin, "DeleteSubnet", {"SubnetId": tiny})
        call(admin, "DeleteSubnet", {"SubnetId": more})
        call(admin, "DeleteVpc", {"VpcId": vpc})
        self.refused("ResourceNotFound", "DeleteVpc", {"VpcId": vpc}, who="admin")

    def test_client_token_makes_a_create_idempotent(self):
        token = uid("token")
        name = uid("idem")
        first = self.create(name=name, ClientToken=token)
        again = self.create(name=name, ClientToken=token)
        self.assertEqual(first["HaVipId"], again["HaVipId"])
        found = call(client(), "DescribeHaVips", {"Filters": [{"Name": "havip-name", "Values": [name]}]})
        self.assertEqual(found["TotalCount"], 1)
        self.refused("UnsupportedOperation.IdempotentParameterMismatch", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": uid("other"), "ClientToken": token})

    def test_filters_and_paging(self):
        a, b = uid("fa"), uid("fb")
        ha, hb = self.create(name=a), self.create(name=b)
        c = client("viewer")
        either = call(c, "DescribeHaVips", {"Filters": [{"Name": "havip-name", "Values": [a, b]}]})
        self.assertEqual(sorted(h["HaVipName"] for h in either["HaVipSet"]), sorted([a, b]))
        both = call(c, "DescribeHaVips", {"Filters": [{"Name": "havip-name", "Values": [a, b]},
                                                     {"Name": "vip", "Values": [hb["Vip"]]}]})
        self.assertEqual([h["HaVipId"] for h in both["HaVipSet"]], [hb["HaVipId"]])
        none = call(c, "DescribeHaVips", {"Filters": [{"Name": "havip-name", "Values": [a]},
                                                     {"Name": "subnet-id", "Values": ["subnet-0000dead"]}]})
        self.assertEqual(none["TotalCount"], 0)
        self.refused("InvalidParameter.Coexist", "DescribeHaVips",
                     {"HaVipIds": [ha["HaVipId"]], "Filters": [{"Name": "vip", "Values": ["x"]}]}, who="viewer")
        self.refused("InvalidParameter.FilterInvalidKey", "DescribeHaVips",
                     {"Filters": [{"Name": "colour", "Values": ["red"]}]}, who="viewer")
        total = call(c, "DescribeHaVips", {"Limit": 1})["TotalCount"]
        self.assertGreaterEqual(total, 2)
        seen = []
        for offset in range(0, total, 2):
            page = call(c, "DescribeHaVips", {"Offset": offset, "Limit": 2})
            self.assertEqual(page["TotalCount"], total)
            seen += [h["HaVipId"] for h in page["HaVipSet"]]
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)
        self.refused("InvalidParameterValue.Range", "DescribeHaVips", {"Limit": 101}, who="viewer")

    def test_eip_associate_and_disassociate_with_the_rules(self):
        one, two = self.create(), self.create()
        allocated = call(client(), "AllocateAddresses", {"AddressCount": 1})
        eip_id = allocated["AddressSet"][0]
        self.assertEqual(call(client(), "DescribeVpcTaskResult", {"TaskId": allocated["TaskId"]})["Status"], "SUCCESS")
        ip = call(client(), "DescribeAddresses", {"AddressIds": [eip_id]})["AddressSet"][0]["AddressIp"]
        call(client(), "HaVipAssociateAddressIp", {"HaVipId": one["HaVipId"], "AddressIp": ip})
        got = call(client(), "DescribeHaVips", {"Filters": [{"Name": "address-ip", "Values": [ip]}]})
        self.assertEqual([h["HaVipId"] for h in got["HaVipSet"]], [one["HaVipId"]])
        self.assertEqual(got["HaVipSet"][0]["AddressIp"], ip)
        self.refused("UnsupportedOperation.BindEIP", "HaVipAssociateAddressIp",
                     {"HaVipId": two["HaVipId"], "AddressIp": ip})
        self.refused("UnsupportedOperation", "DeleteHaVip", {"HaVipId": one["HaVipId"]})
        call(client(), "HaVipDisassociateAddressIp", {"HaVipId": one["HaVipId"]})
        self.assertEqual(call(client(), "DescribeHaVips", {"HaVipIds": [one["HaVipId"]]})["HaVipSet"][0]["AddressIp"], "")
        self.refused("UnsupportedOperation.UnbindEIP", "HaVipDisassociateAddressIp", {"HaVipId": one["HaVipId"]})
        call(client(), "ReleaseAddresses", {"AddressIds": [eip_id]})
        self.refused("ResourceNotFound", "DescribeAddresses", {"AddressIds": [eip_id]})

    def test_instance_association_sets_the_allowed_holders(self):
        havip = self.create()
        console = Console("operator")
        mac = "52:54:00:%02x:%02x:%02x" % tuple(os.urandom(3))
        ip = "172.16.16.%d" % (200 + time.time_ns() % 50)
        instance = console.post("/api/register_instance", {
            "name": uid("web"), "subnet_id": self.subnet, "mac": mac, "ip": ip})
        assoc = {"HaVipAssociationSet": [{"HaVipId": havip["HaVipId"], "InstanceId": instance["id"], "InstanceType": "CVM"}]}
        call(client(), "AssociateHaVipInstance", assoc)
        got = call(client(), "DescribeHaVips", {"Filters": [{"Name": "havip-association.instance-id", "Values": [instance["id"]]}]})
        self.assertEqual([h["HaVipId"] for h in got["HaVipSet"]], [havip["HaVipId"]])
        self.assertTrue(got["HaVipSet"][0]["CheckAssociate"])
        call(client(), "DisassociateHaVipInstance", assoc)
        self.assertFalse(call(client(), "DescribeHaVips", {"HaVipIds": [havip["HaVipId"]]})["HaVipSet"][0]["CheckAssociate"])
        self.refused("ResourceNotFound", "AssociateHaVipInstance",
                     {"HaVipAssociationSet": [{"HaVipId": havip["HaVipId"], "InstanceId": "ins-0000dead"}]})

    def test_credentials_timestamps_keys_and_roles(self):
        self.refused("AuthFailure.SignatureFailure", "DescribeHaVips", {}, secret="not the secret key")
        sid, skey = key("viewer")
        c = vpc_client.VpcClient(credential.Credential("AKID" + "x" * 32, skey), "ap-default",
                                 ClientProfile(httpProfile=HttpProfile(endpoint=API, protocol="http")))
        with self.assertRaises(TencentCloudSDKException) as e:
            call(c, "DescribeHaVips", {})
        self.assertEqual(e.exception.get_code(), "AuthFailure.SecretIdNotFound")
        # a request signed six minutes ago
        import tencentcloud.common.abstract_client as abstract
        real = abstract.time.time
        abstract.time.time = lambda: real() - 360
        try:
            self.refused("AuthFailure.SignatureExpire", "DescribeHaVips", {}, who="viewer")
        finally:
            abstract.time.time = real
        self.refused("UnauthorizedOperation", "CreateHaVip",
                     {"VpcId": self.vpc, "SubnetId": self.subnet, "HaVipName": "x"}, who="viewer")
        # a key made on the console, used, then disabled there
        console = Console("viewer")
        made = console.post("/api/create_api_key", {})
        mine = vpc_client.VpcClient(credential.Credential(made["key"]["id"], made["secret_key"]), "ap-default",
                                    ClientProfile(httpProfile=HttpProfile(endpoint=API, protocol="http")))
        self.assertIn("TotalCount", call(mine, "DescribeHaVips", {}))
        console.post("/api/set_api_key_disabled", {"id": made["key"]["id"], "disabled": "true"})
        with self.assertRaises(TencentCloudSDKException) as e:
            call(mine, "DescribeHaVips", {})
        self.assertEqual(e.exception.get_code(), "AuthFailure.SecretIdNotFound")
        listed = console.post("/api/api_keys_page", {})
        self.assertTrue(all("secret" not in json.dumps(k).lower() for k in listed))

    def test_each_key_and_action_is_rate_limited(self):
        """run.sh starts the console with --api-rate 50: a burst of 120 calls from 8 threads
        gets some RequestLimitExceeded, and the limit is per key: the moment the admin's key
        is first refused, the same action with another key is answered (the other threads
        keep the admin's key at its limit meanwhile). The calls differ (Offset): identical ones
        within a second would be one signature, refused as a replay after its first use."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        def one(who, n):
            try:
                call(client(who), "DescribeHaVips", {"Offset": n, "Limit": 1})
                return "ok"
            except TencentCloudSDKException as e:
                return e.get_code()

        refused = []
        other_key = []  # the viewer's answer, asked once, right after the first refusal
        lock = threading.Lock()

        def admin(n):
            code = one("admin", n)
            if code == "RequestLimitExceeded":
                with lock:
                    first = not refused
                    refused.append(n)
                if first:
                    other_key.append(one("viewer", n))
            return code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(admin, range(120)))
        self.assertGreaterEqual(codes.count("ok"), 50, codes)
        self.assertIn("RequestLimitExceeded", codes)
        self.assertEqual(set(codes), {"ok", "RequestLimitExceeded"})
        self.assertEqual(other_key, ["ok"], "another key, asked while the admin's key was refused")

    def test_unknown_action(self):
        c = client("viewer")
        with self.assertRaises(TencentCloudSDKException) as e:
            c.call_json("RunInstances", {})
        self.assertEqual(e.exception.get_code(), "InvalidAction")


if __name__ == "__main__":
    unittest.main()
