// Processes and network of the lab, for lab.spec.ts. Only addresses inside the lab's own
// namespaces and 127.0.0.1 are ever used.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const RUN = process.env.HAVIP_LAB_RUN ?? "";
export const DIR = process.env.HAVIP_LAB_DIR ?? "";
export const PORT = process.env.HAVIP_LAB_PORT ?? "3901";
export const BASE = `http://127.0.0.1:${PORT}`;
export const BIN = resolve(__dirname, "../..", process.env.SERVER_BIN ?? "target/release/havip");
export const VIP = "172.16.16.12";
export const MAC1 = "02:00:00:16:16:05";
export const MAC2 = "02:00:00:16:16:06";
export const SOCKET = join(DIR, "agent.sock");
const LOGS = join(DIR, "logs");

type Host = "c1" | "c2" | "ag" | "ag2" | "sw" | "cs";
export const ns = (host: Host) => `${RUN}-${host}`;

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

export function inNs(host: Host, ...args: string[]): string {
  return sh("ip", ["netns", "exec", ns(host), ...args]);
}

function start(name: string, cmd: string, args: string[]): ChildProcess {
  mkdirSync(LOGS, { recursive: true });
  const log = createWriteStream(join(LOGS, `${name}.log`), { flags: "a" });
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: resolve(__dirname, "../..") });
  // two streams into one file: neither may end it (stdout ending first made stderr's last
  // lines a "write after end" error); it ends once the process and both streams have closed
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.on("close", () => log.end());
  return child;
}

let server: ChildProcess | undefined;

/** The consoles the lab starts accept this bearer token on /metrics, as a Prometheus would send it. */
const SCRAPE_TOKEN = "lab-scrape-token-0123456789";
process.env.HAVIP_METRICS_TOKEN = SCRAPE_TOKEN;

