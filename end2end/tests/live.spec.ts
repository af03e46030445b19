import { test, expect, Browser, Page, WebSocketRoute } from "@playwright/test";
import { PASSWORD } from "../playwright.config";
import { createHavip, logIn, open, ownRegion, row, startApply, unique } from "./helpers";

async function apply(page: Page, name: string) {
  const dialog = await startApply(page, name);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeHidden();
}

test("another user's change updates the row in place and keeps what is being typed", async ({ page, context }) => {
  const region = await ownRegion(page, "Live");
  await open(page, `/${region.query}`);
  const name = unique("live");
  await apply(page, name);
  // the row's DOM node is marked: a rebuilt list would lose the mark
  await row(page, name).evaluate((tr) => tr.setAttribute("data-marked", "yes"));
  const search = page.getByRole("searchbox", { name: "Search" });
  await search.fill("half-typed sear");

  const other = await context.newPage();
  await open(other, `/${region.query}`);
  await row(other, name).getByRole("button", { name: "Rename" }).click();
  const renamed = `${name}-renamed`;
  await other.locator("#rename-input").fill(renamed);
  await other.getByRole("button", { name: "OK" }).click();
  await expect(row(other, renamed)).toHaveCount(1);

  await expect(row(page, renamed)).toHaveCount(1);
  await expect(row(page, renamed)).toHaveAttribute("data-marked", "yes");
  await expect(search).toHaveValue("half-typed sear");
  await expect(search).toBeFocused();
  await other.close();
});

test("pages load their data once: hydration fetches nothing again", async ({ page }) => {
  // a HAVIP to rename once each page is live
  const region = await ownRegion(page, "Live");
  await open(page, `/${region.query}`);
  const name = unique("once");
  await apply(page, name);
  const id = (await row(page, name).getAttribute("data-id"))!;

  // What hydration fetches, it sends while the page hydrates or right after the live channel's
  // greeting (a page rendered at another mark reloads): before the page receives any later
  // message of that channel. A rename made once the page is live reaches it as a `Change`
  // message, which these pages (they show HAVIPs, but not as rows they can update) answer with
  // one reload of their data. So every request before that message came from hydration, and
  // there must be none; the reload after it ends the wait (and shows that the page was
  // listening). The browser reports both in the order they happen. (The list takes the change
  // in place, with no request: see the next test.)
  const seen: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() === "POST" && path.startsWith("/api/")) seen.push(path);
  });
  page.on("websocket", (ws) => ws.on("framereceived", (f) => {
    if (String(f.payload).includes('"Change"')) seen.push("Change");
  }));
  let n = 0;
  for (const path of ["/eips", `/instances${region.query}`, `/networks${region.query}`, `/havip/${id}`]) {
    seen.length = 0;
    await open(page, path);
    const renamed = await page.request.post("/api/rename_havip", { form: { id, name: `${name}-${++n}` } });
    expect(renamed.ok(), await renamed.text()).toBe(true);
    const changed = () => seen.indexOf("Change");
    await expect
      .poll(() => changed() >= 0 && seen.length > changed() + 1, { message: `${path} reloads its data on a live change` })
      .toBe(true);
    expect(seen.slice(0, changed()), `${path} refetched after hydration`).toEqual([]);
  }
});

/** Logs the viewer in, in a browser of its own, on `path`; returns its page once live. */
async function viewerOn(browser: Browser, path: string) {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto(`/login?next=${encodeURIComponent(path)}`);
  await logIn(page, "viewer", PASSWORD);
  await expect(page.locator("#whoami")).toHaveText("viewer (viewer)");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  return page;
}

