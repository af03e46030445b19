import { test, expect } from "@playwright/test";
import { open, ownRegion, startApply, unique } from "./helpers";

test("search, filter, sort and paging live in the URL and survive a reload", async ({ page }) => {
  test.setTimeout(90_000);
  const region = await ownRegion(page, "List");
  await open(page, `/${region.query}`);
  const prefix = unique("pg");
  for (let i = 0; i < 23; i++) {
    const dialog = await startApply(page, `${prefix}-${String(i).padStart(2, "0")}`);
    await dialog.getByRole("button", { name: "OK" }).click();
    await expect(dialog).toBeHidden();
  }
  // both counters read in one go (a live update may land between two reads), until the last
  // create's update has arrived: the region is the test's own, so they count its 23 alone
  const counters = () =>
    page.evaluate(() =>
      ["count-total", "count-unbound"].map((id) => Number(document.querySelector(`[data-testid="${id}"]`)!.textContent)),
    );
  await expect.poll(async () => (await counters())[0]).toBe(23);
  expect(await counters()).toEqual([23, 23]);

  await page.getByRole("searchbox", { name: "Search" }).fill(prefix);
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
  await expect(page).toHaveURL(new RegExp(`q=${prefix}`));
  await expect(page.locator("#page-info")).toHaveText("Page 1 of 2 · 23 matching");
  await expect(page.locator("#havip-table tbody tr")).toHaveCount(20);

  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/page=1/);
  await expect(page.locator("#havip-table tbody tr")).toHaveCount(3);
  await page.reload();
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await expect(page.locator("#page-info")).toHaveText("Page 2 of 2 · 23 matching");
  await expect(page.locator("#havip-table tbody tr")).toHaveCount(3);
  await expect(page.getByRole("searchbox", { name: "Search" })).toHaveValue(prefix);

  await page.locator("#sort").selectOption("name");
  await expect(page).toHaveURL(/sort=name/);
  await expect(page.locator("#page-info")).toHaveText("Page 1 of 2 · 23 matching");
  await expect(page.locator("#havip-table tbody tr").first()).toContainText(`${prefix}-00`);

  await page.locator("#filter-status").selectOption("bound");
  await expect(page.locator("#no-match")).toBeVisible();
  await page.locator("#filter-status").selectOption("unbound");
  await expect(page.locator("#page-info")).toHaveText("Page 1 of 2 · 23 matching");

  const subnet = await page.locator("#filter-subnet option", { hasText: "172.16.17.0/24" }).getAttribute("value");
  await page.locator("#filter-subnet").selectOption(subnet!);
  await expect(page.locator("#no-match")).toBeVisible();
  await page.reload();
  await expect(page.locator("#filter-subnet")).toHaveValue(subnet!);
  await expect(page.locator("#no-match")).toBeVisible();
});
