import { test, expect, type Page } from "@playwright/test";

// The list's first load over loopback, as Chromium sees it: the HTML, the bundle, and the page
// becoming live (hydrated, its live channel open). Cold: a new browser context (empty cache);
// warm: the same context loading the page again (the bundle kept as immutable). Medians of
// RUNS loads each; printed, never asserted.
const RUNS = 10;

type Load = { html: number; dcl: number; load: number; live: number; bytes: number; requests: number };

async function measure(page: Page): Promise<Load> {
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const live = await page.evaluate(() => performance.now());
  return page.evaluate((live) => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    const resources = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
    const bytes = [nav, ...resources].reduce((sum, e) => sum + e.transferSize, 0);
    return {
      html: nav.responseEnd,
      dcl: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      live,
      bytes,
      requests: resources.filter((r) => r.transferSize > 0).length + 1,
    };
  }, live);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function report(label: string, loads: Load[]) {
  const m = (k: keyof Load) => median(loads.map((l) => l[k]));
  console.log(
    `${label.padEnd(6)} ${loads.length} loads, medians: HTML ${m("html").toFixed(1)} ms, DOMContentLoaded ${m("dcl").toFixed(1)} ms, ` +
      `load ${m("load").toFixed(1)} ms, live (hydrated) ${m("live").toFixed(1)} ms; ` +
      `${Math.round(m("bytes"))} bytes over ${m("requests")} requests that reached the network`,
  );
}

test("first load of the list", async ({ browser }) => {
  test.setTimeout(120_000);
  const state = process.env.HAVIP_E2E_ADMIN_STATE!;
  const cold: Load[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ storageState: state });
    cold.push(await measure(await context.newPage()));
    await context.close();
  }
  const context = await browser.newContext({ storageState: state });
  const page = await context.newPage();
  await measure(page);
  const warm: Load[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await measure(page));
  await context.close();
  report("cold", cold);
  report("warm", warm);
});

// The list's dialogs are a lazy chunk, fetched a second after the page is live. Time from a
// click on "Apply" until the dialog shows: right after the page is live (the click loads the
// chunk), two seconds later (preloaded), and a later click.
test("first click on Apply", async ({ browser }) => {
  test.setTimeout(120_000);
  const state = process.env.HAVIP_E2E_ADMIN_STATE!;
  const first: number[] = [];
  const preloaded: number[] = [];
  const again: number[] = [];
  const open = async (page: Page) => {
    const began = await page.evaluate(() => performance.now());
    await page.locator("#apply").click();
    await expect(page.locator("#apply-dialog")).toBeVisible();
    return (await page.evaluate(() => performance.now())) - began;
  };
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ storageState: state });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page.locator("#live-indicator")).toHaveText("● Live");
    first.push(await open(page));
    await page.locator("#apply-cancel").click();
    await expect(page.locator("#apply-dialog")).toBeHidden();
    again.push(await open(page));
    await context.close();
    const later = await browser.newContext({ storageState: state });
    const other = await later.newPage();
    await other.goto("/");
    await expect(other.locator("#live-indicator")).toHaveText("● Live");
    await other.waitForTimeout(2_000);
    preloaded.push(await open(other));
    await later.close();
  }
  console.log(
    `Apply, click to dialog: at once after live ${median(first).toFixed(1)} ms, 2 s after live ${median(preloaded).toFixed(1)} ms, ` +
      `a later click ${median(again).toFixed(1)} ms (medians of ${RUNS})`,
  );
});
