// The lab scenarios: keepalived failover as the console sees it, through the real agent.
import { test, expect, Page } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BASE, DIR, MAC1, MAC2, VIP, HavipState, history, inNs, hasVip, keepalivedLog, log, login, makeCertificates, metrics, api, ns,
  multicastConf, plainHttpAnswer, provision, sample, session, sh, startAgent, startKeepalived, startServer, startTlsAgent, startTlsServer, stats,
  stopKeepalived, stopServer, tlsGet, vipState, vmacConf, waitFor, REPLICAS, startEtcd, migrateToEtcd, startReplicas, startAgentOn, stopReplicas,
} from "./lab";
import { eventsOf, receiver, verifies } from "../webhook";

test.describe.configure({ mode: "serial" });

let page: Page;
let agent: ChildProcess;
let havipId = "";
let agentToken = "";
const results: Record<string, unknown> = {};
let hook: Awaited<ReturnType<typeof receiver>>;
let hookSecret = "";

// How fast the console reacts (failover, conflict, loss, webhooks, push latency) is measured,
// not asserted: the figures go to lab-results.json, which BENCHMARKS.md quotes. Waits for the
// console have this deadline, which only stops a hung test.
const HUNG = 30_000;

const rowOf = (p: Page) => p.locator(`#havip-table tr[data-ip="${VIP}"]`);

/** Records every change of the VIP row's "Bound instance" cell with its wall-clock time. */
async function watchDom(p: Page) {
  await p.evaluate((vip) => {
    const w = window as any;
    w.__changes = [];
    w.__loaded = true; // gone if the page reloads
    let last: string | null | undefined;
    const read = () => document.querySelector(`#havip-table tr[data-ip="${vip}"] [data-testid=bound]`)?.textContent;
    new MutationObserver(() => {
      const text = read();
      if (text !== last) {
        last = text;
        w.__changes.push({ t: performance.timeOrigin + performance.now(), text });
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, VIP);
}

/** When the cell first showed `mac` at or after `since`; a change the observer missed fails. */
async function domChangeAfter(p: Page, since: number, mac: string): Promise<number> {
  const changes: { t: number; text: string }[] = await p.evaluate(() => (window as any).__changes);
  const seen = changes.find((c) => c.t >= since && c.text?.includes(mac))?.t;
  if (seen === undefined) {
    throw new Error(`no change of the bound cell to ${mac} recorded since ${since}; recorded: ${JSON.stringify(changes.slice(-4))}`);
  }
  return seen;
}

test.beforeAll(async ({ browser }) => {
  provision();
  await startServer();
  const token = await login();
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1440, height: 900 } });
  await context.addCookies([{ name: "havip_session", value: token, url: BASE }]);
  page = await context.newPage();
  hook = await receiver();
});

test.afterAll(async () => {
  writeFileSync(join(__dirname, "..", "lab-results.json"), JSON.stringify(results, null, 2));
  console.log("lab results:", JSON.stringify(results, null, 2));
  agent?.kill("SIGKILL");
  hook?.close();
  await stopServer();
  stopReplicas();
});

test("set-up through the console: the HAVIP and an agent token", async () => {
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await page.getByRole("button", { name: "Apply" }).click();
  const dialog = page.getByRole("dialog", { name: "Apply for HAVIP" });
  await dialog.getByLabel("Name").fill("keepalived-vip");
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill(VIP);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(rowOf(page).getByTestId("status")).toHaveText("Not bound with CVM yet");
  havipId = (await rowOf(page).getAttribute("data-id"))!;

  await page.getByRole("link", { name: "Agents" }).click();
  await page.locator("#agent-name").fill("lab-agent");
  await page.getByLabel(/Default-Subnet-16 \(172\.16\.16\.0\/24\)/).check();
  await page.getByRole("button", { name: "Create agent" }).click();
  const token = (await page.locator("#agent-token").textContent())!;
  expect(token).toMatch(/^hvt_[0-9a-f]{64}$/);
  agentToken = token;
  await expect(page.locator("#agent-table")).toContainText("lab-agent");
  const agentState = page.locator("#agent-table tr", { hasText: "lab-agent" }).getByTestId("agent-state");
  await expect(agentState).toHaveText("Offline");

  // an alert rule for this HAVIP, added over HTTP as a script would (no window: every change)
  const added = await fetch(BASE + "/api/create_alert", {
    method: "POST",
    headers: { cookie: session, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ rule: {
      name: "lab-pager", target: { kind: "webhook", url: hook.url }, dedup_s: 0, scope: { havip_id: havipId },
      events: ["havip.holder.changed", "havip.conflict.detected", "havip.conflict.cleared", "havip.lost"],
    } }),
  });
  expect(added.status).toBe(200);
  hookSecret = (await added.json()).secret;

  // keepalived elects the primary; the agent starts only after the gratuitous ARPs are over:
  // a new master sends a round of them at once and another garp_master_delay (5 s) later,
  // logging "Sending/queueing gratuitous ARPs" before each round's ARPs
  startKeepalived("c1");
  startKeepalived("c2");
  await waitFor(() => hasVip("c1"), 15_000, "primary holds the VIP");
  await waitFor(() => (keepalivedLog("c1").match(/Sending\/queueing gratuitous ARPs/g)?.length ?? 0) >= 2, HUNG,
    "the primary's second round of gratuitous ARPs (keepalived-c1.log)");
  agent = startAgent(token);
});

