import { test, expect } from "@playwright/test";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { open, unique } from "./helpers";

// A page of another site (another loopback port) that the logged-in operator happens to visit:
// it submits a form to the console and opens the console's live websocket. Both are refused.
test("a hostile page cannot change the console or open its live channel", async ({ page }) => {
  // the console's own create-region call and live websocket, as the browser really uses them
  await open(page, "/networks");
  const wsUrl = await new Promise<string>((done) => {
    page.on("websocket", (ws) => done(ws.url()));
    page.reload();
  });
  const ownRegion = unique("Own");
  const [call] = await Promise.all([
    page.waitForRequest((r) => r.method() === "POST" && r.url().includes("create_region")),
    (async () => {
      await page.locator("#region-name").fill(ownRegion);
      await page.getByRole("button", { name: "Create region" }).click();
    })(),
  ]);
  await expect(page.locator("#region-select option", { hasText: ownRegion })).toHaveCount(1);

  const evil = unique("Evil");
  const hostile = `<!doctype html><html><body>
    <form id="f" method="post" action="${call.url()}"><input name="name" value="${evil}"></form>
    <script>
      if (location.hash === "#ws") {
        window.__ws = "pending";
        const ws = new WebSocket(${JSON.stringify(wsUrl)});
        ws.onopen = () => { window.__ws = "open"; };
        ws.onerror = () => { window.__ws = "refused"; };
      } else {
        document.getElementById("f").submit();
      }
    </script></body></html>`;
  const server: Server = createServer((_, res) => { res.setHeader("content-type", "text/html"); res.end(hostile); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    const visit = await page.context().newPage();
    const answers: number[] = [];
    visit.on("response", (r) => { if (r.url() === call.url()) answers.push(r.status()); });
    await visit.goto(`http://127.0.0.1:${port}/`);
    await expect.poll(() => answers).toEqual([403]);
    await expect(visit.locator("body")).toContainText("Cross-site request refused");
    await visit.close();

    const ws = await page.context().newPage();
    await ws.goto(`http://127.0.0.1:${port}/#ws`);
    await expect.poll(() => ws.evaluate(() => (window as any).__ws)).toBe("refused");
    await ws.close();
  } finally {
    server.close();
  }
  // nothing was created
  await open(page, "/networks");
  await expect(page.locator("#region-select option", { hasText: evil })).toHaveCount(0);
});
