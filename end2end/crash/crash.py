"""Crash storms: the real release binary takes concurrent creates, renames, deletes, EIP binds
and instance registrations over HTTP (logged in) and is SIGKILLed at a random moment; then
`havip check` must find the database consistent, and after a restart every acknowledged
change must be there, nothing unacknowledged half there, and no address used twice.

    python3 crash.py ITERATIONS      (SERVER_BIN, default target/release/havip)
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("SERVER_BIN", "target/release/havip"))
PASSWORD = "crash test password"
THREADS = 8


class Console:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.post("/login", {"name": "admin", "password": PASSWORD})

    def post(self, path, form=None, json_body=None, timeout=10):
        if json_body is not None:
            data, ctype = json.dumps(json_body).encode(), "application/json"
        else:
            data, ctype = urllib.parse.urlencode(form or {}).encode(), "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=data,
                                     headers={"Accept": "application/json", "Content-Type": ctype})
        with self.opener.open(req, timeout=timeout) as res:
            body = res.read()
            return json.loads(body) if body else None

    def get(self, path):
        with self.opener.open(self.base + path, timeout=10) as res:
            return json.loads(res.read())


class Storm:
    """What each thread did: acknowledged, and in flight when the server died."""

    def __init__(self, console, region, vpc, subnet):
        self.console, self.region, self.vpc, self.subnet = console, region, vpc, subnet
        self.lock = threading.Lock()
        self.havips = {}       # id -> acknowledged name
        self.uncertain = {}    # id -> names it may have (a rename or delete was in flight)
        self.maybe_created = set()  # names of creates in flight
        self.deleted = set()   # acknowledged deletes
        self.bound = {}        # havip id -> eip id (acknowledged binds)
        self.instances = set() # acknowledged registrations (MACs)
        self.acked = 0
        self.refused = 0
        self.counter = [0] * THREADS
        self.stop = False
        self.errors = []       # what went wrong in a worker: the run fails with it
        self.killing = False   # set just before the SIGKILL: from then on, no answer is expected

    def worker(self, t):
        """One client's storm. Python's threading swallows what a thread raises (SystemExit
        without a word), so every failure is recorded in `errors` for the main thread."""
        try:
            self.storm(t)
        except BaseException as e:  # noqa: B036 -- handed to the main thread, which fails the run
            with self.lock:
                self.errors.append(f"thread {t}: {type(e).__name__}: {e}")
            self.stop = True

    def join(self, threads):
        """Waits for the workers; fails the run with what went wrong in any of them."""
        for th in threads:
            th.join()
        if self.errors:
            raise SystemExit("a storm's worker failed:\n" + "\n".join(self.errors))

    def wait_for_acknowledged(self, within=30):
        """Waits until the storm has acknowledged a change (or a worker failed)."""
        deadline = time.monotonic() + within
        while self.acked == 0 and not self.errors:
            if time.monotonic() > deadline:
                raise SystemExit(f"no change acknowledged within {within} s")
            time.sleep(0.01)

    def storm(self, t):
        rng = random.Random(t * 7919 + time.time_ns())
        while not self.stop:
            self.counter[t] += 1
            n = self.counter[t]
            op = rng.choice(["create", "create", "rename", "delete", "bind", "register"])
            with self.lock:
                mine = [h for h in self.havips if self.havips[h].startswith(f"t{t}-")]
                free = [h for h in mine if h not in self.bound and h not in self.uncertain]
            try:
                if op == "create" or not free:
                    name = f"t{t}-{n}"
                    with self.lock:
                        self.maybe_created.add(name)
                    h = self.console.post("/api/create_havip", json_body={"req": {
                        "region_id": self.region, "name": name, "vpc_id": self.vpc,
                        "subnet_id": self.subnet, "ip": "Automatic"}})
                    with self.lock:
                        self.havips[h["id"]] = name
                        self.maybe_created.discard(name)
                elif op == "rename":
                    h = rng.choice(free)
                    name = f"t{t}-{n}-renamed"
                    with self.lock:
                        self.uncertain[h] = {self.havips[h], name}
                    self.console.post("/api/rename_havip", {"id": h, "name": name})
                    with self.lock:
                        self.havips[h] = name
                        del self.uncertain[h]
                elif op == "delete":
                    h = rng.choice(free)
                    with self.lock:
                        self.uncertain[h] = {self.havips[h], None}
                    self.console.post("/api/delete_havip", {"id": h})
                    with self.lock:
                        del self.havips[h]
                        del self.uncertain[h]
                        self.deleted.add(h)
                elif op == "bind":
                    h = rng.choice(free)
                    eip = self.console.post("/api/allocate_eip")
                    self.console.post("/api/bind_eip", {"eip_id": eip["id"], "havip_id": h})
                    with self.lock:
                        self.bound[h] = eip["id"]
                else:
                    mac = "52:54:%02x:%02x:%02x:%02x" % (t, n >> 16 & 255, n >> 8 & 255, n & 255)
                    ip = "10.51.%d.%d" % (t * 30 + n // 250 % 30, n % 250 + 2)
                    self.console.post("/api/register_instance", {"name": f"i{t}-{n}", "subnet_id": self.isubnet,
                                                                 "mac": mac, "ip": ip})
                    with self.lock:
                        self.instances.add(mac)
                with self.lock:
                    self.acked += 1
            except urllib.error.HTTPError as e:
                # a refusal changes nothing: what was marked in flight did not happen
                if e.code >= 500:
                    raise RuntimeError(f"{op} answered {e.code}: {e.read()[:300]}")
                with self.lock:
                    self.refused += 1
                    for h, names in list(self.uncertain.items()):
                        if self.havips.get(h) in names and self.havips[h].startswith(f"t{t}-"):
                            del self.uncertain[h]
            except (urllib.error.URLError, http.client.HTTPException, OSError):
                if self.killing:
                    return  # the server is gone: what was in flight stays uncertain
                raise


def start(data, port):
    proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--quota", "1000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the console did not start")


def settle(storm, havips):
    """After a verified restart, what is there is the new truth (in-flight changes resolved)."""
    for h in list(storm.uncertain):
        if h in havips:
            storm.havips[h] = havips[h]["name"]
        else:
            storm.havips.pop(h, None)
            storm.deleted.add(h)
    for h, row in havips.items():
        if row["name"] in storm.maybe_created:
            storm.havips[h] = row["name"]
    storm.uncertain.clear()
    storm.maybe_created.clear()
    storm.acked = storm.refused = 0
    storm.stop = storm.killing = False


def verify(storm, console):
    havips = {h["id"]: h for h in console.get("/api/v1/havips")}
    problems = []
    for h, name in storm.havips.items():
        if h in storm.uncertain:
            continue
        if h not in havips:
            problems.append(f"acknowledged HAVIP {h} ({name}) is gone")
        elif havips[h]["name"] != name:
            problems.append(f"HAVIP {h} is named {havips[h]['name']}, acknowledged {name}")
    for h, names in storm.uncertain.items():
        got = havips.get(h, {}).get("name")
        if got not in names:
            problems.append(f"HAVIP {h} is {got!r}, expected one of {names}")
    for h in storm.deleted:
        if h in havips:
            problems.append(f"deleted HAVIP {h} is back")
    known = set(storm.havips) | set(storm.uncertain) | storm.deleted
    for h, row in havips.items():
        if h not in known and row["name"].startswith("t") and row["name"] not in storm.maybe_created:
            problems.append(f"HAVIP {h} ({row['name']}) was never acknowledged nor in flight")
    ips = [row["ip"] for row in havips.values()]
    if len(ips) != len(set(ips)):
        problems.append("an address is used by two HAVIPs")
    rows = console.post("/api/eips_page")["eips"]
    eips = {r["eip"]["havip_id"]: r["eip"]["id"] for r in rows if r["eip"].get("havip_id")}
    for h, eip in storm.bound.items():
        if eips.get(h) != eip:
            problems.append(f"acknowledged bind of {eip} to {h} is gone")
    macs = {i["mac"] for i in console.post("/api/instances_page", {})["instances"]}
    for mac in storm.instances:
        if mac not in macs:
            problems.append(f"acknowledged instance {mac} is gone")
    return problems, havips


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    data = os.path.join(tempfile.mkdtemp(prefix="havip-crash-"), "data")
    env = dict(os.environ, HAVIP_PASSWORD=PASSWORD)
    subprocess.run([BIN, "user", "add", "admin", "--role", "admin", "--data-dir", data], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = 3800 + random.randrange(90)
    base = f"http://127.0.0.1:{port}"
    proc = start(data, port)
    console = Console(base)
    page = console.post("/api/network_page", {})
    region = page["region_id"]
    vpc = console.post("/api/create_vpc", {"region_id": region, "name": "storm", "cidr": "10.50.0.0/16"})
    subnet = console.post("/api/create_subnet", {"vpc_id": vpc["id"], "name": "storm", "cidr": "10.50.0.0/16"})
    ivpc = console.post("/api/create_vpc", {"region_id": region, "name": "hosts", "cidr": "10.51.0.0/16"})
    isubnet = console.post("/api/create_subnet", {"vpc_id": ivpc["id"], "name": "hosts", "cidr": "10.51.0.0/16"})
    totals = {"acknowledged": 0, "uncertain": 0}
    storm = None
    storm = Storm(console, region, vpc["id"], subnet["id"])
    storm.isubnet = isubnet["id"]
    for it in range(1, iterations + 1):
        threads = [threading.Thread(target=storm.worker, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        storm.wait_for_acknowledged()
        time.sleep(random.uniform(0.3, 1.5))  # pacing: the kill lands at a random moment
        storm.killing = True
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        storm.stop = True
        storm.join(threads)
        if storm.acked == 0:
            raise SystemExit(f"iteration {it}: the storm acknowledged no change before the kill")
        check = subprocess.run([BIN, "check", "--data-dir", data], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"iteration {it}: havip check failed:\n{check.stdout}{check.stderr}")
        proc = start(data, port)
        console = Console(base)
        storm.console = console
        problems, havips = verify(storm, console)
        in_flight = len(storm.uncertain) + len(storm.maybe_created)
        totals["acknowledged"] += storm.acked
        totals["uncertain"] += in_flight
        print(f"crash {it}/{iterations}: {storm.acked} acknowledged changes, {storm.refused} refused, "
              f"{in_flight} in flight when killed; "
              f"check: consistent; {'all there' if not problems else 'PROBLEMS'} ({len(havips)} HAVIPs)", flush=True)
        if problems:
            proc.kill()
            raise SystemExit("\n".join(problems))
        settle(storm, havips)
    # an online backup in the middle of a storm restores consistent
    storm.console = console
    threads = [threading.Thread(target=storm.worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    storm.wait_for_acknowledged()
    backup = os.path.join(os.path.dirname(data), "backup.jsonl")
    with open(backup, "wb") as out:
        subprocess.run([BIN, "backup", "--data-dir", data], stdout=out, check=True)
    storm.stop = True
    storm.join(threads)
    restored = subprocess.run([BIN, "restore", backup, "--data-dir", os.path.join(os.path.dirname(data), "restored")],
                              capture_output=True, text=True)
    if restored.returncode != 0:
        raise SystemExit(f"restoring an online backup: {restored.stdout}{restored.stderr}")
    print(f"online backup during a storm: {restored.stdout.strip()}")
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)
    if code != 0:
        raise SystemExit(f"SIGTERM: exit code {code}")
    print(f"crash storms: {iterations} kills, {totals['acknowledged']} acknowledged changes, none lost; "
          f"{totals['uncertain']} in flight; SIGTERM exits 0")


if __name__ == "__main__":
    main()