test("1. the agent probes and finds the primary: Bound with CVM", async () => {
  await expect.poll(async () => (await vipState())?.status, { timeout: HUNG }).toEqual({ status: "bound", mac: MAC1, since: expect.any(Number) });
  await page.goto("/");
  await expect(rowOf(page).getByTestId("status")).toHaveText("Bound with CVM");
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC1);
  await expect(rowOf(page).getByTestId("unwatched")).toHaveCount(0);
  await page.goto("/agents");
  await expect(page.locator("#agent-table tr", { hasText: "lab-agent" }).getByTestId("agent-state")).toContainText("Connected since");
});

test("2. primary host failure: the browser shows the failover, no reload", async () => {
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await watchDom(page);
  const t0 = Date.now();
  inNs("c1", "ip", "link", "set", "eth0", "down");
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC2, { timeout: HUNG });
  await expect(rowOf(page).getByTestId("status")).toHaveText("Bound with CVM");
  const seen = await domChangeAfter(page, t0, MAC2);
  results.failover_detection_ms = Math.round(seen - t0);
  expect(await page.evaluate(() => (window as any).__loaded)).toBe(true);
  const events = await history(havipId);
  expect(events[0].change).toEqual({ change: "failover", from: MAC1, to: MAC2 });
  // the webhook heard of it (how soon after the console saw keepalived's takeover is measured)
  await expect.poll(() => eventsOf(hook.hits, "havip.holder.changed").filter((e) => e.event.data.from?.mac === MAC1).length,
    { timeout: HUNG, intervals: [20] }).toBe(1);
  const failover = eventsOf(hook.hits, "havip.holder.changed").find((e) => e.event.data.from?.mac === MAC1)!;
  expect(failover.event.data.to.mac).toBe(MAC2);
  expect(failover.event.subject).toBe(havipId);
  expect(verifies(failover.hit, hookSecret)).toBe(true);
  results.webhook_after_failover_ms = failover.hit.at - events[0].at;
  // and Prometheus sees it: bound, to the new holder, two holder changes (the binding, the failover)
  const scraped = await metrics();
  const at = `vip="${VIP}",subnet="${failover.event.data.subnet_id}"`;
  expect(sample(scraped, `havip_vip_state{${at}}`)).toBe(1);
  expect(sample(scraped, `havip_vip_holder_info{${at},mac="${MAC2}",instance=""}`)).toBe(1);
  expect(scraped).not.toContain(`mac="${MAC1}"`);
  expect(sample(scraped, `havip_vip_holder_changes_total{${at}}`)).toBe(2);
  expect(sample(scraped, `havip_agent_up{agent="lab-agent"}`)).toBe(1);
  expect(sample(scraped, `havip_agent_observations_total{agent="lab-agent"}`)).toBeGreaterThan(0);
  await page.goto(`/havip/${havipId}`);
  await expect(page.locator("#binding").getByTestId("holder")).toHaveText(MAC2);
  await expect(page.locator("#history .timeline li").first()).toContainText(`Failover ${MAC1} → ${MAC2}`);
  await expect(page.locator("#binding")).toContainText("lab-agent");
  await page.goto("/");

  // the primary comes back and preempts (the seed's `state MASTER` makes keepalived drop nopreempt)
  inNs("c1", "ip", "link", "set", "eth0", "up");
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC1, { timeout: HUNG });
});

