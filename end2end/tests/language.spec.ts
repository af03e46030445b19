import { test, expect, Page, BrowserContext } from "@playwright/test";
import { open, ownRegion, row, unique } from "./helpers";
import { PASSWORD } from "../playwright.config";

// The console in Simplified Chinese: a browser that asks for it gets every page in it from the
// server (no flash of English), the apply flow and its refusals speak it, and the menu switches
// language in place, keeping what the page holds.
test.use({ locale: "zh-CN" });

test.beforeEach(async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  (page as any).__errors = errors;
});

test.afterEach(async ({ page }) => {
  expect((page as any).__errors).toEqual([]);
});

/** The Apply dialog, opened by its button (whatever it says) with `name` typed. */
async function startApply(page: Page, name: string) {
  await page.locator("#apply").click();
  const dialog = page.locator("#apply-dialog");
  await expect(dialog).toBeVisible();
  await dialog.locator("#havip-name").fill(name);
  return dialog;
}

test("the apply flow and a refused manual IP in Chinese", async ({ page }) => {
  const region = await ownRegion(page, "Lang");
  // the server's page, before any script runs, is already Chinese
  const html = await (await page.request.get(`/${region.query}`, { headers: { Accept: "text/html", "Accept-Language": "zh-CN" } })).text();
  expect(html).toContain('<html lang="zh-CN"');
  expect(html).toContain("申请");
  expect(html).not.toContain(">Apply<");

  await open(page, `/${region.query}`);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.locator("#live-indicator")).toHaveText("● 实时");
  await expect(page.locator("#apply")).toHaveText("申请");

  const name = unique("自动");
  let dialog = await startApply(page, name);
  await expect(dialog.locator("h2")).toHaveText("申请高可用虚拟 IP");
  await expect(dialog.getByLabel("自动分配")).toBeChecked();
  await dialog.getByRole("button", { name: "确定" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, name).getByTestId("status")).toHaveText("未绑定云服务器");

  // a refused manual IP: while typing, then by the server
  dialog = await startApply(page, unique("手动"));
  await dialog.getByLabel("手动填写").check();
  const ip = dialog.locator("#ip-input");
  await ip.fill("172.16.16.1");
  await expect(dialog.locator("#ip-error")).toHaveText("172.16.16.1 是系统保留 IP（子网的网关地址）。");
  await ip.fill("10.0.0.5");
  await expect(dialog.locator("#ip-error")).toHaveText(/^10\.0\.0\.5 不在子网 172\.16\.16\.0\/24 的网段范围内/);
  const taken = (await row(page, name).locator("td.ip").textContent())!;
  await ip.fill(taken);
  await dialog.getByRole("button", { name: "确定" }).click();
  await expect(dialog.locator("#ip-error")).toHaveText(`${taken} 在该子网中已被占用。`);
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "取消" }).click();

  // the detail page
  await row(page, name).locator("a.id").click();
  await expect(page).toHaveURL(/\/havip\/havip-/);
  await expect(page.getByTestId("status")).toHaveText("未绑定云服务器");
  await expect(page.locator("#binding")).not.toContainText("Holder");
  await expect(page.locator("#history")).not.toContainText("History");
});

test("the menu switches language in place, keeping what the page holds", async ({ page }) => {
  const region = await ownRegion(page, "Lang");
  await open(page, `/${region.query}`);
  // a mark the page would lose if it were loaded again
  await page.evaluate(() => ((window as any).__kept = true));
  const dialog = await startApply(page, "kept-name");
  await dialog.getByLabel("手动填写").check();
  await dialog.locator("#ip-input").fill("172.16.16.1");
  await expect(dialog.locator("#ip-error")).toContainText("系统保留 IP");

  await page.locator("#language").selectOption("en");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(dialog.locator("h2")).toHaveText("Apply for HAVIP");
  await expect(dialog.locator("#ip-error")).toHaveText(/172\.16\.16\.1 is reserved.*gateway/);
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await expect(dialog.locator("#havip-name")).toHaveValue("kept-name");
  await expect(dialog.locator("#ip-input")).toHaveValue("172.16.16.1");

  await page.locator("#language").selectOption("zh-CN");
  await expect(dialog.locator("h2")).toHaveText("申请高可用虚拟 IP");
  await expect(dialog.locator("#ip-error")).toContainText("系统保留 IP");
  await expect(dialog.locator("#havip-name")).toHaveValue("kept-name");
  expect(await page.evaluate(() => (window as any).__kept)).toBe(true);
  // the browser's choice is kept: the next page comes in it
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
});

test.afterEach(async ({ page }) => {
  // a choice made while logged in is kept in the administrator's account: the other specs log
  // in as the administrator, in English
  const back = await page.request.post("/api/choose_language", { form: { lang: "en" } });
  expect(back.status()).toBe(200);
});

/** A browser of its own, in English, nobody logged in. */
async function englishBrowser(browser: import("@playwright/test").Browser): Promise<[BrowserContext, Page]> {
  const context = await browser.newContext({ locale: "en-US", storageState: { cookies: [], origins: [] } });
  return [context, await context.newPage()];
}

async function logInAsViewer(page: Page) {
  await page.locator("#login-name").fill("viewer");
  await page.locator("#login-password").fill(PASSWORD);
  await page.locator("#login-ok").click();
  await expect(page.locator("#live-indicator")).toBeVisible();
}

test("the login page's menu, and a user's language kept in their account", async ({ browser }) => {
  const [first, page] = await englishBrowser(browser);
  const [second, other] = await englishBrowser(browser);
  try {
    await page.goto("/login");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator("#login-ok")).toHaveText("Log in");
    await expect(page.locator("body[data-hydrated]")).toBeAttached();
    await page.locator("#language").selectOption("zh-CN");
    await expect(page.locator("#login-ok")).toHaveText("登录");
    await logInAsViewer(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    // chosen while logged in: kept in the account
    await page.locator("#language").selectOption("en");
    await expect(page.locator("#live-indicator")).toHaveText("● Live");
    await page.locator("#language").selectOption("zh-CN");
    await expect(page.locator("#live-indicator")).toHaveText("● 实时");

    // another browser, in English: the viewer's login brings their language back
    await other.goto("/login");
    await expect(other.locator("#login-ok")).toHaveText("Log in");
    await logInAsViewer(other);
    await expect(other.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(other.locator("#live-indicator")).toHaveText("● 实时");
  } finally {
    // the other specs read English
    const back = await page.request.post("/api/choose_language", { form: { lang: "en" } });
    expect(back.status()).toBe(200);
    await first.close();
    await second.close();
  }
});
