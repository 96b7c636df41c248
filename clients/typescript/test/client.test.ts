/** The hand-written layer against a fake server: CSRF, errors, Idempotency-Key. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, createClient, parseRetryAfter } from "../src/index.js";
import { BASE, fakeServer, json, problem, task } from "./fake.js";

function serverWithCsrf() {
  const server = fakeServer();
  let issued = 0;
  let valid = "";
  server.route("GET", "/api/v1/auth/csrf/", () => {
    valid = `token-${++issued}`;
    return json({ csrf_token: valid });
  });
  const guarded = (answer: (request: Request, body: unknown) => Response) => {
    return (request: Request, body: unknown) =>
      request.headers.get("X-CSRFToken") === valid
        ? answer(request, body)
        : problem(403, "csrf_failed", "CSRF failed: CSRF token incorrect.");
  };
  const rotate = () => {
    valid = `token-${++issued}`; // as Django's rotate_token on login
  };
  return { server, guarded, rotate, current: () => valid };
}

test("the first unsafe call fetches a CSRF token and sends it, with the cookies", async () => {
  const { server, guarded } = serverWithCsrf();
  server.route("POST", "/api/v1/session/keys/", guarded((_, body) => json(body, 201)));
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });

  assert.deepEqual(await api.createKey("a", 1), { key: "a", value: 1 });
  assert.deepEqual(
    server.seen.map((request) => `${request.method} ${new URL(request.url).pathname}`),
    ["GET /api/v1/auth/csrf/", "POST /api/v1/session/keys/"],
  );
  assert.equal(server.seen[1]?.headers.get("X-CSRFToken"), "token-1");
  assert.ok(server.seen.every((request) => request.credentials === "include"));
  assert.equal(server.seen[0]?.headers.get("X-CSRFToken"), null, "no token on a GET");
});

for (const [name, call] of [
  ["login", (api: ReturnType<typeof createClient>) => api.login("ana", "pw")],
  ["register", (api: ReturnType<typeof createClient>) => api.register({ username: "ana", password: "pw" })],
  ["password change", (api: ReturnType<typeof createClient>) => api.changePassword("old", "new")],
] as const) {
  test(`after a ${name} the client reads the rotated CSRF token before the next unsafe call`, async () => {
    const { server, guarded, rotate } = serverWithCsrf();
    const user = { id: 1, username: "ana", email: "", is_staff: false };
    const rotating = guarded(() => {
      rotate();
      return name === "password change" ? new Response(null, { status: 204 }) : json(user);
    });
    for (const path of ["login", "register", "password"]) {
      server.route("POST", `/api/v1/auth/${path}/`, rotating);
    }
    server.route("POST", "/api/v1/session/keys/", guarded((_, body) => json(body, 201)));
    const api = createClient({ baseUrl: BASE, fetch: server.fetch });

    await call(api);
    await api.createKey("after", true);
    const sent = server.seen.map((r) => `${r.method} ${new URL(r.url).pathname}`);
    assert.deepEqual(sent.slice(-2), ["GET /api/v1/auth/csrf/", "POST /api/v1/session/keys/"]);
    assert.equal(server.seen.at(-1)?.headers.get("X-CSRFToken"), "token-3");
    assert.equal(sent.filter((line) => line.startsWith("POST /api/v1/session/keys/")).length, 1);
  });
}

test("a csrf_failed answer (another tab rotated the token) is retried once with a new token", async () => {
  const { server, guarded, rotate } = serverWithCsrf();
  server.route("PUT", "/api/v1/session/keys/a/", guarded((_, body) => json({ key: "a", ...(body as object) })));
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  await api.csrf();
  rotate(); // behind the client's back
  assert.deepEqual(await api.putKey("a", [1, 2]), { key: "a", value: [1, 2] });
  const puts = server.seen.filter((request) => request.method === "PUT");
  assert.equal(puts.length, 2);
  assert.deepEqual(await puts[1]?.json(), { value: [1, 2] }, "the body is sent again");
});

test("a second csrf_failed is not retried again: it rejects", async () => {
  const server = fakeServer();
  server.route("GET", "/api/v1/auth/csrf/", () => json({ csrf_token: "t" }));
  server.route("DELETE", "/api/v1/session/", () => problem(403, "csrf_failed", "CSRF failed."));
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  await assert.rejects(api.flushSession(), { name: "ApiError", code: "csrf_failed" });
  assert.equal(server.seen.filter((request) => request.method === "DELETE").length, 2);
});

test("a problem document becomes an ApiError with status, code, detail and field errors", async () => {
  const server = fakeServer();
  server.route("GET", "/api/v1/auth/csrf/", () => json({ csrf_token: "t" }));
  const errors = [{ field: "password", code: "password_too_short", message: "Too short." }];
  server.route("POST", "/api/v1/auth/register/", () =>
    problem(400, "invalid", "password: Too short.", { errors }),
  );
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const error = await api.register({ username: "x", password: "y" }).catch((e: unknown) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid");
  assert.equal(error.detail, "password: Too short.");
  assert.equal(error.message, "password: Too short.");
  assert.deepEqual(error.errors, errors);
  assert.deepEqual(error.fieldErrors("password"), errors);
  assert.deepEqual(error.fieldErrors("username"), []);
  assert.equal(error.retryAfter, null);
});

test("a 429 carries Retry-After as seconds", async () => {
  const server = fakeServer();
  server.route("GET", "/api/v1/auth/csrf/", () => json({ csrf_token: "t" }));
  server.route("POST", "/api/v1/auth/login/", () =>
    problem(429, "throttled", "Request was throttled.", {}, { "Retry-After": "17" }),
  );
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  await assert.rejects(api.login("ana", "x"), { status: 429, code: "throttled", retryAfter: 17 });
  assert.equal(parseRetryAfter("Wed, 25 Nov 2026 18:40:40 GMT", Date.parse("2026-11-25T18:40:30Z")), 10);
  assert.equal(parseRetryAfter("soon"), null);
});

test("an answer that is not a problem document still rejects with an ApiError", async () => {
  const server = fakeServer();
  server.route("GET", "/api/v1/session/", () =>
    new Response("<h1>Bad gateway</h1>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }),
  );
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  await assert.rejects(api.getSession(), { name: "ApiError", status: 502, code: "http_502" });
});

test("no answer at all is an ApiError with status 0 and code network_error", async () => {
  const api = createClient({
    baseUrl: BASE,
    fetch: () => Promise.reject(new TypeError("fetch failed")),
  });
  await assert.rejects(api.getSession(), { name: "ApiError", status: 0, code: "network_error" });
});

test("enqueue sends an Idempotency-Key and resends a lost request with the same key", async () => {
  const server = fakeServer();
  server.route("GET", "/api/v1/auth/csrf/", () => json({ csrf_token: "t" }));
  server.route("POST", "/api/v1/tasks/", () => json(task("t1", "PENDING"), 202));
  let lose = true;
  const flaky = (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.method === "POST" && lose) {
      lose = false;
      server.seen.push(request.clone());
      return Promise.reject(new TypeError("socket hang up"));
    }
    return server.fetch(request);
  };
  const api = createClient({ baseUrl: BASE, fetch: flaky });
  const created = await api.enqueue({ name: "demo.add", args: { a: 1, b: 2 } });
  assert.equal(created.id, "t1");
  const keys = server.seen
    .filter((request) => request.method === "POST")
    .map((request) => request.headers.get("Idempotency-Key"));
  assert.equal(keys.length, 2);
  assert.match(keys[0] ?? "", /^[0-9a-f]{32}$/);
  assert.equal(keys[0], keys[1]);

  await api.enqueue({ name: "demo.add", args: {} }, { idempotencyKey: "mine" });
  assert.equal(server.seen.at(-1)?.headers.get("Idempotency-Key"), "mine");
});