test("3. keepalived SIGKILLed on the master: Conflict naming both MACs, resolved by removing the stale address", async () => {
  await waitFor(() => hasVip("c1") && !hasVip("c2"), 10_000, "primary is master again");
  // the primary's preemption is a handover, however a probe falls in it: no conflict so far
  expect(eventsOf(hook.hits, "havip.conflict.detected"), "conflicts before the split brain").toEqual([]);
  const t0 = Date.now();
  await stopKeepalived("c1", "SIGKILL");
  await expect.poll(async () => (await vipState())?.status, { timeout: HUNG, intervals: [50] })
    .toEqual({ status: "conflict", macs: [MAC1, MAC2] });
  results.conflict_detection_ms = Date.now() - t0;
  await expect.poll(() => eventsOf(hook.hits, "havip.conflict.detected").length, { timeout: HUNG, intervals: [20] }).toBe(1);
  const conflict = eventsOf(hook.hits, "havip.conflict.detected")[0];
  expect(verifies(conflict.hit, hookSecret)).toBe(true);
  expect(conflict.event.data.claimants.map((c: { mac: string }) => c.mac).sort()).toEqual([MAC1, MAC2]);
  results.webhook_after_conflict_ms = conflict.hit.at - (await history(havipId))[0].at;
  const split = await metrics();
  const at = `vip="${VIP}",subnet="${conflict.event.data.subnet_id}"`;
  expect(sample(split, `havip_vip_state{${at}}`)).toBe(2);
  expect(sample(split, `havip_vip_conflicts_total{${at}}`)).toBe(1);
  expect(split.match(/havip_vip_holder_info\{/g)?.length).toBe(2);
  await expect(rowOf(page).getByTestId("status")).toHaveText("Conflict");
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC1);
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC2);

  const t1 = Date.now();
  inNs("c1", "ip", "addr", "del", `${VIP}/32`, "dev", "eth0");
  await expect.poll(async () => (await vipState())?.status, { timeout: HUNG, intervals: [50] })
    .toEqual({ status: "bound", mac: MAC2, since: expect.any(Number) });
  results.conflict_resolution_ms = Date.now() - t1;
  const kinds = (await history(havipId)).map((e) => e.change.change);
  expect(kinds.slice(0, 2)).toEqual(["resolved", "conflict"]);

  // the timeline, as the server renders it (before any script runs): both holders' periods,
  // the split brain in red, the failovers marked
  const html = await (await api(`/havip/${havipId}`)).text();
  const day = html.slice(html.indexOf('data-testid="timeline-day"'), html.indexOf('data-testid="timeline-day-availability"'));
  expect(day).toContain('data-held="conflict"');
  expect(day.match(/data-held="bound"/g)!.length).toBeGreaterThanOrEqual(3);
  expect(day.match(/class="failover"/g)!.length).toBeGreaterThanOrEqual(2);
  await page.goto(`/havip/${havipId}`);
  const availability = await page.getByTestId("timeline-day-availability").textContent();
  expect(availability).toMatch(/^\d{1,2}\.\d\d %$/); // not 100 %: there was a split brain
  await expect(page.locator("#availability .legend")).toContainText(MAC1);
  await expect(page.locator("#availability .legend")).toContainText(MAC2);
  results.availability_24h = availability;
  await page.goto("/");
  await expect(rowOf(page).getByTestId("spark-availability")).toHaveText(/^\d{1,2}\.\d\d %$/);
  expect(await rowOf(page).locator('[data-testid=spark] rect[data-held="conflict"]').count()).toBeGreaterThan(0);
});

test("4. keepalived stopped gracefully on both: Not bound with CVM yet", async () => {
  startKeepalived("c1");
  await waitFor(() => hasVip("c1") && !hasVip("c2"), 15_000, "primary is master again");
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(MAC1);
  await stopKeepalived("c2", "SIGTERM");
  await stopKeepalived("c1", "SIGTERM");
  const t0 = Date.now();
  expect(hasVip("c1") || hasVip("c2")).toBe(false);
  await expect.poll(async () => (await vipState())?.status_label, { timeout: HUNG, intervals: [50] })
    .toBe("Not bound with CVM yet");
  results.lost_detection_ms = Date.now() - t0;
  await expect(rowOf(page).getByTestId("status")).toHaveText("Not bound with CVM yet");
  expect((await history(havipId))[0].change).toEqual({ change: "lost", mac: MAC1 });
});

