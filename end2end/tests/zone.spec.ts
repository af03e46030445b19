import { test, expect } from "@playwright/test";
import { createHavip, open, ownRegion, unique } from "./helpers";

// A browser in Shanghai: the console proposes its zone to a user who chose none, and then shows
// every time eight hours ahead of UTC, with the zone named and UTC in the tooltip.
test.use({ timezoneId: "Asia/Shanghai" });

/** "2026-12-03 08:30:00" as Unix milliseconds, read as UTC. */
function asUtc(text: string) {
  return Date.parse(text.replace(" ", "T") + "Z");
}

test("times in the user's own time zone, the browser's proposed", async ({ page }) => {
  const region = await ownRegion(page, "Zone");
  const havip = await createHavip(page, region, unique("zoned"));
  try {
    // each run's console is new: nobody chose a zone for the administrator yet
    await open(page, "/");
    const proposal = page.locator("#zone-proposal");
    await expect(proposal).toContainText("Times are shown in UTC.");
    await proposal.getByRole("button", { name: "Show them in Asia/Shanghai" }).click();
    await expect(proposal).toBeHidden();
    await page.goto("/account");
    await expect(page.locator("#current-zone")).toHaveText("Asia/Shanghai");
    await expect(page.locator("body[data-hydrated]")).toBeAttached();
    await page.locator("#zone-select").selectOption("Asia/Shanghai");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.locator("#current-zone")).toHaveText("Asia/Shanghai");

    // the detail page, rendered by the server in the zone
    await page.goto(`/havip/${havip.id}`);
    const created = page.locator("dd time").first();
    await expect(created).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CST$/);
    const title = (await created.getAttribute("title"))!;
    expect(title).toMatch(/ UTC · Asia\/Shanghai \(UTC\+08:00\)$/);
    const local = (await created.textContent())!.replace(" CST", "");
    const utc = title.split(" UTC")[0];
    expect(asUtc(local) - asUtc(utc)).toBe(8 * 3600 * 1000);
    expect(Math.abs(asUtc(utc) - havip.created)).toBeLessThan(1000);

    // the list's created time is the same, with its tooltip
    await page.goto(`/${region.query}`);
    const listed = page.locator(`#havip-table tr[data-id="${havip.id}"] time`);
    await expect(listed).toHaveText(`${local} CST`);
    expect(await listed.getAttribute("title")).toBe(title);

    // the audit log agrees
    await page.goto(`/audit?object=${havip.id}`);
    const logged = page.locator("#audit-table tbody tr time").first();
    await expect(logged).toHaveText(/ CST$/);
    expect(await logged.getAttribute("title")).toContain("Asia/Shanghai (UTC+08:00)");
  } finally {
    // the other specs read times in UTC
    const back = await page.request.post("/api/set_time_zone", { form: { zone: "UTC" } });
    expect(back.status()).toBe(200);
  }
});
