// A webhook receiver on loopback for the browser and lab tests, and the Standard Webhooks check
// a real receiver would run on what it gets.
import { createServer, IncomingHttpHeaders } from "node:http";
import { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";

export type Hit = { headers: IncomingHttpHeaders; body: string; at: number };

/** Listens on 127.0.0.1 (a free port), answers 200 and keeps every request with its arrival time. */
export async function receiver() {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hits.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, hits, close: () => server.close() };
}

/** Whether a delivery's `webhook-signature` is HMAC-SHA256 of `id.timestamp.body` under `secret`. */
export function verifies(hit: Hit, secret: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = `${hit.headers["webhook-id"]}.${hit.headers["webhook-timestamp"]}.${hit.body}`;
  const expected = "v1," + createHmac("sha256", key).update(signed).digest("base64");
  return hit.headers["webhook-signature"] === expected;
}

/** The CloudEvents in what was received, of one type. */
export function eventsOf(hits: Hit[], type: string): { hit: Hit; event: any }[] {
  return hits.map((hit) => ({ hit, event: JSON.parse(hit.body) })).filter((e) => e.event.type === type);
}