test("push latency: gratuitous ARP on the wire to the browser's DOM, over 30 announcements", async () => {
  const dump = spawn("ip", ["netns", "exec", ns("sw"), "tcpdump", "-i", "br0", "-l", "-n", "-e", "-tt", "arp"]);
  const wire: { t: number; mac: string }[] = [];
  let buffer = "";
  let dumpErr = "";
  dump.stderr.on("data", (d) => (dumpErr += d));
  dump.stdout.on("data", (d) => {
    buffer += d.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      const m = line.match(/^(\d+\.\d+) (\S+) > .*Request who-has 172\.16\.16\.12 .*tell 172\.16\.16\.12,/);
      if (m) wire.push({ t: Number(m[1]) * 1000, mac: m[2] });
    }
  });
  // tcpdump says so on stderr once it captures
  await waitFor(() => dumpErr.includes("listening on"), 10_000, "tcpdump listening on br0")
    .catch((e) => { throw new Error(`${e.message}; tcpdump said: ${dumpErr}`); });

  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await watchDom(page);
  const hosts = [["c1", MAC1], ["c2", MAC2]] as const;
  const latencies: number[] = [];
  const split = { toConsole: [] as number[], toPage: [] as number[], toScreen: [] as number[] };
  let holder: "c1" | "c2" | undefined;
  for (let i = 0; i < 31; i++) {
    const [to, mac] = hosts[i % 2];
    if (holder) inNs(holder, "ip", "addr", "del", `${VIP}/32`, "dev", "eth0");
    inNs(to, "ip", "addr", "add", `${VIP}/32`, "dev", "eth0");
    const since = Date.now();
    inNs(to, "arping", "-U", "-c", "1", "-I", "eth0", VIP);
    holder = to;
    await expect(rowOf(page).getByTestId("bound")).toContainText(mac, { timeout: HUNG });
    const dom = await domChangeAfter(page, since, mac);
    await waitFor(() => wire.some((w) => w.mac === mac && w.t >= since - 5), HUNG, "GARP seen by tcpdump");
    const sent = wire.find((w) => w.mac === mac && w.t >= since - 5)!;
    // where the time went: the console's record of the change (its history, ms), the page's
    // mark of the change's frame (`havip-change`), and the DOM (all on this machine's clock)
    const recorded = (await history(havipId))[0].at;
    // the frame that changed the DOM: the latest mark before the change
    const arrived: number = await page.evaluate((dom) => {
      const marks = performance.getEntriesByName("havip-change").map((m) => performance.timeOrigin + m.startTime);
      return marks.filter((t) => t <= dom).pop() ?? NaN;
    }, dom);
    if (i > 0) {
      // the first only sets the starting holder
      latencies.push(dom - sent.t);
      split.toConsole.push(recorded - sent.t);
      split.toPage.push(arrived - recorded);
      split.toScreen.push(dom - arrived);
    }
  }
  dump.kill();
  inNs(holder!, "ip", "addr", "del", `${VIP}/32`, "dev", "eth0");
  const tenths = (xs: number[]) => stats(xs.map((x) => Math.round(x * 10) / 10));
  results.push_latency_ms = tenths(latencies);
  // the same, in three parts: the wire to the console's record (capture, the agent, its frame,
  // the store's write), the record to the page's frame (the hub, the live channel), the frame
  // to the DOM (the page applying the row)
  results.push_latency_split_ms = {
    wire_to_console: tenths(split.toConsole),
    console_to_page: tenths(split.toPage),
    page_to_screen: tenths(split.toScreen),
  };
  // every announcement measured: 30 numbers, none missing
  expect(latencies.filter((x) => Number.isFinite(x)).length).toBe(30);
  expect(await page.evaluate(() => (window as any).__loaded)).toBe(true);
});

test("4b. behind keepalived's virtual MAC (use_vmac): a split brain is a Conflict of two hosts answering with one MAC", async () => {
  const VMAC = "00:00:5e:00:01:33"; // VRRP's virtual MAC for VRID 51
  const DEV = "vrrp.51";
  startKeepalived("c1", vmacConf("c1"));
  await waitFor(() => hasVip("c1", DEV), 15_000, `primary holds the VIP on ${DEV}`);
  startKeepalived("c2", vmacConf("c2"));
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(VMAC);
  await page.goto(`/havip/${havipId}`);
  await expect(page.getByTestId("virtual-mac")).toHaveText("virtual MAC in use (VRRP VRID 51)");
  await expect(page.getByTestId("holder")).toHaveText(VMAC);

  // the primary's keepalived dies without removing its address: both hosts answer with the MAC
  const t0 = Date.now();
  await stopKeepalived("c1", "SIGKILL");
  await waitFor(() => hasVip("c2", DEV), 15_000, "the secondary took the VIP too");
  expect(hasVip("c1", DEV)).toBe(true);
  await expect.poll(async () => (await vipState())?.status, { timeout: HUNG, intervals: [50] })
    .toEqual({ status: "conflict", macs: [VMAC, VMAC] });
  results.shared_mac_conflict_detection_ms = Date.now() - t0;
  await expect(page.getByTestId("status")).toHaveText("Conflict");
  await expect(page.getByTestId("holder")).toHaveText(`2 hosts answer with ${VMAC}`);
  expect((await history(havipId))[0].change).toEqual({ change: "conflict", macs: [VMAC, VMAC] });
  await expect(page.locator("#history")).toContainText(`Conflict: 2 hosts answer with ${VMAC}`);
  // (the scenarios before may raise other conflicts: a GARP race while the push-latency test
  // moves the address is one; this alert is the one of hosts sharing a MAC)
  const shared = () => eventsOf(hook.hits, "havip.conflict.detected").filter((e) => e.event.data.hosts_sharing_mac === 2);
  await expect.poll(() => shared().length, { timeout: HUNG, intervals: [20] }).toBe(1);
  const alert = shared()[0].event.data;
  expect(alert.summary).toBe(`Conflict: 2 hosts answer with ${VMAC}`);
  const at = `vip="${VIP}",subnet="${alert.subnet_id}"`;
  const scraped = await metrics();
  expect(sample(scraped, `havip_vip_state{${at}}`)).toBe(2);
  expect(sample(scraped, `havip_vip_hosts_sharing_mac{${at},mac="${VMAC}"}`)).toBe(2);

  // the stale address goes: one answer per probe again
  inNs("c1", "ip", "link", "del", DEV);
  await expect.poll(async () => (await vipState())?.status, { timeout: HUNG, intervals: [50] })
    .toEqual({ status: "bound", mac: VMAC, since: expect.any(Number) });
  expect((await history(havipId)).map((e) => e.change.change).slice(0, 2)).toEqual(["resolved", "conflict"]);
  await expect(page.getByTestId("status")).toHaveText("Bound with CVM");
  await stopKeepalived("c2", "SIGTERM");
  await waitFor(() => !hasVip("c2", DEV), 10_000, "the secondary's virtual interface is gone");
});

