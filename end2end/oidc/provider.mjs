// A real OpenID Connect provider for the single sign-on tests: npm's `oidc-provider` (a
// certified implementation) on loopback, with its own login pages, people in groups, and the
// console registered as a confidential client that must use PKCE.
//
//   node oidc/provider.mjs --port 3950 --redirect http://127.0.0.1:3940/login/sso/callback \
//        --client-id havip --client-secret SECRET
//
// The tests steer it through /test/* on the same port (never part of the protocol):
//   POST /test/groups  {"login": "alice", "groups": ["havip-operators"]}  the person's groups
//   POST /test/next-id-token {"change": "tamper|wrong-aud|expired|wrong-nonce"}  the next token
//        answer's ID token is changed so: its payload edited under the old signature, or
//        re-signed with the provider's own key for another audience, long expired, or with
//        another nonce (what a stolen, stale or misdirected token looks like)
//   POST /test/rotate-keys   a new signing key, published first in the JWKS and used from now on
// It prints "listening on URL" once it answers.
import Provider from "oidc-provider";
import * as jose from "jose";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    redirect: { type: "string" },
    "client-id": { type: "string", default: "havip" },
    "client-secret": { type: "string" },
  },
});
const issuer = `http://127.0.0.1:${args.port}`;
const redirect = new URL(args.redirect);

/** Who is in which group: any login works (the provider's development login pages). */
const groups = new Map([
  ["alice", ["staff", "havip-admins"]],
  ["oscar", ["staff", "havip-operators"]],
  ["victor", ["staff"]],
]);

async function newKey(kid) {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

let signingKey = await newKey("key-1");
const publishedKeys = [signingKey];
let nextChange = null;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args["client-id"],
      client_secret: args["client-secret"],
      redirect_uris: [redirect.href],
      post_logout_redirect_uris: [new URL("/login", redirect).href],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    },
  ],
  pkce: { required: () => true },
  jwks: { keys: [signingKey] },
  cookies: { keys: ["end-to-end cookie key of the test provider"] },
  // the claims asked for by scope are in the ID token itself, as Keycloak and Entra ID do
  conformIdTokenClaims: false,
  claims: {
    openid: ["sub"],
    profile: ["preferred_username", "name", "groups"],
    email: ["email", "email_verified"],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          name: id,
          email: `${id}@corp.example`,
          email_verified: true,
          groups: groups.get(id) ?? [],
        };
      },
    };
  },
  // a first-party application: no consent screen
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid profile email");
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
});
provider.proxy = false;

async function body(ctx) {
  let text = "";
  for await (const chunk of ctx.req) text += chunk;
  return text ? JSON.parse(text) : {};
}

async function changed(idToken, change) {
  const [header, payload, signature] = idToken.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  if (change === "tamper") {
    // a viewer's token made to say "admin", its signature left as it was
    claims.groups = ["havip-admins"];
    const edited = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${header}.${edited}.${signature}`;
  }
  const now = Math.floor(Date.now() / 1000);
  if (change === "wrong-aud") claims.aud = "another-application";
  if (change === "expired") Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (change === "wrong-nonce") claims.nonce = "a-nonce-of-another-login";
  const key = await jose.importJWK(signingKey, "RS256");
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: signingKey.kid, typ: "JWT" })
    .sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === "/test/groups" && ctx.method === "POST") {
    const { login, groups: theirs } = await body(ctx);
    groups.set(login, theirs);
    ctx.body = { login, groups: theirs };
    return;
  }
  if (ctx.path === "/test/next-id-token" && ctx.method === "POST") {
    nextChange = (await body(ctx)).change;
    ctx.body = { change: nextChange };
    return;
  }
  if (ctx.path === "/test/rotate-keys" && ctx.method === "POST") {
    signingKey = await newKey(`key-${publishedKeys.length + 1}`);
    publishedKeys.unshift(signingKey);
    ctx.body = { kid: signingKey.kid };
    return;
  }
  await next();
  // the development pages import a web font: the tests' browser stays on loopback
  if (typeof ctx.body === "string") {
    ctx.body = ctx.body.replace(/@import url\([^)]*\);?/g, "");
  }
  if (ctx.path === "/jwks" && publishedKeys.length > 1) {
    ctx.body = {
      keys: publishedKeys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use })),
    };
  }
  const token = ctx.path === "/token" && ctx.body && ctx.body.id_token;
  if (token && (nextChange || signingKey.kid !== "key-1")) {
    // a rotated key signs from now on (the library signs with the first key it was given)
    ctx.body = { ...ctx.body, id_token: await changed(token, nextChange ?? "re-sign") };
    nextChange = null;
  }
});

provider.listen(Number(args.port), "127.0.0.1", () => {
  console.log(`listening on ${issuer}`);
});
