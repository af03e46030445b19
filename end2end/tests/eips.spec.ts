import { test, expect } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

test("bind and unbind an EIP from the list; delete and release follow the rules", async ({ page }) => {
  const region = await ownRegion(page, "Eips");
  await open(page, `/${region.query}`);
  const name = unique("public");
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();

  await row(page, name).getByRole("button", { name: "Bind EIP" }).click();
  const bind = page.getByRole("dialog", { name: "Bind EIP" });
  await expect(bind.getByLabel("EIP")).toHaveValue("new");
  await bind.getByRole("button", { name: "OK" }).click();
  await expect(bind).toBeHidden();
  await expect(row(page, name).getByTestId("eip")).toHaveText(/^203\.0\.113\.\d+$/);
  const eip = (await row(page, name).getByTestId("eip").textContent())!;

  // deleting an HAVIP with an EIP is refused with a clear message, and nothing changes
  await row(page, name).getByRole("button", { name: "Delete" }).click();
  const del = page.getByRole("dialog", { name: "Delete HAVIP" });
  await del.getByRole("button", { name: "Delete" }).click();
  await expect(del.locator("#delete-error")).toContainText("unbind the EIP before deleting it");
  await del.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, name)).toHaveCount(1);

  // the EIPs page shows the binding; a bound EIP offers no release
  await page.getByRole("link", { name: "EIPs" }).click();
  const eipRow = page.locator(`#eip-table tr[data-ip="${eip}"]`);
  await expect(eipRow.getByTestId("eip-havip")).toContainText(name);
  await expect(eipRow.getByRole("button", { name: "Release" })).toHaveCount(0);

  await open(page, `/${region.query}`);
  await row(page, name).getByRole("button", { name: "Unbind EIP" }).click();
  await expect(row(page, name).getByTestId("eip")).toHaveText("-");

  await page.getByRole("link", { name: "EIPs" }).click();
  await expect(eipRow.getByTestId("eip-havip")).toHaveText("-");
  await eipRow.getByRole("button", { name: "Release" }).click();
  await expect(eipRow).toHaveCount(0);

  // bind an already allocated EIP, chosen in the dialog: the one this click allocates (other
  // tests' EIPs may be listed, bound or not, and the pool hands out its lowest free address)
  const listed = () => page.locator("#eip-table tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-ip")!));
  const before = await listed();
  await page.getByRole("button", { name: "Allocate EIP" }).click();
  await expect(page.locator("#eip-table tbody tr")).toHaveCount(before.length + 1);
  const free = (await listed()).find((ip) => !before.includes(ip))!;
  await open(page, `/${region.query}`);
  await row(page, name).getByRole("button", { name: "Bind EIP" }).click();
  // "203.0.113.1 (eip-…)", not 203.0.113.10
  const option = page.locator("#eip-select option").filter({ hasText: new RegExp(`^${free.replace(/\./g, "\\.")} \\(`) });
  const value = await option.getAttribute("value");
  await page.locator("#eip-select").selectOption(value!);
  await page.getByRole("dialog", { name: "Bind EIP" }).getByRole("button", { name: "OK" }).click();
  await expect(row(page, name).getByTestId("eip")).toHaveText(free);
});

test("bind and unbind an EIP from the detail page", async ({ page }) => {
  const region = await ownRegion(page, "Eips");
  await open(page, `/${region.query}`);
  const name = unique("detail-eip");
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
  await row(page, name).locator("a.id").click();
  const binding = page.locator("#binding");
  await expect(binding.getByTestId("eip")).toHaveText("-");
  await binding.getByRole("button", { name: "Bind EIP" }).click();
  const bind = page.getByRole("dialog", { name: "Bind EIP" });
  await bind.getByRole("button", { name: "OK" }).click();
  await expect(bind).toBeHidden();
  await expect(binding.getByTestId("eip")).toHaveText(/^203\.0\.113\.\d+$/);
  await binding.getByRole("button", { name: "Unbind EIP" }).click();
  await expect(binding.getByTestId("eip")).toHaveText("-");
  await expect(binding.getByRole("button", { name: "Bind EIP" })).toBeVisible();
});
