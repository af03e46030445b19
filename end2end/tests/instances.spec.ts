import { test, expect, Page } from "@playwright/test";
import { open, ownRegion, row, startApply, unique } from "./helpers";

const instanceRow = (page: Page, mac: string) => page.locator(`#instance-table tr[data-mac="${mac}"]`);

test("register an instance by hand, restrict an HAVIP to it, pick it as an HA host", async ({ page }) => {
  const region = await ownRegion(page, "Inst");
  const instances = `/instances${region.query}`;
  const subnet17 = `${region.name}-Subnet-17 (172.16.17.0/24)`;
  await open(page, instances);
  await expect(page.getByRole("heading", { name: "Instances" })).toBeVisible();
  const name = unique("web");
  // MACs are unique across the console: this run's own
  const octet = () => Math.floor(Math.random() * 256).toString(16).padStart(2, "0");
  const mac = `52:54:00:${octet()}:${octet()}:01`;
  await page.locator("#instance-name").fill(name);
  await page.locator("#instance-subnet").selectOption({ label: subnet17 });
  // the same checks as the server, while typing
  await page.locator("#instance-mac").fill("52:54:00:ab:cd");
  await expect(page.locator("#instance-mac-error")).toContainText("is not a MAC address");
  await page.locator("#instance-mac").fill("ff:ff:ff:ff:ff:ff");
  await expect(page.locator("#instance-mac-error")).toContainText("not one network interface");
  await page.locator("#instance-mac").fill(mac);
  await expect(page.locator("#instance-mac-error")).toHaveCount(0);
  await page.locator("#instance-ip").fill("172.16.16.250");
  await expect(page.locator("#instance-ip-error")).toContainText("outside the subnet 172.16.17.0/24");
  await page.locator("#instance-ip").fill("172.16.17.250");
  await expect(page.locator("#instance-ip-error")).toHaveCount(0);
  await page.locator("#register-ok").click();

  const registered = instanceRow(page, mac);
  await expect(registered.getByTestId("name")).toHaveText(name);
  await expect(registered).toContainText("172.16.17.250");
  await expect(registered).toContainText(/ins-[a-z0-9]{8}/);
  await expect(registered).toContainText(/eni-[a-z0-9]{8}/);
  await expect(page.locator("#instance-name")).toHaveValue("");

  // the server refuses a MAC registered twice and an address in use; nothing is added
  await page.locator("#instance-name").fill(unique("dup"));
  await page.locator("#instance-subnet").selectOption({ label: subnet17 });
  await page.locator("#instance-mac").fill(mac.toUpperCase());
  await page.locator("#instance-ip").fill("172.16.17.249");
  await page.locator("#register-ok").click();
  await expect(page.locator("#instance-mac-error")).toContainText(`already registered to instance ${name}`);
  await page.locator("#instance-mac").fill(mac.replace(/01$/, "02"));
  await page.locator("#instance-ip").fill("172.16.17.250");
  await page.locator("#register-ok").click();
  await expect(page.locator("#instance-ip-error")).toHaveText("172.16.17.250 is already in use in this subnet.");
  await expect(page.locator("#instance-table tbody tr")).toHaveCount(1);

  // the instance's primary IP is in use for HAVIPs too
  await open(page, `/${region.query}`);
  const vipName = unique("guarded");
  const dialog = await startApply(page, vipName);
  await dialog.locator("#subnet-select").selectOption(region.subnets["17"]);
  await dialog.getByLabel("Enter manually").check();
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.17.250");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.locator("#ip-error")).toHaveText("172.16.17.250 is already in use in this subnet.");
  await dialog.getByRole("textbox", { name: "IP address" }).fill("172.16.17.251");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();

  // allowed holders on the detail page
  await row(page, vipName).locator("a.id").click();
  const card = page.locator("#allowed-holders");
  await expect(card.getByTestId("allowed-summary")).toHaveText("Any host may hold this HAVIP.");
  await card.getByLabel(new RegExp(name)).check();
  await card.getByRole("button", { name: "Save" }).click();
  await expect(card.getByTestId("allowed-summary")).toContainText("Only the 1 checked instance(s) may hold this HAVIP");
  await page.reload();
  await expect(card.getByLabel(new RegExp(name))).toBeChecked();
  await expect(page.locator("#live-indicator")).toHaveText("● Live");

  // the HA panel offers the subnet's instances as hosts
  await page.locator("#ha-primary-pick").selectOption({ label: `${name} (172.16.17.250)` });
  await expect(page.locator("#ha-primary")).toHaveValue("172.16.17.250");
  await page.locator("#ha-secondary").fill("172.16.17.9");
  await expect(page.locator("#keepalived-primary")).toContainText("unicast_src_ip 172.16.17.250");
  const detailUrl = page.url();

  // an allowed holder cannot be deregistered until the rule no longer names it
  await open(page, instances);
  await instanceRow(page, mac).getByRole("button", { name: "Deregister" }).click();
  await expect(page.locator("#instances-error")).toContainText(`is an allowed holder of HAVIP ${vipName}`);
  await open(page, detailUrl);
  await card.getByRole("button", { name: "Allow any host" }).click();
  await expect(card.getByTestId("allowed-summary")).toHaveText("Any host may hold this HAVIP.");
  await open(page, instances);
  await instanceRow(page, mac).getByRole("button", { name: "Deregister" }).click();
  await expect(instanceRow(page, mac)).toHaveCount(0);
});
