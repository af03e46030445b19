import { test, expect } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

test("open the detail page from the list and copy the keepalived configuration", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  // everything the page shows obeys its content security policy (an inline style would not show)
  const refused: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && m.text().includes("Content Security Policy")) refused.push(m.text());
  });
  const region = await ownRegion(page, "Detail");
  await open(page, `/${region.query}`);
  const name = unique("detail");
  const dialog = await startApply(page, name);
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.16.77");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();

  await row(page, name).locator("a.id").click();
  await expect(page).toHaveURL(/\/havip\/havip-[a-z0-9]{8}$/);
  const binding = page.locator("#binding");
  await expect(binding.getByTestId("status")).toHaveText("Not bound with CVM yet");
  // no agent reports for the region's subnets: the status is marked as not kept current
  await expect(binding.getByTestId("unwatched")).toHaveText("No agent");
  await expect(binding).toContainText("172.16.16.77");
  await expect(binding).toContainText("172.16.16.0/24");
  await expect(page.locator("#history")).toContainText("No holder change yet");
  // no VRRP advert heard (the lab shows them): the page says what it can still tell
  await expect(binding.getByTestId("vrrp-none")).toContainText("unicast_peer");

  // the generator checks the hosts' addresses with the same rules as the apply dialog
  await page.locator("#ha-primary").fill("172.16.16.77");
  await expect(page.locator("#ha-errors")).toContainText("cannot be the HAVIP");
  await page.locator("#ha-primary").fill("172.16.16.5");
  await page.locator("#ha-secondary").fill("172.16.16.6");
  await expect(page.locator("#ha-errors")).toHaveCount(0);
  const primary = page.locator("#keepalived-primary");
  await expect(primary).toContainText("state BACKUP");
  await expect(primary).toContainText("nopreempt");
  await expect(primary).toContainText("unicast_src_ip 172.16.16.5");
  await expect(page.locator("#keepalived-secondary")).toContainText("priority 90");
  await expect(page.locator("#pacemaker")).toContainText("ip=172.16.16.77 cidr_netmask=24 nic=eth0");

  await page.locator("#ha-preempt").check();
  await page.locator("#ha-delay").fill("30");
  await expect(primary).toContainText("preempt_delay 30");
  await expect(page.locator("#ha-mode-explained")).toContainText("Preemptive");

  await page.locator("#copy-keepalived-primary").click();
  await expect(page.locator("#copy-keepalived-primary")).toHaveText("Copied");
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  expect(clip).toBe(await primary.textContent());
  expect(clip).toContain("virtual_ipaddress {\n        172.16.16.77\n    }");
  // the availability legend's colours are drawn, so they show
  await expect(page.locator("#availability .legend svg.swatch rect").first()).toHaveAttribute("fill", /^#[0-9a-f]{6}$/);
  expect(refused).toEqual([]);
});

test("an unknown HAVIP id shows a clear error", async ({ page }) => {
  await page.goto("/havip/havip-doesnotx");
  await expect(page.getByRole("alert")).toHaveText("HAVIP havip-doesnotx does not exist.");
  await page.goto("/havip/not-an-id");
  await expect(page.getByRole("alert")).toContainText('"not-an-id" is not an HAVIP ID');
});
