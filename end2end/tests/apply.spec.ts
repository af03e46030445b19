import { test, expect } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

test.beforeEach(async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  (page as any).__errors = errors;
});

test.afterEach(async ({ page }) => {
  expect((page as any).__errors).toEqual([]);
});

test("apply with automatic assignment", async ({ page }) => {
  const region = await ownRegion(page, "Apply");
  await open(page, `/${region.query}`);
  const name = unique("auto");
  const dialog = await startApply(page, name);
  // exactly the seed's fields
  await expect(dialog.getByLabel("Virtual Private Cloud")).toContainText("172.16.0.0/16");
  await expect(dialog.getByLabel("Subnet")).toContainText("172.16.16.0/24");
  await expect(dialog.getByLabel("Subnet")).toContainText("free");
  await expect(dialog.getByLabel("Automatic Assignment")).toBeChecked();
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  const r = row(page, name);
  await expect(r).toHaveCount(1);
  await expect(r.getByTestId("status")).toHaveText("Not bound with CVM yet");
  await expect(r.locator("td.ip")).toHaveText(/^172\.16\.16\.\d+$/);
});

test("apply with a valid manual IP in the second subnet", async ({ page }) => {
  const region = await ownRegion(page, "Apply");
  await open(page, `/${region.query}`);
  const name = unique("manual");
  const dialog = await startApply(page, name);
  const subnet = await dialog.locator("#subnet-select option", { hasText: "172.16.17.0/24" }).getAttribute("value");
  await dialog.getByLabel("Subnet").selectOption(subnet!);
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.17.200");
  await expect(dialog.locator("#ip-error")).toHaveCount(0);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  const r = row(page, name);
  await expect(r.locator("td.ip")).toHaveText("172.16.17.200");
  await expect(r).toContainText("172.16.17.0/24");
  await expect(r.getByTestId("status")).toHaveText("Not bound with CVM yet");
});

test("a reserved manual IP shows the error at once and creates nothing", async ({ page }) => {
  const region = await ownRegion(page, "Apply");
  await open(page, `/${region.query}`);
  const before = await page.locator("#havip-table tbody tr").count();
  const name = unique("reserved");
  const dialog = await startApply(page, name);
  await dialog.getByLabel("Enter manually").check();
  const ip = dialog.getByRole("textbox", { name: "IP address" });
  await ip.fill("172.16.16.1");
  // instant, while typing: no request needed
  await expect(dialog.locator("#ip-error")).toHaveText(/172\.16\.16\.1 is reserved.*gateway/);
  await ip.fill("172.16.16.255");
  await expect(dialog.locator("#ip-error")).toHaveText(/reserved.*broadcast/);
  await ip.fill("10.0.0.5");
  await expect(dialog.locator("#ip-error")).toHaveText(/outside the subnet 172\.16\.16\.0\/24.*172\.16\.16\.2-172\.16\.16\.254/);
  await ip.fill("172.16.16.");
  await expect(dialog.locator("#ip-error")).toHaveText(/not a valid IPv4 address/);
  await ip.fill("172.16.16.0");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.locator("#ip-error")).toContainText("reserved");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, name)).toHaveCount(0);
  await page.reload();
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await expect(page.locator("#havip-table tbody tr")).toHaveCount(before);
});

test("an address already in use is refused by the server and the dialog stays open", async ({ page }) => {
  const region = await ownRegion(page, "Apply");
  await open(page, `/${region.query}`);
  const first = unique("taken");
  let dialog = await startApply(page, first);
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.16.150");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();

  const second = unique("again");
  dialog = await startApply(page, second);
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.16.150");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.locator("#ip-error")).toHaveText("172.16.16.150 is already in use in this subnet.");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, second)).toHaveCount(0);
});

test("name rules are checked while typing", async ({ page }) => {
  const region = await ownRegion(page, "Apply");
  await open(page, `/${region.query}`);
  const dialog = await startApply(page, "x".repeat(61));
  await expect(dialog.locator("#name-error")).toHaveText(/61 characters; at most 60/);
  await dialog.getByLabel("Name").fill("   ");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.locator("#name-error")).toHaveText("Enter a name.");
  await dialog.getByLabel("Name").fill("数据库-vip");
  await expect(dialog.locator("#name-error")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Cancel" }).click();
});
