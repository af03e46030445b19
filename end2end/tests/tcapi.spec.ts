import { test, expect } from "@playwright/test";
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, row, unique } from "./helpers";

/** One call to the Tencent-compatible API, signed with TC3-HMAC-SHA256 as the SDKs sign. */
async function tencent(action: string, params: object, credentials?: [string, string]): Promise<any> {
  const [id, secret] = credentials ?? readFileSync(process.env.HAVIP_E2E_KEY_FILE!, "utf8").trim().split(/\s+/);
  const host = process.env.HAVIP_E2E_API!;
  const body = JSON.stringify(params);
  const ts = Math.floor(Date.now() / 1000);
  const date = new Date(ts * 1000).toISOString().slice(0, 10);
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const hmac = (k: string | Buffer, s: string) => createHmac("sha256", k).update(s).digest();
  const canonical = `POST\n/\n\ncontent-type:application/json\nhost:${host}\n\ncontent-type;host\n${sha(body)}`;
  const toSign = `TC3-HMAC-SHA256\n${ts}\n${date}/vpc/tc3_request\n${sha(canonical)}`;
  const key = hmac(hmac(hmac(`TC3${secret}`, date), "vpc"), "tc3_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const res = await fetch(`http://${host}/`, {
    method: "POST",
    headers: {
      "content-type": "application/json", "x-tc-action": action, "x-tc-timestamp": String(ts),
      "x-tc-version": "2017-03-12", "x-tc-region": "ap-default",
      authorization: `TC3-HMAC-SHA256 Credential=${id}/${date}/vpc/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
    },
    body,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  return (await res.json()).Response;
}

test("an HAVIP made and renamed through the Tencent-compatible API appears live in the open list", async ({ page }) => {
  await open(page, "/");
  const vpcs = await tencent("DescribeVpcs", { Offset: "0", Limit: "20" });
  const vpc = vpcs.VpcSet[0].VpcId;
  const subnets = await tencent("DescribeSubnets", { Filters: [{ Name: "vpc-id", Values: [vpc] }] });
  const name = unique("from-api");
  const made = await tencent("CreateHaVip", { VpcId: vpc, SubnetId: subnets.SubnetSet[0].SubnetId, HaVipName: name });
  expect(made.Error).toBeUndefined();
  await expect(row(page, name)).toHaveCount(1); // pushed live, no reload
  await expect(row(page, name)).toContainText(made.HaVip.Vip);
  const renamed = unique("renamed-by-api");
  await tencent("ModifyHaVipAttribute", { HaVipId: made.HaVip.HaVipId, HaVipName: renamed });
  await expect(row(page, renamed)).toHaveCount(1);

  // the API key page lists the key made on the command line, with its last use
  await open(page, "/keys");
  const keyId = readFileSync(process.env.HAVIP_E2E_KEY_FILE!, "utf8").split(/\s+/)[0];
  const key = page.locator(`#key-table tr[data-id="${keyId}"]`);
  await expect(key.getByTestId("state")).toHaveText("Active");
  await expect(key.getByTestId("last-used")).not.toHaveText("Never");
});

test("the API keys page: a key is shown once, disabled and deleted; the API refuses it then", async ({ page }) => {
  await open(page, "/keys");
  // the password is asked again (needed once the login is 5 minutes old), and checked
  await page.getByLabel("Your password").fill("not the password at all");
  await page.getByRole("button", { name: "Create API key" }).click();
  await expect(page.locator("#key-password-error")).toHaveText("Wrong password.");
  await expect(page.locator("#key-secret-card")).toHaveCount(0);
  await page.getByLabel("Your password").fill("end-to-end password");
  await page.getByRole("button", { name: "Create API key" }).click();
  const id = (await page.locator("#new-secret-id").textContent())!;
  expect(id).toMatch(/^AKID[A-Za-z0-9]{32}$/);
  const secret = (await page.locator("#new-secret-key").textContent())!;
  expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
  const key = page.locator(`#key-table tr[data-id="${id}"]`);
  await expect(key.getByTestId("last-used")).toHaveText("Never");
  expect((await tencent("DescribeVpcs", {}, [id, secret])).Error).toBeUndefined();
  await key.getByRole("button", { name: "Disable" }).click();
  await expect(key.getByTestId("state")).toHaveText("Disabled");
  expect((await tencent("DescribeVpcs", {}, [id, secret])).Error.Code).toBe("AuthFailure.SecretIdNotFound");
  // after a reload the SecretKey is gone for good
  await open(page, "/keys");
  await expect(page.locator("#key-secret-card")).toHaveCount(0);
  await expect(key.getByTestId("state")).toHaveText("Disabled");
  await key.getByRole("button", { name: "Delete" }).click();
  await expect(key).toHaveCount(0);
});