/** GET /metrics with the scrape token. */
export async function metrics(): Promise<string> {
  const res = await fetch(BASE + "/metrics", { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
  if (!res.ok) throw new Error(`metrics: ${res.status}`);
  return res.text();
}

/** The value of the one sample whose line starts with `series` (name and labels). */
export function sample(text: string, series: string): number {
  const lines = text.split("\n").filter((l) => l.startsWith(series));
  if (lines.length !== 1) throw new Error(`${lines.length} samples ${series}`);
  return Number(lines[0].split(" ").pop());
}

export const ADMIN = "lab-admin";
const PASSWORD = "lab password, twelve+";
/** The session cookie (`havip_session=…`) the lab's scripts and browser use. */
export let session = "";

/** The lab's administrator, created on the command line before the console first starts. */
export function provision() {
  execFileSync(BIN, ["user", "add", ADMIN, "--role", "admin", "--data-dir", join(DIR, "data")],
               { env: { ...process.env, HAVIP_PASSWORD: PASSWORD } });
}

/** Logs in over HTTP (once; the session survives console restarts). */
export async function login(): Promise<string> {
  const res = await fetch(BASE + "/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ name: ADMIN, password: PASSWORD }).toString(),
  });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  session = res.headers.get("set-cookie")!.split(";")[0];
  return session.split("=")[1];
}

/** GET a JSON endpoint as the lab's administrator. */
export function api(path: string) {
  return fetch(BASE + path, { headers: { cookie: session } });
}

export async function startServer() {
  server = start("serve", BIN, ["serve", "--listen", `127.0.0.1:${PORT}`, "--data-dir", join(DIR, "data"),
                                "--agent-socket", SOCKET,
                                // the spec's webhook receiver listens on 127.0.0.1
                                "--allow-private-webhooks"]);
  await waitFor(async () => (await fetch(BASE + "/login").catch(() => null))?.ok === true, 20_000, "server up");
}

export async function stopServer() {
  if (!server) return;
  const exited = new Promise((r) => server!.once("exit", r));
  server.kill("SIGTERM");
  await exited;
  server = undefined;
}

/** The console's address on the management link (inside the lab's console namespace). */
export const TLS_CONSOLE = "10.99.0.2:8443";
const TLS = join(DIR, "tls");

/** A private CA and the console's certificate (for 10.99.0.2) it signed, made with openssl. */
export function makeCertificates(): { ca: string; cert: string; key: string } {
  mkdirSync(TLS, { recursive: true });
  const f = (name: string) => join(TLS, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(["req", "-x509", ...ec, "-keyout", f("ca-key.pem"), "-out", f("ca.pem"), "-days", "1",
                 "-subj", "/CN=havip lab CA"]);
  openssl(["req", ...ec, "-keyout", f("key.pem"), "-out", f("console.csr"), "-subj", "/CN=havip lab console"]);
  writeFileSync(f("san.ext"), "subjectAltName=IP:10.99.0.2\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(["x509", "-req", "-in", f("console.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca-key.pem"),
                 "-CAcreateserial", "-out", f("cert.pem"), "-days", "1", "-extfile", f("san.ext")]);
  return { ca: f("ca.pem"), cert: f("cert.pem"), key: f("key.pem") };
}

/** GET from the console served over TLS in the console namespace (run there by node). */
export async function tlsGet(path: string): Promise<{ status: number; body: string }> {
  const script = `const [path, cookie, ca] = process.argv.slice(1);
    require("https").get({ host: "10.99.0.2", port: 8443, path, headers: { cookie }, ca: require("fs").readFileSync(ca) },
      (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, body: b }))); })
      .on("error", (e) => console.log(JSON.stringify({ status: 0, body: String(e) })));`;
  const out = await new Promise<string>((done) => {
    // over HTTPS the same session travels in the `__Host-` cookie (the server keeps sessions
    // across the restart onto TLS)
    const cookie = session.replace(/^havip_session=/, "__Host-havip_session=");
    const child = spawn("ip", ["netns", "exec", ns("cs"), "node", "-e", script, path, cookie, join(TLS, "ca.pem")]);
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.on("exit", () => done(text));
  });
  return JSON.parse(out || '{"status":0,"body":"no answer"}');
}

/** Everything the console on the management link sends back to a plain-text HTTP request,
 *  read until it closes the connection (or for at most 5 s), as latin1 text. */
export async function plainHttpAnswer(path: string): Promise<string> {
  const script = `const [host, port, path] = process.argv.slice(1);
    const got = [];
    const done = () => { process.stdout.write(Buffer.concat(got).toString("latin1")); process.exit(0); };
    const s = require("net").connect(Number(port), host,
      () => s.write("GET " + path + " HTTP/1.1\\r\\nHost: " + host + "\\r\\nConnection: close\\r\\n\\r\\n"));
    s.on("data", (d) => got.push(d));
    s.on("close", done);
    s.on("error", done);
    s.setTimeout(5000, done);`;
  const [host, port] = TLS_CONSOLE.split(":");
  return new Promise<string>((done) => {
    const child = spawn("ip", ["netns", "exec", ns("cs"), "node", "-e", script, host, port, path]);
    let text = "";
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d) => (text += d));
    child.on("close", () => done(text));
  });
}

/** The lab's console again, now in the console namespace, serving HTTPS and WSS only. */
export async function startTlsServer(tls: { cert: string; key: string }) {
  server = start("serve-tls", "ip", ["netns", "exec", ns("cs"), BIN, "serve", "--listen", TLS_CONSOLE,
                                     "--data-dir", join(DIR, "data"), "--tls-cert", tls.cert, "--tls-key", tls.key]);
  await waitFor(async () => (await tlsGet("/login")).status === 200, 20_000, "TLS console up");
}

/** An agent reporting over WSS across the management link, trusting `ca` if given. */
export function startTlsAgent(name: string, token: string, ca?: string): ChildProcess {
  return start(name, "ip", ["netns", "exec", ns("ag"), BIN, "agent", "--interface", "eth0",
                            "--server", `https://${TLS_CONSOLE}`, "--token", token, "--probe-interval", "1s",
                            ...(ca ? ["--ca-cert", ca] : [])]);
}

