import { test, expect, Page, BrowserContext } from "@playwright/test";
import { spawn, ChildProcess, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { logIn, row, startApply } from "./helpers";

// Single sign-on against a real OpenID provider (npm's oidc-provider, end2end/oidc/provider.mjs)
// on loopback, and a console of this file's own configured for it: people log in through the
// provider's own pages, and take their role from its groups.

test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: "serial" });

const base = Number(process.env.HAVIP_E2E_PORT ?? "3900");
const consolePort = base + 91;
const providerPort = base + 92;
const CONSOLE = `http://127.0.0.1:${consolePort}`;
const PROVIDER = `http://127.0.0.1:${providerPort}`;
const PASSWORD = "end-to-end password";
const bin = resolve(__dirname, "../..", process.env.SERVER_BIN ?? "target/release/havip");
const dataDir = mkdtempSync(join(tmpdir(), "havip-sso-"));
const secretFile = join(dataDir, "client-secret");
const clientSecret = `secret-${Math.random().toString(36).slice(2)}`;

let provider: ChildProcess | undefined;
let console_: ChildProcess | undefined;
/** Everything the consoles printed (their logs), read for secrets at the end. */
let consoleLog = "";

/** Starts `command` and waits until its output says `ready`. */
function start(command: string, args: string[], ready: RegExp, log?: (text: string) => void) {
  const child = spawn(command, args, { env: process.env });
  return new Promise<ChildProcess>((done, fail) => {
    let out = "";
    const read = (d: Buffer) => {
      out += d;
      log?.(String(d));
      if (ready.test(out)) done(child);
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => fail(new Error(`${command} exited (${code}): ${out}`)));
    setTimeout(() => fail(new Error(`${command} is not ready: ${out}`)), 20_000);
  });
}

async function startProvider() {
  provider = await start(
    "node",
    [resolve(__dirname, "../oidc/provider.mjs"), "--port", String(providerPort), "--redirect", `${CONSOLE}/login/sso/callback`, "--client-secret", clientSecret],
    /listening on/,
  );
}

async function startConsole(extra: string[] = []) {
  console_ = await start(
    bin,
    [
      "serve", "--listen", `127.0.0.1:${consolePort}`, "--data-dir", dataDir,
      "--oidc-issuer", PROVIDER, "--oidc-client-id", "havip", "--oidc-client-secret-file", secretFile,
      "--oidc-redirect-url", `${CONSOLE}/login/sso/callback`, "--oidc-name", "Corp SSO",
      "--oidc-admin-group", "havip-admins", "--oidc-operator-group", "havip-operators",
      ...extra,
    ],
    /havip console on/,
    (text) => (consoleLog += text),
  );
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.on("exit", done));
  child.kill("SIGTERM");
  await exited;
}

async function steer(path: string, body: object) {
  const answer = await fetch(`${PROVIDER}/test/${path}`, { method: "POST", body: JSON.stringify(body) });
  expect(answer.status, await answer.text()).toBe(200);
}

test.beforeAll(async () => {
  writeFileSync(secretFile, clientSecret + "\n", { mode: 0o600 });
  // the break-glass administrator, made on the command line
  execFileSync(bin, ["user", "add", "breakglass", "--role", "admin", "--data-dir", dataDir], { env: { ...process.env, HAVIP_PASSWORD: PASSWORD } });
  execFileSync(bin, ["user", "add", "localviewer", "--role", "viewer", "--data-dir", dataDir], { env: { ...process.env, HAVIP_PASSWORD: PASSWORD } });
  await startProvider();
  await startConsole();
});

test.afterAll(async () => {
  await stop(console_);
  await stop(provider);
  // no token and no client secret in the console's log (it logs every request's path)
  expect(consoleLog).toContain("single sign-on");
  expect(consoleLog).not.toMatch(/eyJ[\w-]+\.eyJ/);
  expect(consoleLog).not.toContain(clientSecret);
  expect(consoleLog).not.toMatch(/code=[\w-]{8,}/);
});

/** Every request of the page stays on loopback (the provider's pages import a web font). */
async function loopbackOnly(context: BrowserContext) {
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
}

/** From the console's login page through the provider's own login page, as `login`. */
async function signOn(page: Page, login: string, next = "/") {
  await loopbackOnly(page.context());
  await page.goto(`${CONSOLE}/login?next=${encodeURIComponent(next)}`);
  await page.getByRole("button", { name: "Log in with Corp SSO" }).click();
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER}/interaction/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password: the provider's development login");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

async function whoami(page: Page) {
  const answer = await page.request.post(`${CONSOLE}/api/whoami`, { form: {} });
  return answer.ok() ? await answer.json() : answer.status();
}

