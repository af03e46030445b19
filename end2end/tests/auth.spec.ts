import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { logIn, ownRegion, unique } from "./helpers";

// these tests start logged out
test.use({ storageState: { cookies: [], origins: [] } });

const PASSWORD = "end-to-end password";

test("login keeps the wanted page, and a wrong password does not say which part was wrong", async ({ page }) => {
  await page.goto("/eips");
  await expect(page).toHaveURL(/\/login\?next=/);
  await logIn(page, "admin", "not the password at all");
  await expect(page.locator("#login-error")).toHaveText("Wrong user name or password.");
  await logIn(page, "nobody-here", "not the password at all");
  await expect(page.locator("#login-error")).toHaveText("Wrong user name or password.");
  await logIn(page, "admin", PASSWORD);
  await expect(page).toHaveURL(/\/eips$/);
  await expect(page.locator("#whoami")).toHaveText("admin (admin)");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
});

test("logout ends the session", async ({ page }) => {
  await page.goto("/login");
  await logIn(page, "admin", PASSWORD);
  await expect(page.locator("#whoami")).toBeVisible();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/networks");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a viewer reads everything, is offered no change, and the server refuses its changes", async ({ page, browser }) => {
  // the administrator's region, with one HAVIP holding an EIP and one without, so that every
  // button a row can offer (Rename, Bind EIP, Unbind EIP, Delete) would show
  const admin = await (await browser.newContext({ storageState: process.env.HAVIP_E2E_ADMIN_STATE! })).newPage();
  const region = await ownRegion(admin, "Viewer");
  for (const eip of [true, false]) {
    const made = await admin.request.post("/api/create_havip", {
      data: { req: { region_id: region.id, name: unique("seen"), vpc_id: region.vpc, subnet_id: region.subnets["16"], ip: "Automatic" } },
    });
    expect(made.status(), await made.text()).toBe(200);
    if (eip) {
      const bound = await admin.request.post("/api/bind_new_eip", { form: { havip_id: (await made.json()).id } });
      expect(bound.status(), await bound.text()).toBe(200);
    }
  }
  await admin.context().close();

  await page.goto(`/login?next=${encodeURIComponent("/" + region.query)}`);
  await logIn(page, "viewer", PASSWORD);
  await expect(page.locator("#whoami")).toHaveText("viewer (viewer)");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await expect(page.locator("#havip-table tbody tr")).toHaveCount(2);
  // no action buttons: Apply, and in every row Rename, Bind EIP, Delete
  await expect(page.getByRole("button", { name: "Apply" })).toBeHidden();
  for (const name of ["Rename", "Bind EIP", "Unbind EIP", "Delete"]) {
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
  for (const [path, control] of [[`/networks${region.query}`, "#create-region"], ["/agents", "#create-agent"], ["/eips", "#allocate-eip"], [`/instances${region.query}`, "#register-ok"]]) {
    await page.goto(path);
    await expect(page.locator("#live-indicator")).toHaveText("● Live");
    await expect(page.locator(control)).toBeHidden();
  }
  // the audit log is for administrators: no link, and the page is refused by the server
  await expect(page.getByRole("link", { name: "Audit" })).toBeHidden();
  await page.goto("/audit");
  await expect(page.getByRole("alert")).toContainText("may not do this: it needs admin");
  // the button is only hidden: pressed anyway, the server refuses
  await page.goto(`/${region.query}`);
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await page.locator("#apply").dispatchEvent("click");
  const dialog = page.getByRole("dialog", { name: "Apply for HAVIP" });
  await dialog.getByLabel("Name").fill(unique("viewer-try"));
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.locator("#apply-error")).toContainText("Your role (viewer) may not do this");
});

test("first start: the set-up page needs the code from the log, then logs the administrator in", async ({ page }) => {
  const bin = resolve(__dirname, "../..", process.env.SERVER_BIN ?? "target/release/havip");
  const port = 3950 + Math.floor(Math.random() * 40);
  const server = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", mkdtempSync(join(tmpdir(), "havip-setup-"))]);
  try {
    const code = await new Promise<string>((done, fail) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += d;
        const m = out.match(/set-up code (\d{6}-\d{6})/);
        if (m) done(m[1]);
      });
      setTimeout(() => fail(new Error(`no set-up code in: ${out}`)), 15_000);
    });
    const base = `http://127.0.0.1:${port}`;
    await page.goto(base + "/");
    await expect(page).toHaveURL(base + "/setup");
    await expect(page.locator("body[data-hydrated]")).toBeAttached();
    // no console links (each would lead back here) and no live badge before anyone logs in
    await expect(page.locator(".topbar nav")).toHaveCount(0);
    await expect(page.locator("#live-indicator")).toHaveCount(0);
    await page.getByLabel("Set-up code").fill("000000-000000");
    await page.getByLabel("User name").fill("root");
    await page.getByLabel("Password", { exact: true }).fill("short");
    await expect(page.locator("#setup-password-error")).toContainText("at least 12");
    await expect(page.getByRole("button", { name: "Create administrator" })).toBeDisabled();
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Password again").fill(PASSWORD);
    await page.getByRole("button", { name: "Create administrator" }).click();
    await expect(page.locator("#setup-error")).toContainText("Wrong set-up code");

    await page.getByLabel("Set-up code").fill(code);
    await page.getByLabel("User name").fill("root");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Password again").fill(PASSWORD);
    await page.getByRole("button", { name: "Create administrator" }).click();
    await expect(page).toHaveURL(base + "/");
    await expect(page.locator("#whoami")).toHaveText("root (admin)");
  } finally {
    server.kill("SIGTERM");
  }
});
