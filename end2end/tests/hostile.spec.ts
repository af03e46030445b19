import { test, expect } from "@playwright/test";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { open, ownRegion, unique } from "./helpers";

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

// Markup typed into any name the console shows back (VPC, subnet, HAVIP, instance, agent) is
// text: it is displayed as typed and never becomes an element or runs.
test("markup in every user-supplied name renders as inert text", async ({ page }) => {
  const tag = Date.now().toString(36).slice(-5);
  const markup = (what: string) => `<img src=x onerror=__pwned=1>${what}<b>${tag}</b>`;
  const api = async (fn: string, body: { form?: Record<string, string>; data?: unknown }) => {
    const answer = await page.request.post(`/api/${fn}`, { ...body, headers: { Accept: "application/json" } });
    expect(answer.status(), `${fn}: ${await answer.text()}`).toBe(200);
    return answer.json();
  };
  // in a region of its own, whose list, networks and instances hold only what this test makes
  const { id: region, query } = await ownRegion(page, "Markup");
  const octet = 100 + Math.floor(Math.random() * 100);
  const vpc = await api("create_vpc", { form: { region_id: region, name: markup("vpc"), cidr: `10.${octet}.0.0/16` } });
  const subnet = await api("create_subnet", { form: { vpc_id: vpc.id, name: markup("sn"), cidr: `10.${octet}.1.0/24` } });
  const havip = await api("create_havip", {
    data: { req: { region_id: region, name: markup("vip"), vpc_id: vpc.id, subnet_id: subnet.id, ip: "Automatic" } },
  });
  const mac = `52:54:00:${octet.toString(16)}:00:07`;
  await api("register_instance", { form: { name: markup("cvm"), subnet_id: subnet.id, mac, ip: `10.${octet}.1.7` } });
  await api("create_agent", { data: { name: markup("agent"), subnet_ids: [subnet.id] } });

  for (const [path, what] of [
    [`/${query}`, "vip"],
    [`/havip/${havip.id}`, "vip"],
    [`/networks${query}`, "vpc"],
    [`/networks${query}`, "sn"],
    [`/instances${query}`, "cvm"],
    ["/agents", "agent"],
  ]) {
    await open(page, path);
    await expect(page.locator("body"), `${path} shows the ${what} name as text`).toContainText(markup(what));
    await expect(page.locator(`b:text-is("${tag}")`), `${path}: no element from a name`).toHaveCount(0);
    await expect(page.locator('img[src="x"]'), `${path}: no element from a name`).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).__pwned), `${path}: no script from a name`).toBeUndefined();
  }
});
