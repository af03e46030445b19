import { expect, Page } from "@playwright/test";

/** Opens a page and waits until it is hydrated and its live connection is up (in any language). */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("#live-indicator")).toHaveClass(/\bup\b/);
}

/** Fills and sends the login form the page shows. */
export async function logIn(page: Page, name: string, password: string) {
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
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

/** A region of the test's own, shaped like the seeded Default one. */
export type OwnRegion = {
  id: string;
  name: string;
  /** `?region=ID`, for the pages that show one region (list, networks, instances) */
  query: string;
  vpc: string;
  /** subnet IDs by their third octet: 172.16.16.0/24 and 172.16.17.0/24 */
  subnets: { "16": string; "17": string };
};

/**
 * Makes a region of the test's own, with a VPC 172.16.0.0/16 and the subnets 172.16.16.0/24 and
 * 172.16.17.0/24 (named `<region>-VPC`, `<region>-Subnet-16` and `-17`, as the seeded Default
 * region's are). Every spec shares one console: in its own region a test sees no other test's
 * HAVIPs, instances or agents, so each spec passes alone and in any order (CI runs the suite in
 * reverse order too).
 */
export async function ownRegion(page: Page, prefix = "Own"): Promise<OwnRegion> {
  const call = async (fn: string, form: Record<string, string>) => {
    const answer = await page.request.post(`/api/${fn}`, { form, headers: { Accept: "application/json" } });
    expect(answer.status(), `${fn}: ${await answer.text()}`).toBe(200);
    return answer.json();
  };
  const name = unique(prefix);
  const region = await call("create_region", { name });
  const vpc = await call("create_vpc", { region_id: region.id, name: `${name}-VPC`, cidr: "172.16.0.0/16" });
  const subnet = async (octet: string) =>
    (await call("create_subnet", { vpc_id: vpc.id, name: `${name}-Subnet-${octet}`, cidr: `172.16.${octet}.0/24` })).id as string;
  return { id: region.id, name, query: `?region=${region.id}`, vpc: vpc.id, subnets: { "16": await subnet("16"), "17": await subnet("17") } };
}

/**
 * Applies, as `page`'s user, for an HAVIP named `name` in `region`'s subnet 172.16.`octet`.0/24,
 * its address assigned automatically; the HAVIP made.
 */
export async function createHavip(page: Page, region: OwnRegion, name: string, octet: "16" | "17" = "16") {
  const made = await page.request.post("/api/create_havip", {
    data: { req: { region_id: region.id, name, vpc_id: region.vpc, subnet_id: region.subnets[octet], ip: "Automatic" } },
  });
  expect(made.status(), await made.text()).toBe(200);
  return made.json();
}