test("4c. multicast VRRP adverts: the detail page shows the VRID, each router's priority and who says it is master; two masters are a Conflict even when one ignores ARP", async () => {
  const DEV = "vrrp.51";
  const VMAC = "00:00:5e:00:01:33";
  const router = (ip: string) => page.locator(`#vrrp-routers tr[data-router="${ip}"]`);
  startKeepalived("c1", multicastConf("c1"));
  await waitFor(() => hasVip("c1", DEV), 15_000, `primary holds the VIP on ${DEV}`);
  await page.goto(`/havip/${havipId}`);
  await expect(page.getByTestId("vrrp-vrid")).toHaveText("VRID 51", { timeout: HUNG });
  await expect(router("172.16.16.5").getByTestId("state")).toHaveText("advertises as master", { timeout: HUNG });
  await expect(router("172.16.16.5").getByTestId("priority")).toHaveText("100");
  await expect(page.getByTestId("vrrp-split-brain")).toHaveCount(0);

  // a partition between the two routers, the agent hearing both: each drops the other's
  // adverts as they arrive (nftables, before keepalived sees them), and both become master.
  // (With only another password, keepalived re-arms its advert timer on each advert it
  // rejects: the second master's adverts then came 1-3 s apart, not always three in a row.)
  // The secondary answers no ARP at all, so the probes see one holder: only the adverts tell.
  const partition = (cut: boolean) => {
    for (const host of ["c1", "c2"] as const) {
      if (!cut) { inNs(host, "nft", "delete", "table", "inet", "lab_partition"); continue; }
      inNs(host, "nft", "add", "table", "inet", "lab_partition");
      inNs(host, "nft", "add", "chain", "inet", "lab_partition", "input",
        "{ type filter hook input priority 0; }");
      inNs(host, "nft", "add", "rule", "inet", "lab_partition", "input", "ip", "protocol", "vrrp", "drop");
    }
  };
  partition(true);
  inNs("c2", "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=8");
  const t0 = Date.now();
  startKeepalived("c2", multicastConf("c2", "2222"));
  await waitFor(() => hasVip("c2", DEV), 15_000, `the secondary holds the VIP on ${DEV} too`);
  await expect(page.getByTestId("vrrp-split-brain")).toHaveText("2 routers advertise as master: split brain", { timeout: HUNG });
  results.vrrp_two_masters_shown_ms = Date.now() - t0;
  expect(hasVip("c2", DEV) && hasVip("c1", DEV)).toBe(true);
  await expect(router("172.16.16.6").getByTestId("priority")).toHaveText("90");
  await expect(router("172.16.16.6").getByTestId("state")).toHaveText("advertises as master");
  // a Conflict by the adverts, with what was heard in the history; they leave from each
  // host's own interface (vmac_xmit_base), so it names both hosts behind the virtual MAC
  await expect(page.getByTestId("status")).toHaveText("Conflict", { timeout: HUNG });
  const [split] = await history(havipId);
  expect(split.change).toEqual({ change: "conflict", macs: [MAC1, MAC2] });
  expect(split.cause).toBe("VRID 51: 2 routers advertise as master (172.16.16.5 priority 100, 172.16.16.6 priority 90)");

  // the secondary stops (it resigns with priority 0): one master, one answer, no split brain
  partition(false);
  await stopKeepalived("c2", "SIGTERM");
  await expect(page.getByTestId("vrrp-split-brain")).toHaveCount(0, { timeout: HUNG });
  await expect(router("172.16.16.6").getByTestId("state")).toHaveText("silent (backup or gone)");
  await expect(page.getByTestId("status")).toHaveText("Bound with CVM", { timeout: HUNG });
  expect((await history(havipId))[0].change).toEqual({ change: "resolved", mac: VMAC });
  inNs("c2", "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=0");
  await stopKeepalived("c1", "SIGTERM");
  await waitFor(() => !hasVip("c1", DEV), 10_000, "the primary's virtual interface is gone");
});

