import { expect, Page } from "@playwright/test";

/** Opens a page and waits until it is hydrated and its live connection is up. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
}

export function row(page: Page, text: string) {
  return page.locator("#havip-table tbody tr").filter({ hasText: text });
}

/** Opens the Apply dialog and fills the name; returns the dialog. */
export async function startApply(page: Page, name: string) {
  await page.getByRole("button", { name: "Apply" }).click();
  const dialog = page.getByRole("dialog", { name: "Apply for HAVIP" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Name").fill(name);
  return dialog;
}

export function unique(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}
