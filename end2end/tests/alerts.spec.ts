import { test, expect } from "@playwright/test";
import { open, unique } from "./helpers";
import { PASSWORD } from "../playwright.config";
import { receiver, verifies } from "../webhook";

test("the Alerts page: add a webhook rule, its secret once, a signed test delivery shown live; disable and delete", async ({ page }) => {
  const hook = await receiver();
  try {
    await open(page, "/alerts");
    const name = unique("pager");
    await page.locator("#alert-name").fill(name);
    // checked in the browser by the same rule the server applies
    await page.locator("#alert-url").fill("ftp://example.com/hook");
    await page.getByRole("button", { name: "Add rule" }).click();
    await expect(page.locator("#new-alert-error")).toContainText("http:// or https://");

    await page.locator("#alert-url").fill(hook.url);
    await page.getByLabel("havip.lost").check();
    await page.locator("#alert-scope").selectOption({ label: "VPC Default-VPC (172.16.0.0/16)" });
    await page.locator("#alert-dedup").fill("30");
    await page.getByRole("button", { name: "Add rule" }).click();
    const secret = (await page.locator("#alert-secret").textContent())!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = page.locator("#alert-table tr", { hasText: name });
    await expect(row.getByTestId("target")).toHaveText(`webhook ${hook.url}`);
    await expect(row.getByTestId("events")).toHaveText("havip.holder.changed, havip.lost, havip.conflict.detected");
    await expect(row).toContainText("VPC Default-VPC (172.16.0.0/16)");
    await expect(row).toContainText("30 s");
    await expect(row.getByTestId("last-delivery")).toHaveText("None yet");

    await row.getByRole("button", { name: "Send test" }).click();
    await expect.poll(() => hook.hits.length).toBe(1);
    const hit = hook.hits[0];
    expect(verifies(hit, secret)).toBe(true);
    expect(verifies(hit, "whsec_" + Buffer.alloc(32).toString("base64"))).toBe(false);
    const event = JSON.parse(hit.body);
    expect(event).toMatchObject({ specversion: "1.0", type: "alert.test", data: { rule: name, requested_by: "admin" } });
    // the delivery log updates without a reload
    await expect(row.getByTestId("last-delivery")).toContainText("✓ HTTP 200 · alert.test");

    // the secret is not shown again
    await page.reload();
    await expect(page.locator("#live-indicator")).toHaveText("● Live");
    await expect(page.locator("#alert-secret-card")).toHaveCount(0);
    expect(await page.content()).not.toContain(secret.slice(6));

    await row.getByRole("button", { name: "Disable" }).click();
    await expect(row.getByTestId("disabled")).toHaveText("Disabled");
    await row.getByRole("button", { name: "Delete" }).click();
    await expect(row).toHaveCount(0);
  } finally {
    hook.close();
  }
});

test("a viewer is not offered Alerts and the server refuses the page", async ({ browser }) => {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("User name").fill("viewer");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#whoami")).toHaveText("viewer (viewer)");
  await expect(page.getByRole("link", { name: "Alerts" })).toBeHidden();
  await page.goto("/alerts");
  await expect(page.getByRole("alert")).toContainText("Your role (viewer) may not do this");
  await context.close();
});