/** What a process started by the lab has written so far. */
export function log(name: string): string {
  try { return readFileSync(join(LOGS, `${name}.log`), "utf8"); } catch { return ""; }
}

export function startAgent(token: string): ChildProcess {
  return start("agent", "ip", ["netns", "exec", ns("ag"), BIN, "agent", "--interface", "eth0",
                               "--server", `unix:${SOCKET}`, "--token", token, "--probe-interval", "1s"]);
}

const keepalived: Record<string, ChildProcess> = {};
/** How long each keepalived's log was when it was last started. */
const keepalivedLogFrom: Record<string, number> = {};

/** What keepalived in `host` has logged since it was last started (`-l -D`: to the console,
 *  with details such as each round of gratuitous ARPs). */
export function keepalivedLog(host: "c1" | "c2"): string {
  return log(`keepalived-${host}`).slice(keepalivedLogFrom[host] ?? 0);
}

/** The seed's keepalived configuration for `host`, as the lab runs it. */
export function seedConf(host: "c1" | "c2"): string {
  return resolve(__dirname, host === "c1" ? "keepalived-primary.conf" : "keepalived-secondary.conf");
}

/** The seed's configuration with keepalived's `use_vmac` (as the console's generator writes it). */
export function vmacConf(host: "c1" | "c2"): string {
  const text = readFileSync(seedConf(host), "utf8").replace(/(\n\s*advert_int 1[^\n]*\n)/, "$1    use_vmac\n    vmac_xmit_base\n");
  if (!text.includes("use_vmac")) throw new Error("no advert_int line to add use_vmac after");
  const path = join(DIR, `keepalived-vmac-${host}.conf`);
  writeFileSync(path, text);
  return path;
}

/**
 * `vmacConf` with its adverts multicast to 224.0.0.18 (no `unicast_src_ip`, no `unicast_peer`),
 * where the agent hears them; `authPass` other than the peer's makes each drop the other's
 * adverts: a VRRP partition, both masters.
 */
export function multicastConf(host: "c1" | "c2", authPass = "1111"): string {
  const text = readFileSync(vmacConf(host), "utf8")
    .replace(/\n\s*unicast_src_ip[^\n]*/, "")
    .replace(/\n\s*unicast_peer\s*\{[^}]*\}/, "")
    .replace(/auth_pass \S+/, `auth_pass ${authPass}`);
  if (text.includes("unicast")) throw new Error("the unicast peers are still in the configuration");
  const path = join(DIR, `keepalived-multicast-${host}.conf`);
  writeFileSync(path, text);
  return path;
}

export function startKeepalived(host: "c1" | "c2", conf = seedConf(host)) {
  keepalivedLogFrom[host] = log(`keepalived-${host}`).length;
  const pid = (what: string) => join(DIR, `${host}-${what}.pid`);
  keepalived[host] = start(`keepalived-${host}`, "ip", ["netns", "exec", ns(host), "keepalived", "-n", "-l", "-D",
    "-G", "-P", "-f", conf, "-p", pid("main"), "-r", pid("vrrp"), "-c", pid("check")]);
}

/** PIDs of the keepalived processes (parent and VRRP child) in a namespace. */
function keepalivedPids(host: "c1" | "c2"): string[] {
  const pids = sh("ip", ["netns", "pids", ns(host)]).split(/\s+/).filter(Boolean);
  return pids.filter((p) => {
    try { return sh("cat", [`/proc/${p}/comm`]).trim() === "keepalived"; } catch { return false; }
  });
}

export async function stopKeepalived(host: "c1" | "c2", signal: "SIGTERM" | "SIGKILL") {
  // the VRRP child first (its pid is the higher): killed after its parent, it may hear of the
  // parent's death first and stop cleanly (priority 0, addresses removed), which a SIGKILL of
  // the whole keepalived must not do
  for (const pid of keepalivedPids(host).sort((a, b) => Number(b) - Number(a))) {
    try { process.kill(Number(pid), signal); } catch { /* already gone */ }
  }
  await waitFor(async () => keepalivedPids(host).length === 0, 10_000, `keepalived in ${host} stopped`);
}