test("4d. behind use_vmac, a normal failover (the master's link down) is a clean holder change, 20 times: never a Conflict", async () => {
  const VMAC = "00:00:5e:00:01:33";
  const DEV = "vrrp.51";
  const holders = () => (["c1", "c2"] as const).filter((h) => hasVip(h, DEV));
  startKeepalived("c1", vmacConf("c1"));
  await waitFor(() => hasVip("c1", DEV), 15_000, `primary holds the VIP on ${DEV}`);
  startKeepalived("c2", vmacConf("c2"));
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(VMAC);
  const t0 = Date.now();
  const takeovers: number[] = [];
  for (let i = 1; i <= 20; i++) {
    const [master] = holders();
    const other = master === "c1" ? "c2" : "c1";
    const down = Date.now();
    inNs(master, "ip", "link", "set", "eth0", "down");
    await waitFor(() => hasVip(other, DEV), 15_000, `${other} took over (failover ${i})`);
    takeovers.push(Date.now() - down);
    await expect.poll(async () => (await vipState())?.status, { timeout: HUNG })
      .toEqual({ status: "bound", mac: VMAC, since: expect.any(Number) });
    inNs(master, "ip", "link", "set", "eth0", "up");
    // back on the segment: one of the two holds the address again, and only one
    await waitFor(() => holders().length === 1, 15_000, `one holder after failover ${i}`);
    await expect.poll(async () => (await vipState())?.status?.status, { timeout: HUNG }).toBe("bound");
  }
  const conflicts = (await history(havipId)).filter((e) => e.at >= t0 && e.change.change === "conflict");
  results.vmac_failovers = { n: 20, conflicts: conflicts.length, takeover_ms: stats(takeovers) };
  expect(conflicts).toEqual([]);
  await stopKeepalived("c1", "SIGTERM");
  await stopKeepalived("c2", "SIGTERM");
  await waitFor(() => holders().length === 0, 10_000, "both virtual interfaces are gone");
});

test("5. the server restarts during a failover: agent and browser reconnect, the state is right", async () => {
  startKeepalived("c1");
  startKeepalived("c2");
  await waitFor(() => hasVip("c1"), 15_000, "primary holds the VIP");
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(MAC1);
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await watchDom(page);

  await stopServer();
  await expect(page.locator("#live-indicator")).toHaveText("○ Offline");
  // the failover happens while nobody is listening
  inNs("c1", "ip", "link", "set", "eth0", "down");
  await waitFor(() => hasVip("c2"), 10_000, "secondary took over");
  const t0 = Date.now();
  await startServer();
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(MAC2);
  results.resync_after_restart_ms = Date.now() - t0;
  await expect(page.locator("#live-indicator")).toHaveText("● Live", { timeout: HUNG });
  await expect(rowOf(page).getByTestId("bound")).toContainText(MAC2);
  expect(await page.evaluate(() => (window as any).__loaded)).toBe(true);
  expect(sh("cat", [join(DIR, "logs", "agent.log")])).toContain("reconnecting");
  inNs("c1", "ip", "link", "set", "eth0", "up");
});