test("the list takes another user's creates, renames and deletes in place: no server-function request, the typed search and its focus stay", async ({ page, browser }) => {
  // the administrator changes the region; the viewer watches its list
  const region = await ownRegion(page, "Push");
  const create = async (name: string) => (await createHavip(page, region, name)).id as string;
  const first = unique("push");
  const firstId = await create(first);
  const watcher = await viewerOn(browser, `/${region.query}`);
  const calls: string[] = [];
  watcher.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname.startsWith("/api/")) calls.push(new URL(r.url()).pathname);
  });
  const total = watcher.getByTestId("count-total");
  await expect(total).toHaveText("1");
  const search = watcher.getByRole("searchbox", { name: "Search" });
  await search.fill("half-typed sear");

  const second = unique("push");
  const secondId = await create(second);
  await expect(row(watcher, second)).toHaveCount(1);
  await expect(total).toHaveText("2");
  await expect(watcher.locator("#page-info")).toHaveText("Page 1 of 1 · 2 matching");
  // newest first: the new row on top
  await expect(watcher.locator("#havip-table tbody tr").first()).toHaveAttribute("data-id", secondId);

  const renamed = await page.request.post("/api/rename_havip", { form: { id: firstId, name: `${first}-renamed` } });
  expect(renamed.ok(), await renamed.text()).toBe(true);
  await expect(row(watcher, `${first}-renamed`)).toHaveCount(1);

  const deleted = await page.request.post("/api/delete_havip", { form: { id: secondId } });
  expect(deleted.ok(), await deleted.text()).toBe(true);
  await expect(row(watcher, second)).toHaveCount(0);
  await expect(total).toHaveText("1");
  await expect(watcher.locator("#page-info")).toHaveText("Page 1 of 1 · 1 matching");

  expect(calls, "server functions the list called for the changes").toEqual([]);
  await expect(search).toHaveValue("half-typed sear");
  await expect(search).toBeFocused();
  await watcher.context().close();
});

test("a searched list takes a new row when its name matches the search in any case, accents too (the browser lowers the case)", async ({ page, browser }) => {
  const region = await ownRegion(page, "Case");
  const create = (name: string) => createHavip(page, region, name);
  const tag = unique("x");
  // the search in capitals, the names in lower case: É and Ü lower only by Unicode's rules
  const watcher = await viewerOn(browser, `/${region.query}&q=${encodeURIComponent(`ÉCOLE-Ü-${tag.toUpperCase()}`)}`);
  await expect(watcher.locator("#no-match")).toBeVisible();
  await create(`other-${tag}`);
  await create(`école-ü-${tag}`);
  await expect(row(watcher, `école-ü-${tag}`)).toHaveCount(1);
  await expect(watcher.locator("#page-info")).toHaveText("Page 1 of 1 · 1 matching");
  await expect(watcher.locator("#no-match")).toBeHidden();
  await expect(row(watcher, `other-${tag}`)).toHaveCount(0);
  await watcher.context().close();
});

test("a list that missed changes (its channel fell behind and was dropped) loads them when it reconnects", async ({ page }) => {
  const region = await ownRegion(page, "Missed");
  await open(page, `/${region.query}`);
  const name = unique("missed");
  await apply(page, name);
  const id = (await row(page, name).getAttribute("data-id"))!;
  // the channel goes through the test: it forwards everything until it holds the server's
  // frames back, as a console does for a page that stopped reading, then drops the page
  const held: unknown[] = [];
  let holding = false;
  let routed: WebSocketRoute | undefined;
  await page.routeWebSocket(/\/api\/live_events$/, (ws) => {
    routed = ws;
    const server = ws.connectToServer();
    server.onMessage((m) => (held.length || holding ? held.push(m) : ws.send(m)));
    ws.onMessage((m) => server.send(m));
  });
  await page.reload();
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const reloads: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/havip_page") reloads.push(r.url());
  });
  holding = true;
  const renamed = await page.request.post("/api/rename_havip", { form: { id, name: `${name}-unseen` } });
  expect(renamed.ok(), await renamed.text()).toBe(true);
  await expect.poll(() => held.length, { message: "the rename's frame, held back" }).toBeGreaterThan(0);
  // not shown: its frame never reached the page
  expect(await row(page, name).textContent()).not.toContain("unseen");
  // dropped as "too far behind": the page reconnects, is greeted with a later change number
  // than it has seen, and loads its data again
  holding = false;
  held.length = 0;
  await routed!.close({ code: 1013, reason: "too far behind; reconnect and reload" });
  await expect(row(page, `${name}-unseen`)).toHaveCount(1);
  expect(reloads.length, "the page loaded its data again").toBeGreaterThan(0);
});

