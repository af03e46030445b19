import { test as setup, expect } from "@playwright/test";

const PASSWORD = "end-to-end password";

setup("log in as the administrator", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F|\/login\?next=\//);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#whoami")).toHaveText("admin (admin)");
  await page.context().storageState({ path: process.env.HAVIP_E2E_ADMIN_STATE! });
});