async function usersOf(page: Page) {
  const answer = await page.request.post(`${CONSOLE}/api/users_page`, { form: {} });
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()) as { name: string; role: string; sso_issuer: string | null; sessions: number }[];
}

test("the login page offers the provider, and shows no console links and no live badge", async ({ page }) => {
  await page.goto(`${CONSOLE}/eips`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page.getByRole("button", { name: "Log in with Corp SSO" })).toBeVisible();
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(page.locator(".topbar nav")).toHaveCount(0);
  await expect(page.locator("#live-indicator")).toHaveCount(0);
  await expect(page.getByLabel("User name")).toBeVisible();
});

test("an admin-group member logs in through the provider's pages and creates an agent token", async ({ page }) => {
  await signOn(page, "alice", "/agents");
  await expect(page).toHaveURL(`${CONSOLE}/agents`);
  await expect(page.locator("#whoami")).toHaveText("alice (admin)");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await page.locator("#agent-name").fill("sso-made");
  await page.locator("#new-agent label.check input").first().check();
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.locator("#agent-token")).toHaveText(/\S{20,}/);
  // an API key, as a local user makes one: no password is asked right after a login
  const key = await page.request.post(`${CONSOLE}/api/create_api_key`, { form: {} });
  expect(key.status(), await key.text()).toBe(200);
  // the Users page says where each user comes from, and offers no password for alice
  await page.goto(`${CONSOLE}/users`);
  const alice = page.locator("#user-table tr[data-name=alice]");
  await expect(alice.getByTestId("source")).toHaveText(`Single sign-on (${PROVIDER})`);
  await expect(alice.getByRole("button", { name: "Set password" })).toHaveCount(0);
  await expect(page.locator("#user-table tr[data-name=breakglass]").getByTestId("source")).toHaveText("Local");
  // the audit log has the login with the provider's subject, and no token
  const audit = await page.request.get(`${CONSOLE}/api/v1/audit?action=login.sso&limit=5`);
  const text = await audit.text();
  expect(audit.status(), text).toBe(200);
  expect(text).toContain(`"subject":"alice"`);
  expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
});

test("an operator may apply for an HAVIP but not create a subnet", async ({ page }) => {
  await signOn(page, "oscar");
  await expect(page.locator("#whoami")).toHaveText("oscar (operator)");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const dialog = await startApply(page, "by-oscar");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, "by-oscar")).toHaveCount(1);
  // the server refuses what the role may not do, whatever the page offers
  const network = await page.request.post(`${CONSOLE}/api/network_page`, { form: {} });
  expect(network.status(), await network.text()).toBe(200);
  const vpc = (await network.json()).vpcs[0].vpc;
  const subnet = await page.request.post(`${CONSOLE}/api/create_subnet`, {
    form: { vpc_id: vpc.id, name: "not-oscars", cidr: "172.16.99.0/24" },
  });
  expect(subnet.status(), await subnet.text()).toBe(403);
});

test("a person in no group is a viewer", async ({ page }) => {
  await signOn(page, "victor");
  await expect(page.locator("#whoami")).toHaveText("victor (viewer)");
});

test("a group removed at the provider lowers the role at the next login", async ({ page }) => {
  await steer("groups", { login: "alice", groups: ["staff", "havip-operators"] });
  try {
    await signOn(page, "alice");
    await expect(page.locator("#whoami")).toHaveText("alice (operator)");
    expect((await page.request.post(`${CONSOLE}/api/users_page`, { form: {} })).status()).toBe(403);
  } finally {
    await steer("groups", { login: "alice", groups: ["staff", "havip-admins"] });
  }
});

test("logging out ends the provider's session too", async ({ page }) => {
  await signOn(page, "victor");
  await expect(page.locator("#whoami")).toHaveText("victor (viewer)");
  await page.getByRole("button", { name: "Log out" }).click();
  // the provider asks, as RP-initiated logout does without an ID token hint
  await expect(page).toHaveURL(new RegExp(`^${PROVIDER}/session/end`));
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page).toHaveURL(`${CONSOLE}/login`);
  expect(await whoami(page)).toBe(401);
  // the provider asks for the login again: its session ended
  await page.getByRole("button", { name: "Log in with Corp SSO" }).click();
  await expect(page.locator('input[name="login"]')).toBeVisible();
});

test("keys the provider rotated are fetched when an ID token names one", async ({ page }) => {
  await loopbackOnly(page.context());
  await page.goto(`${CONSOLE}/login`);
  await page.getByRole("button", { name: "Log in with Corp SSO" }).click();
  await expect(page.locator('input[name="login"]')).toBeVisible();
  // the console read the keys when the login started; the provider signs with a new one now
  await steer("rotate-keys", {});
  await page.locator('input[name="login"]').fill("victor");
  await page.locator('input[name="password"]').fill("any");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await expect(page.locator("#whoami")).toHaveText("victor (viewer)");
});