test("6. instances: the discovered CVMs registered in one click; a host outside the allowed holders is unauthorized", async () => {
  await waitFor(() => hasVip("c1") && !hasVip("c2"), 15_000, "primary is master again");
  await page.goto("/instances");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  // the hosts announce their own addresses, as they do when they boot; the agent reports them
  inNs("c1", "arping", "-U", "-c", "1", "-I", "eth0", "172.16.16.5");
  inNs("c2", "arping", "-U", "-c", "1", "-I", "eth0", "172.16.16.6");
  for (const [mac, ip, name] of [[MAC1, "172.16.16.5", "cvm-primary"], [MAC2, "172.16.16.6", "cvm-secondary"]]) {
    const found = page.locator(`#discovered-table tr[data-mac="${mac}"]`);
    await expect(found).toContainText(ip); // pushed live, no reload
    await found.getByLabel("Instance name").fill(name);
    await found.getByRole("button", { name: "Register" }).click();
    await expect(page.locator(`#instance-table tr[data-mac="${mac}"]`)).toContainText(name);
    await expect(found).toHaveCount(0);
  }
  await page.goto("/");
  await expect(rowOf(page).getByTestId("bound")).toHaveText(`cvm-primary (${MAC1})`);

  // only the primary may hold the VIP
  await page.goto(`/havip/${havipId}`);
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const card = page.locator("#allowed-holders");
  await card.getByLabel(/cvm-primary/).check();
  await card.getByRole("button", { name: "Save" }).click();
  await expect(card.getByTestId("allowed-summary")).toContainText("Only the 1 checked instance(s)");
  await expect(page.locator("#binding").getByTestId("holder-instance")).toContainText("cvm-primary");

  // the primary fails; the secondary takes over, but may not hold it: shown red, not the holder
  const t0 = Date.now();
  inNs("c1", "ip", "link", "set", "eth0", "down");
  const binding = page.locator("#binding");
  await expect(binding.getByTestId("unauthorized-claims")).toContainText(`Unauthorized: cvm-secondary (${MAC2})`, { timeout: HUNG });
  await expect(binding.getByTestId("status")).toHaveText("Not bound with CVM yet", { timeout: HUNG });
  results.unauthorized_claim_shown_ms = Date.now() - t0;
  await expect(page.locator("#history .timeline li").filter({ hasText: "Unauthorized claim by cvm-secondary" })).toHaveCount(1);
  const kinds = (await history(havipId)).map((e) => e.change.change);
  expect(kinds).toContain("unauthorized");
  const state = await vipState();
  expect(state?.status).toEqual({ status: "unbound" });
  expect(state?.unauthorized.map((c) => c.mac)).toContain(MAC2);
  await page.goto("/");
  await expect(rowOf(page).getByTestId("unauthorized")).toContainText("cvm-secondary");

  // the primary comes back and preempts: bound again to the allowed holder
  inNs("c1", "ip", "link", "set", "eth0", "up");
  await expect.poll(async () => (await vipState())?.status?.mac, { timeout: HUNG }).toBe(MAC1);
  await expect(rowOf(page).getByTestId("bound")).toHaveText(`cvm-primary (${MAC1})`);
  expect((await vipState())?.holder_label).toBe(`cvm-primary (${MAC1})`);
  expect((await vipState())?.watched).toBe(true);
  await stopKeepalived("c2", "SIGTERM");
  await stopKeepalived("c1", "SIGTERM");
});

test("7. TLS: the console serves HTTPS and WSS on the management network; the agent reports over WSS with --ca-cert", async () => {
  const tls = makeCertificates();
  startKeepalived("c1");
  startKeepalived("c2");
  await waitFor(() => hasVip("c1"), 15_000, "primary holds the VIP");
  // the console moves to the console namespace and serves TLS only; the agent follows it
  // across the management link (10.99.0.1 -> 10.99.0.2), not the Unix socket
  agent?.kill("SIGTERM");
  await stopServer();
  await startTlsServer(tls);
  const tlsVip = async (): Promise<HavipState | undefined> => {
    const res = await tlsGet("/api/v1/havips");
    return res.status === 200 ? (JSON.parse(res.body) as HavipState[]).find((h) => h.ip === VIP) : undefined;
  };

  // without the private CA the agent cannot trust the console: it says why and never connects
  const untrusting = startTlsAgent("agent-untrusting", agentToken);
  await waitFor(() => log("agent-untrusting").includes("TLS handshake"), 10_000, "the untrusting agent's refusal");
  untrusting.kill("SIGKILL");
  expect(log("agent-untrusting")).toMatch(/UnknownIssuer|certificate/i);
  expect(log("agent-untrusting")).not.toContain("connected as");

  const t0 = Date.now();
  agent = startTlsAgent("agent-tls", agentToken, tls.ca);
  await expect.poll(async () => { const v = await tlsVip(); return v?.watched && v.status.mac; }, { timeout: HUNG }).toBe(MAC1);
  results.wss_agent_bound_ms = Date.now() - t0;
  expect(log("agent-tls")).toContain("connected as");
  expect(log("agent-tls")).not.toContain("plain text");

  // an observation over WSS: the primary fails, the secondary (not an allowed holder since
  // scenario 6) claims the VIP and is reported as unauthorized; then the primary returns
  inNs("c1", "ip", "link", "set", "eth0", "down");
  await expect.poll(async () => (await tlsVip())?.unauthorized.map((c) => c.mac), { timeout: HUNG }).toContain(MAC2);
  // the primary is lost after three unanswered probes, which races the secondary's takeover
  // (three missed adverts): both take about 3 s
  await expect.poll(async () => (await tlsVip())?.status, { timeout: HUNG }).toEqual({ status: "unbound" });
  inNs("c1", "ip", "link", "set", "eth0", "up");
  await expect.poll(async () => (await tlsVip())?.status?.mac, { timeout: HUNG }).toBe(MAC1);

  // plain HTTP on the TLS port: no HTTP answer at all (a TLS alert at most, then the end)
  const plain = await plainHttpAnswer("/login");
  expect(plain, "plain HTTP was answered").not.toContain("HTTP/");
  await stopKeepalived("c2", "SIGTERM");
  await stopKeepalived("c1", "SIGTERM");
});

