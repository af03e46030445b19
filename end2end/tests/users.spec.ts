import { test, expect } from "@playwright/test";
import { open, unique } from "./helpers";

test("the Users page: add a user, change its role, disable and delete it; the last admin stays", async ({ page, browser }) => {
  await open(page, "/users");
  const name = unique("ops").toLowerCase();
  await page.locator("#user-name").fill(name);
  await page.locator("#user-role").selectOption("operator");
  await page.locator("#user-password").fill("short");
  await expect(page.locator("#user-password-error")).toContainText("at least 12");
  await page.locator("#user-password").fill("operator password");
  await page.getByRole("button", { name: "Add user" }).click();
  const row = page.locator(`#user-table tr[data-name="${name}"]`);
  await expect(row).toHaveCount(1);
  await expect(row.getByLabel("Role")).toHaveValue("operator");

  // the new user logs in (its own browser), and shows up with one session
  const other = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const them = await other.newPage();
  await them.goto("/login");
  await them.getByLabel("User name").fill(name);
  await them.getByLabel("Password").fill("operator password");
  await them.getByRole("button", { name: "Log in" }).click();
  await expect(them.locator("#whoami")).toHaveText(`${name} (operator)`);
  await expect(row.getByTestId("sessions")).toHaveText("1");

  await row.getByLabel("Role").selectOption("viewer");
  await expect(row.getByLabel("Role")).toHaveValue("viewer");
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.getByTestId("state")).toHaveText("Disabled");
  await expect(row.getByTestId("sessions")).toHaveText("0");
  // its session ended: the next page sends it to the login page
  await them.goto("/eips");
  await expect(them).toHaveURL(/\/login\?next=/);
  await other.close();

  await row.getByRole("button", { name: "Delete" }).click();
  await expect(row).toHaveCount(0);

  const me = page.locator('#user-table tr[data-name="admin"]');
  await me.getByLabel("Role").selectOption("viewer");
  await expect(page.locator("#users-error")).toContainText("last administrator");
});