test("a refused unbind is shown, on the list and on the detail page", async ({ page }) => {
  const region = await ownRegion(page, "Live");
  await open(page, `/${region.query}`);
  const name = unique("refused");
  await apply(page, name);
  await row(page, name).getByRole("button", { name: "Bind EIP" }).click();
  await page.getByRole("dialog", { name: "Bind EIP" }).getByRole("button", { name: "OK" }).click();
  await expect(row(page, name).getByTestId("eip")).not.toHaveText("-");
  // the server refuses (as it would if another user had just unbound it)
  await page.route(/unbind_havip_eip/, (route) =>
    route.fulfill({
      status: 409,
      contentType: "application/json",
      body: JSON.stringify({ kind: "Conflict", field: null, message: "HAVIP has no EIP bound (refused for the test)." }),
    }),
  );
  await row(page, name).getByRole("button", { name: "Unbind EIP" }).click();
  await expect(page.locator("#list-error")).toContainText("refused for the test");

  await row(page, name).locator("a.id").click();
  await expect(page.locator("#binding")).toBeVisible();
  await page.locator("#binding").getByRole("button", { name: "Unbind EIP" }).click();
  await expect(page.locator("#detail-error")).toContainText("refused for the test");
});

test("the server renders what the page shows: the search, the allowed holders, the HA panel", async ({ page, request }) => {
  const list = await request.get("/?q=vip%3Csearch%3E");
  expect(list.status()).toBe(200);
  expect(await list.text()).toMatch(/<input[^>]*id="search"[^>]*value="vip&lt;search&gt;"/);

  const region = await ownRegion(page, "Live");
  await open(page, `/${region.query}`);
  const name = unique("ssr");
  await apply(page, name);
  const id = (await row(page, name).getAttribute("data-id"))!;
  const detail = await (await request.get(`/havip/${id}`)).text();
  expect(detail).toContain('id="allowed-holders"');
  expect(detail).toContain("Any host may hold this HAVIP.");
  expect(detail).toContain('id="ha-config"');
  expect(detail).toContain("pcs resource create havip-");
  expect(detail).toMatch(/<input[^>]*id="ha-interface"[^>]*value="eth0"/);
});

test("the console runs under its Content-Security-Policy and hardening headers", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  const response = await page.goto("/");
  const headers = response!.headers();
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  // hydrated: the live channel is up and the Apply dialog opens
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("dialog", { name: "Apply for HAVIP" })).toBeVisible();
  expect(violations).toEqual([]);
});