for (const [change, message] of [
  ["tamper", "its signature is not the provider's"],
  ["wrong-aud", "it was issued for another application"],
  ["expired", "it has expired"],
  ["wrong-nonce", "its nonce is not this login's"],
] as const) {
  test(`an ID token refused: ${change}`, async ({ page, browser }) => {
    const admin = await browser.newPage();
    await signOn(admin, "alice");
    await expect(admin.locator("#whoami")).toHaveText("alice (admin)");
    const before = await usersOf(admin);

    await steer("next-id-token", { change });
    await signOn(page, "victor");
    await expect(page).toHaveURL(/\/login\?error=/);
    await expect(page.locator("#login-error")).toHaveText(`The identity provider's ID token was refused: ${message}.`);
    expect(await whoami(page)).toBe(401);
    // nothing changed: the same users with the same roles
    expect(await usersOf(admin)).toEqual(before);
    const audit = await admin.request.get(`${CONSOLE}/api/v1/audit?action=login.sso_refused&limit=1`);
    expect(await audit.text()).toContain(message);
    await admin.close();
  });
}

test("a replayed callback is refused, with its state cookie or without", async ({ page, context }) => {
  let callback = "";
  page.on("request", (r) => {
    if (r.url().startsWith(`${CONSOLE}/login/sso/callback`)) callback = r.url();
  });
  await loopbackOnly(context);
  await page.goto(`${CONSOLE}/login`);
  await page.getByRole("button", { name: "Log in with Corp SSO" }).click();
  const stateCookie = (await context.cookies(CONSOLE)).find((c) => c.name === "havip_sso")!;
  expect(stateCookie).toBeTruthy();
  await page.locator('input[name="login"]').fill("oscar");
  await page.locator('input[name="password"]').fill("any");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await expect(page.locator("#whoami")).toHaveText("oscar (operator)");
  expect(callback).toContain("state=");
  // (a browser with a session is sent from the login page to the console's first page)
  await context.clearCookies({ name: "havip_session" });

  // the same browser, its state cookie gone once used
  await page.goto(callback);
  await expect(page.locator("#login-error")).toContainText("not started in this browser");
  // its state cookie put back: the state was used
  await context.addCookies([stateCookie]);
  await page.goto(callback);
  await expect(page.locator("#login-error")).toHaveText("This login was used already: log in again.");
  // another browser, without the cookie
  const other = await page.context().browser()!.newPage();
  await other.goto(callback);
  await expect(other.locator("#login-error")).toContainText("not started in this browser");
  expect(await whoami(other)).toBe(401);
  await other.close();
});

test("--oidc-require-group refuses a person in no group and ends their sessions; --local-login admins-only keeps the break-glass admin", async ({ page, browser }) => {
  await stop(console_);
  await startConsole(["--oidc-require-group", "--local-login", "admins-only"]);
  // the break-glass administrator, in a browser of its own
  const admin = await browser.newPage();
  await admin.goto(`${CONSOLE}/login`);
  await expect(admin.locator("#local-admins-only")).toHaveText("Local logins: administrators only.");
  await logIn(admin, "breakglass", PASSWORD);
  await expect(admin.locator("#whoami")).toHaveText("breakglass (admin)");
  const victorsSessions = async () => (await usersOf(admin)).find((u) => u.name === "victor")!.sessions;
  // the session victor opened before (when the keys rotated) is still open
  expect(await victorsSessions()).toBeGreaterThan(0);

  await signOn(page, "victor");
  await expect(page.locator("#login-error")).toContainText("You are in none of the groups that may use this console");
  expect(await whoami(page)).toBe(401);
  expect(await victorsSessions()).toBe(0);
  const ended = await admin.request.get(`${CONSOLE}/api/v1/audit?action=user.end_sessions&object=user%20victor&limit=1`);
  expect(await ended.text()).toContain("(single sign-on)");
  // a local viewer's right password is refused as a wrong one
  await logIn(page, "localviewer", PASSWORD);
  await expect(page.locator("#login-error")).toHaveText("Wrong user name or password.");
  await admin.close();
});

test("a provider that is down gives a clear message, and local break-glass login still works", async ({ page }) => {
  await stop(provider);
  await page.goto(`${CONSOLE}/login`);
  // discovery is read again at most every 2 s
  await page.waitForTimeout(2_500);
  await page.getByRole("button", { name: "Log in with Corp SSO" }).click();
  await expect(page).toHaveURL(/\/login\?error=/);
  await expect(page.locator("#login-error")).toHaveText(
    "Corp SSO cannot be reached, so single sign-on is unavailable: try again shortly, or ask an administrator.",
  );
  await logIn(page, "breakglass", PASSWORD);
  await expect(page.locator("#whoami")).toHaveText("breakglass (admin)");
});
