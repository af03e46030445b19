import { test, expect, Page } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

async function create(page: Page, name: string) {
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, name)).toHaveCount(1);
}

test("rename from the list", async ({ page }) => {
  const region = await ownRegion(page, "Manage");
  await open(page, `/${region.query}`);
  const name = unique("before");
  await create(page, name);
  await row(page, name).getByRole("button", { name: "Rename" }).click();
  const dialog = page.getByRole("dialog");
  const renamed = unique("after");
  await dialog.getByLabel("Name").fill(renamed);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, renamed)).toHaveCount(1);
  await expect(row(page, name)).toHaveCount(0);
});

test("delete asks for confirmation", async ({ page }) => {
  const region = await ownRegion(page, "Manage");
  await open(page, `/${region.query}`);
  const name = unique("doomed");
  await create(page, name);
  await row(page, name).getByRole("button", { name: "Delete" }).click();
  let dialog = page.getByRole("dialog", { name: "Delete HAVIP" });
  await expect(dialog).toContainText(name);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, name)).toHaveCount(1);
  await row(page, name).getByRole("button", { name: "Delete" }).click();
  dialog = page.getByRole("dialog", { name: "Delete HAVIP" });
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, name)).toHaveCount(0);
});

test("reload keeps the data", async ({ page }) => {
  const region = await ownRegion(page, "Manage");
  await open(page, `/${region.query}`);
  const name = unique("kept");
  await create(page, name);
  const ip = await row(page, name).locator("td.ip").textContent();
  await page.reload();
  await expect(row(page, name).locator("td.ip")).toHaveText(ip!);
  // also present in the server-rendered HTML, before any script runs
  const html = await (await page.request.get(`/${region.query}`)).text();
  expect(html).toContain(name);
});

test("switching region changes the list", async ({ page }) => {
  const region = await ownRegion(page, "Manage");
  await open(page, `/${region.query}`);
  const name = unique("home");
  await create(page, name);

  await page.getByRole("link", { name: "VPCs & subnets" }).click();
  const other = unique("Region");
  await page.locator("#region-name").fill(other);
  await page.getByRole("button", { name: "Create region" }).click();
  await expect(page.locator("#region-select option", { hasText: other })).toHaveCount(1);

  await page.getByRole("link", { name: "HAVIP" }).click();
  await page.locator("#region-select").selectOption({ label: other });
  await expect(page).toHaveURL(/\?region=region-/);
  await expect(page.locator("#empty-state")).toBeVisible();
  await expect(row(page, name)).toHaveCount(0);

  await page.reload();
  await expect(page.locator("#empty-state")).toBeVisible();
  await expect(page.locator("#region-select")).toHaveValue(/region-/);
  await expect(page.locator("#live-indicator")).toHaveText("● Live");

  await page.locator("#region-select").selectOption({ label: region.name });
  await expect(row(page, name)).toHaveCount(1);
});

test("VPCs and subnets can be created, with CIDR rules", async ({ page }) => {
  const region = await ownRegion(page, "Manage");
  await open(page, `/networks${region.query}`);
  const vpc = unique("vpc");
  await page.locator("#vpc-name").fill(vpc);
  await page.locator("#vpc-cidr").fill("8.8.0.0/16");
  await page.getByRole("button", { name: "Create VPC" }).click();
  await expect(page.locator("#vpc-form-error")).toContainText("not inside a private range");
  await page.locator("#vpc-cidr").fill("10.77.0.0/16");
  await page.getByRole("button", { name: "Create VPC" }).click();
  await expect(page.locator("#vpc-table")).toContainText(vpc);

  const value = await page.locator("#subnet-vpc option", { hasText: vpc }).getAttribute("value");
  await page.locator("#subnet-vpc").selectOption(value!);
  await page.locator("#subnet-name").fill("app");
  await page.locator("#subnet-cidr").fill("10.78.0.0/24");
  await page.getByRole("button", { name: "Create subnet" }).click();
  await expect(page.locator("#subnet-form-error")).toContainText("not inside the VPC");
  await page.locator("#subnet-cidr").fill("10.77.5.0/24");
  await page.getByRole("button", { name: "Create subnet" }).click();
  await expect(page.locator(`#vpc-table tr[data-id="${value}"]`)).toContainText("10.77.5.0/24 · 253 / 253");

  // the new subnet is offered in the apply dialog
  await open(page, `/${region.query}`);
  const dialog = await startApply(page, unique("in-new-vpc"));
  await dialog.getByLabel("Virtual Private Cloud").selectOption(value!);
  await expect(dialog.getByLabel("Subnet")).toContainText("10.77.5.0/24");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("#havip-table")).toContainText("10.77.5.2");
});