test("the site's files arrive compressed as the browser asks, in a directory that changes with their contents, kept for good; the page loads its own chunks", async ({ page }) => {
  const bundle: { url: string; encoding?: string; cache?: string; etag?: string }[] = [];
  page.on("response", async (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) {
      const h = await r.allHeaders();
      bundle.push({ url: r.url(), encoding: h["content-encoding"], cache: h["cache-control"], etag: h["etag"] });
    }
  });
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  const wasm = bundle.find((f) => f.url.endsWith("/havip.wasm"))!;
  // under the hash of the bundle's contents, and kept without asking again
  const dir = new URL(wasm.url).pathname.match(/^\/pkg\/([0-9a-f]{16})\/havip\.wasm$/)![1];
  const files = bundle.map((f) => new URL(f.url).pathname);
  for (const file of ["havip.css", "havip.js", "havip.wasm", "__wasm_split.______________________.js"]) {
    expect(files).toContain(`/pkg/${dir}/${file}`);
  }
  // the list is in the main module: no other page's chunks
  expect(files.filter((f) => f.endsWith(".wasm"))).toEqual([`/pkg/${dir}/havip.wasm`]);
  for (const f of bundle) {
    expect(new URL(f.url).pathname.startsWith(`/pkg/${dir}/`), f.url).toBe(true);
    expect(f.cache, f.url).toBe("public, max-age=31536000, immutable");
  }
  // Chromium asks for gzip (and br over HTTPS): never the raw wasm
  expect(["br", "gzip"]).toContain(wasm.encoding);
  expect(wasm.etag).toMatch(/^"[0-9a-f]{24}"$/);
  // the list's dialogs follow in the background once the page is live, before any click
  await expect
    .poll(() => bundle.some((f) => /\/split_dialog_view_\d+\.wasm$/.test(f.url)), { timeout: 10_000 })
    .toBe(true);
  // another page loads its chunk when it is opened
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  expect(bundle.some((f) => /\/split___users_view_\d+\.wasm$/.test(f.url))).toBe(true);
  // another build's directory (an old page after an upgrade) is not served as this build's
  expect((await page.request.get("/pkg/0123456789abcdef/havip.wasm")).status()).toBe(404);
  // the page itself is never cached, so a new build's names reach the browser at once
  const html = await page.request.get("/");
  expect(html.headers()["cache-control"] ?? "").not.toContain("immutable");
  // the server functions' JSON and the pages are compressed too (the request context decodes
  // the body by its content-encoding: a body that is not what the header says fails to parse)
  for (const coding of ["br", "gzip"]) {
    const page1 = await page.request.post("/api/havip_page", {
      headers: { "accept-encoding": coding, "content-type": "application/x-www-form-urlencoded" },
      data: "query[q]=&query[vpc]=&query[subnet]=&query[status]=&query[sort]=&query[page]=0",
    });
    expect(page1.status()).toBe(200);
    expect(page1.headers()["content-encoding"], `server function asked for ${coding}`).toBe(coding);
    const data = await page1.json();
    expect(Array.isArray(data.rows) && Array.isArray(data.regions)).toBe(true);
    const list = await page.request.get("/", { headers: { "accept-encoding": coding } });
    expect(list.headers()["content-encoding"], `page asked for ${coding}`).toBe(coding);
    expect(await list.text()).toContain('id="live-indicator"');
  }
  // under its plain name the file is revalidated: with its ETag, 304 and no bytes
  const plain = await page.request.get("/pkg/havip.wasm");
  expect(plain.headers()["cache-control"]).toBe("no-cache");
  const again = await page.request.get("/pkg/havip.wasm", { headers: { "if-none-match": wasm.etag! } });
  expect(again.status()).toBe(304);
});

test("a page from another build says so once the live channel tells it the console was upgraded", async ({ page }) => {
  // this build's page: no notice
  await page.goto("/");
  await expect(page.locator("#live-indicator")).toHaveText("● Live");
  await expect(page.locator("#outdated")).toHaveCount(0);
  // a page as an older build served it: its bundle's directory is not the server's (the
  // <meta> is changed as the HTML is parsed, before the page's code reads it)
  const older = await page.context().newPage();
  await older.addInitScript(() => {
    new MutationObserver(() => {
      const meta = document.querySelector('meta[name="havip-bundle"]');
      if (meta && meta.getAttribute("content") !== "pkg/0000000000000000") {
        meta.setAttribute("content", "pkg/0000000000000000");
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await older.goto("/");
  await expect(older.locator("#live-indicator")).toHaveText("● Live");
  await expect(older.locator("#outdated")).toContainText("The console was upgraded.");
  // the notice's button reloads; a real upgrade's new page is this build's, here the same
  // page is changed again, so the notice is back after the reload
  const reloaded = older.waitForEvent("load");
  await older.locator("#outdated").getByRole("button", { name: "Reload" }).click();
  await reloaded;
  await expect(older.locator("#live-indicator")).toHaveText("● Live");
  await expect(older.locator("#outdated")).toBeVisible();
});
