// Processes and network of the lab, for lab.spec.ts. Only addresses inside the lab's own
// namespaces and 127.0.0.1 are ever used.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
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

export const ns = (host: "c1" | "c2" | "ag" | "sw") => `${RUN}-${host}`;

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

export function inNs(host: "c1" | "c2" | "ag" | "sw", ...args: string[]): string {
  return sh("ip", ["netns", "exec", ns(host), ...args]);
}

function start(name: string, cmd: string, args: string[]): ChildProcess {
  mkdirSync(LOGS, { recursive: true });
  const log = createWriteStream(join(LOGS, `${name}.log`), { flags: "a" });
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: resolve(__dirname, "../..") });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

let server: ChildProcess | undefined;

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
                                "--agent-socket", SOCKET]);
  await waitFor(async () => (await fetch(BASE + "/login").catch(() => null))?.ok === true, 20_000, "server up");
}

export async function stopServer() {
  if (!server) return;
  const exited = new Promise((r) => server!.once("exit", r));
  server.kill("SIGTERM");
  await exited;
  server = undefined;
}

export function startAgent(token: string): ChildProcess {
  return start("agent", "ip", ["netns", "exec", ns("ag"), BIN, "agent", "--interface", "eth0",
                               "--server", `unix:${SOCKET}`, "--token", token, "--probe-interval", "1s"]);
}

const keepalived: Record<string, ChildProcess> = {};

export function startKeepalived(host: "c1" | "c2") {
  const conf = resolve(__dirname, host === "c1" ? "keepalived-primary.conf" : "keepalived-secondary.conf");
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
  for (const pid of keepalivedPids(host)) {
    try { process.kill(Number(pid), signal); } catch { /* already gone */ }
  }
  await waitFor(async () => keepalivedPids(host).length === 0, 10_000, `keepalived in ${host} stopped`);
}

export function hasVip(host: "c1" | "c2"): boolean {
  return inNs(host, "ip", "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/32`);
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
  id: string; ip: string; status_label: string;
  status: { status: string; mac?: string; macs?: string[] };
  holder_label: string; watched: boolean; unauthorized: { mac: string }[];
};

export async function vipState(): Promise<HavipState | undefined> {
  const res = await api("/api/v1/havips").catch(() => null);
  if (!res?.ok) return undefined;
  return ((await res.json()) as HavipState[]).find((h) => h.ip === VIP);
}

export async function history(id: string): Promise<{ change: any; cause: string; at: number }[]> {
  return (await api(`/api/v1/havips/${id}/history`)).json();
}

export function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, min: s[0], median: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}
