import { defineConfig, devices } from "@playwright/test";
import { launchOptions } from "./chromium";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const port = process.env.HAVIP_E2E_PORT ?? "3900";
const baseURL = `http://127.0.0.1:${port}`;
// The release binary with the site embedded; every run starts from an empty, freshly seeded database.
const serverBin = process.env.SERVER_BIN ?? "./target/release/havip";
// made once: the test workers load this file again and must find the same directory
const dataDir = (process.env.HAVIP_E2E_DATA ??= mkdtempSync(join(tmpdir(), "havip-e2e-")));
export const PASSWORD = "end-to-end password";
export const USERS = [
  { name: "admin", role: "admin" },
  { name: "viewer", role: "viewer" },
];
export const ADMIN_STATE = join(tmpdir(), `havip-e2e-admin-${port}.json`);
process.env.HAVIP_E2E_ADMIN_STATE = ADMIN_STATE;
// the Tencent-compatible API's port, and the admin's API key made on the command line
const apiPort = String(Number(port) + 1);
process.env.HAVIP_E2E_API = `127.0.0.1:${apiPort}`;
process.env.HAVIP_E2E_KEY_FILE = join(dataDir, "admin.key");

const browser = {
  ...devices["Desktop Chrome"],
  viewport: { width: 1440, height: 900 },
  launchOptions,
  storageState: ADMIN_STATE,
};

/**
 * The spec files last to first (Playwright itself runs them in alphabetical order): one project
 * each, every one depending on the one before, so they run one after another in that order
 * against the same console. CI runs the suite this way too, which shows that no spec depends on
 * what an earlier one left behind.
 */
function reverseOrder() {
  const specs = readdirSync(join(__dirname, "tests")).filter((f) => f.endsWith(".spec.ts")).sort().reverse();
  return specs.map((spec, i) => ({
    name: spec,
    testMatch: spec,
    dependencies: [i === 0 ? "login" : specs[i - 1]],
    use: browser,
  }));
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [
    // logs in as the administrator once; the other tests start logged in (tests/auth.spec.ts
    // starts logged out)
    { name: "login", testMatch: /login\.setup\.ts/, use: { launchOptions } },
    ...(process.env.HAVIP_E2E_ORDER === "reverse" ? reverseOrder() : [{ name: "chromium", dependencies: ["login"], use: browser }]),
  ],
  webServer: {
    // users made on the command line first (as provisioning scripts do), then the console with
    // a higher quota than the default 10 per VPC, so the paging test can fill a page, and
    // webhooks allowed to loopback, where the tests' receivers listen
    command: [
      ...USERS.map((u) => `${serverBin} user add ${u.name} --role ${u.role} --data-dir ${dataDir}`),
      `${serverBin} key create admin --data-dir ${dataDir} > ${dataDir}/admin.key`,
      `exec ${serverBin} serve --listen 127.0.0.1:${port} --data-dir ${dataDir} --quota 100 --api-listen 127.0.0.1:${apiPort} --allow-private-webhooks`,
    ].join(" && "),
    env: { HAVIP_PASSWORD: PASSWORD },
    cwd: "..",
    url: baseURL,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
  },
});