test("8. three replicas on etcd: the hosts' agents report to two replicas, a browser on the third sees the failover and the split brain, each decided once", async () => {
  agent?.kill("SIGTERM");
  await stopServer();
  await startEtcd();
  expect(migrateToEtcd()).toContain("verified");
  await startReplicas();
  const [first, second, third] = REPLICAS;
  try {
    // a second agent, made through the third replica (the session is one for all of them)
    const subnet = (await vipState(third.base))!.subnet_id;
    const made = await fetch(third.base + "/api/create_agent", {
      method: "POST",
      headers: { cookie: session, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ name: "lab-agent-2", subnet_ids: [subnet] }),
    });
    expect(made.status).toBe(200);
    const secondToken: string = (await made.json()).token;
    startKeepalived("c1");
    startKeepalived("c2");
    await waitFor(() => hasVip("c1"), 15_000, "primary holds the VIP");
    // (two hosts of the segment, each with its own agent and MAC)
    startAgentOn("ag", 0, "agent-replica-1", agentToken);
    startAgentOn("ag2", 1, "agent-replica-2", secondToken);

    const p = await page.context().newPage();
    await p.goto(third.base + "/agents");
    for (const name of ["lab-agent", "lab-agent-2"]) {
      const row = p.locator("#agent-table tbody tr").filter({ has: p.locator("div.name").getByText(name, { exact: true }) });
      await expect(row.getByTestId("agent-state"))
        .toContainText("Connected since", { timeout: HUNG });
    }
    // both CVMs may hold the VIP again (scenario 6 allowed the primary only)
    await p.goto(`${third.base}/havip/${havipId}`);
    const card = p.locator("#allowed-holders");
    await card.getByLabel(/cvm-secondary/).check();
    await card.getByRole("button", { name: "Save" }).click();
    await expect(card.getByTestId("allowed-summary")).toContainText("Only the 2 checked instance(s)");

    await p.goto(third.base + "/");
    await expect(p.locator("#live-indicator")).toHaveText("● Live");
    await expect(rowOf(p).getByTestId("bound")).toContainText(MAC1, { timeout: HUNG });
    const before = (await history(havipId, first.base)).length;

    // the primary fails: both agents hear the takeover, through two replicas; the browser on
    // the third shows it live, and it is recorded once
    const t0 = Date.now();
    inNs("c1", "ip", "link", "set", "eth0", "down");
    await expect(rowOf(p).getByTestId("bound")).toContainText(MAC2, { timeout: HUNG });
    results.replicas_failover_shown_ms = Date.now() - t0;
    const failovers = (await history(havipId, second.base)).slice(0, -before || undefined)
      .filter((e) => e.change.change === "failover");
    expect(failovers.map((e) => e.change)).toEqual([{ change: "failover", from: MAC1, to: MAC2 }]);
    inNs("c1", "ip", "link", "set", "eth0", "up");
    await expect(rowOf(p).getByTestId("bound")).toContainText(MAC1, { timeout: HUNG });
    await waitFor(() => hasVip("c1") && !hasVip("c2"), 10_000, "primary is master again");

    // keepalived SIGKILLed on the master: the split brain, shown on the third replica
    const t1 = Date.now();
    await stopKeepalived("c1", "SIGKILL");
    await expect(rowOf(p).getByTestId("status")).toHaveText("Conflict", { timeout: HUNG });
    results.replicas_conflict_shown_ms = Date.now() - t1;
    await expect(rowOf(p).getByTestId("bound")).toContainText(MAC2);
    inNs("c1", "ip", "addr", "del", `${VIP}/32`, "dev", "eth0");
    await expect(rowOf(p).getByTestId("status")).toHaveText("Bound with CVM", { timeout: HUNG });
    await expect(rowOf(p).getByTestId("bound")).toContainText(MAC2);

    // each change was decided by one replica: no change is recorded twice in a row
    const changes = (await history(havipId, third.base)).slice(0, -before || undefined).map((e) => JSON.stringify(e.change));
    expect(changes.filter((c, i) => i > 0 && c === changes[i - 1]), changes.join("\n")).toEqual([]);
    expect(changes.some((c) => c.includes('"conflict"'))).toBe(true);
    await p.close();
  } finally {
    await stopKeepalived("c2", "SIGTERM").catch(() => {});
    await stopKeepalived("c1", "SIGTERM").catch(() => {});
    stopReplicas();
  }
});