export function hasVip(host: "c1" | "c2", dev = "eth0"): boolean {
  try {
    return inNs(host, "ip", "-4", "addr", "show", "dev", dev).includes(`${VIP}/32`);
  } catch {
    return false; // no such device (yet)
  }
}

export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
}

export type HavipState = {
  id: string; ip: string; status_label: string; subnet_id: string;
  status: { status: string; mac?: string; macs?: string[] };
  holder_label: string; watched: boolean; unauthorized: { mac: string }[];
};

export async function vipState(base = BASE): Promise<HavipState | undefined> {
  const res = await fetch(base + "/api/v1/havips", { headers: { cookie: session } }).catch(() => null);
  if (!res?.ok) return undefined;
  return ((await res.json()) as HavipState[]).find((h) => h.ip === VIP);
}

export async function history(id: string, base = BASE): Promise<{ change: any; cause: string; at: number }[]> {
  return (await fetch(base + `/api/v1/havips/${id}/history`, { headers: { cookie: session } })).json();
}

export function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, min: s[0], median: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}

// Three replicas on etcd: one etcd member and three `havip serve` on loopback, each with its
// own agent socket; the lab's sled console is moved there with `havip migrate`.
const ETCD_CLIENT = "127.0.0.1:23791";
const ETCD_PEER = "127.0.0.1:23801";
const STORE = `etcd://${ETCD_CLIENT}`;
const REPLICA_KEY = join(DIR, "replicas-secret.key");
export const REPLICAS = [1, 2, 3].map((n) => ({
  name: `replica-${n}`, base: `http://127.0.0.1:${3910 + n}`, socket: join(DIR, `replica-${n}.sock`),
}));
const started: ChildProcess[] = [];

export async function startEtcd() {
  started.push(start("etcd", "etcd", ["--name", "lab", "--data-dir", join(DIR, "etcd"),
    "--listen-client-urls", `http://${ETCD_CLIENT}`, "--advertise-client-urls", `http://${ETCD_CLIENT}`,
    "--listen-peer-urls", `http://${ETCD_PEER}`, "--initial-advertise-peer-urls", `http://${ETCD_PEER}`,
    "--initial-cluster", `lab=http://${ETCD_PEER}`]));
  await waitFor(async () => (await fetch(`http://${ETCD_CLIENT}/health`).catch(() => null))?.ok === true, 20_000, "etcd up");
}

/** `havip migrate` of the lab's (stopped) console into etcd; what it printed. */
export function migrateToEtcd(): string {
  return execFileSync(BIN, ["migrate", "--from", join(DIR, "data"), "--store", STORE, "--secret-key-file", REPLICA_KEY,
                            "--data-dir", join(DIR, "migrate")], { encoding: "utf8" });
}

export async function startReplicas() {
  for (const r of REPLICAS) {
    started.push(start(r.name, BIN, ["serve", "--listen", r.base.slice("http://".length), "--data-dir", join(DIR, r.name),
      "--store", STORE, "--secret-key-file", REPLICA_KEY, "--agent-socket", r.socket]));
  }
  for (const r of REPLICAS) {
    await waitFor(async () => (await fetch(r.base + "/login").catch(() => null))?.ok === true, 20_000, `${r.name} up`);
  }
}

/** An agent in namespace `host` reporting to replica `n` (0-based) over its socket. */
export function startAgentOn(host: "ag" | "ag2", n: number, name: string, token: string): ChildProcess {
  const agent = start(name, "ip", ["netns", "exec", ns(host), BIN, "agent", "--interface", "eth0",
                                   "--server", `unix:${REPLICAS[n].socket}`, "--token", token, "--probe-interval", "1s"]);
  started.push(agent);
  return agent;
}

/** Stops the replicas, their agents and etcd. */
export function stopReplicas() {
  for (const child of started.splice(0).reverse()) child.kill("SIGKILL");
}
