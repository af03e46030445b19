import { test, expect, Page } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

/** Renames an HAVIP through the list's Rename dialog; returns the server function's URL. */
async function renameInList(page: Page, from: string, to: string): Promise<string> {
  await row(page, from).getByRole("button", { name: "Rename" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(to);
  const call = page.waitForRequest((r) => r.method() === "POST" && r.url().includes("rename_havip"));
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(row(page, to)).toHaveCount(1);
  return (await call).url();
}

test("the Audit page: who changed what from where, before and after, filtered, paged and live", async ({ page }) => {
  const region = await ownRegion(page, "Audit");
  await open(page, `/${region.query}`);
  const name = unique("audited");
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(row(page, name)).toHaveCount(1);
  const renamed = unique("audited-2");
  const renameUrl = await renameInList(page, name, renamed);
  const id = (await row(page, renamed).getAttribute("data-id"))!;

  await page.getByRole("link", { name: "Audit" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  const entries = page.locator("#audit-table tbody tr");
  const renameRow = entries.filter({ hasText: "havip.rename" }).filter({ hasText: id });
  await expect(renameRow).toHaveCount(1);
  await expect(renameRow.getByTestId("user")).toHaveText("admin");
  await expect(renameRow.locator("td").nth(2)).toHaveText("127.0.0.1");
  await expect(renameRow.getByTestId("changes")).toHaveText(`name: ${name} → ${renamed}`);
  await expect(entries.filter({ hasText: "havip.create" }).filter({ hasText: id })).toHaveCount(1);

  // filters go into the URL; only matching entries remain
  await page.getByLabel("Action").fill("havip.rename");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=havip\.rename/);
  await expect(entries.filter({ hasText: "havip.create" })).toHaveCount(0);
  await expect(renameRow).toHaveCount(1);

  // a change made elsewhere appears without a reload
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const again = unique("audited-3");
  const res = await page.request.post(renameUrl, { form: { id, name: again } });
  expect(res.ok()).toBeTruthy();
  await expect(entries.first().getByTestId("changes")).toHaveText(`name: ${renamed} → ${again}`);
});

test("the audit log pages: Older shows the next entries, Newest goes back", async ({ page }) => {
  const region = await ownRegion(page, "Audit");
  await open(page, `/${region.query}`);
  // make sure there are more entries than a page holds (50)
  const name = unique("pager");
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(row(page, name)).toHaveCount(1);
  const id = (await row(page, name).getAttribute("data-id"))!;
  const renameUrl = await renameInList(page, name, `${name}-0`);
  for (let i = 1; i < 51; i++) {
    const res = await page.request.post(renameUrl, { form: { id, name: `${name}-${i}` } });
    expect(res.ok()).toBeTruthy();
  }
  await open(page, `/audit?object=${id}&action=rename`);
  const entries = page.locator("#audit-table tbody tr");
  await expect(entries).toHaveCount(50);
  await expect(entries.first().getByTestId("changes")).toHaveText(`name: ${name}-49 → ${name}-50`);
  await page.locator("#audit-older").click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(entries).toHaveCount(1);
  await expect(entries.first().getByTestId("changes")).toHaveText(`name: ${name} → ${name}-0`);
  await expect(page.locator("#audit-older")).toHaveCount(0);
  await page.getByRole("link", { name: "Newest" }).click();
  await expect(entries).toHaveCount(50);
});
