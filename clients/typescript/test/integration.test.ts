/**
 * The client against a live service (gunicorn and a Celery worker): what a Node caller
 * with a cookie jar sees. Skipped unless SESSIONS_API_URL names the service;
 * tests/clients/test_typescript.py starts one and runs this file.
 *
 * SESSIONS_API_PASSWORD is the password of the users made here (the runner keeps it out
 * of the logs); SESSIONS_API_SECRETS_FILE, when set, receives every cookie value the
 * jars held, one a line, for the same check.
 */

import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { after, describe, test } from "node:test";

import { ApiError, type CookieJar, cookieJar, createClient } from "../src/index.js";

const BASE = process.env["SESSIONS_API_URL"] ?? "";
const PASSWORD = process.env["SESSIONS_API_PASSWORD"] ?? "a-long-test-password-4921";
const SECRETS_FILE = process.env["SESSIONS_API_SECRETS_FILE"];
const jars: CookieJar[] = [];

/** A client with a cookie jar of its own: one browser. */
function browser() {
  const jar = cookieJar();
  jars.push(jar);
  return { jar, api: createClient({ baseUrl: BASE, fetch: jar.fetch }) };
}

async function rejection(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => assert.fail("the call succeeded"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ApiError, `not an ApiError: ${String(error)}`);
  return error;
}

const username = `node-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

describe("the client against the live service", { skip: BASE ? false : "SESSIONS_API_URL is not set" }, () => {
  after(() => {
    if (!SECRETS_FILE) return;
    for (const jar of jars) {
      for (const value of jar.cookies.values()) appendFileSync(SECRETS_FILE, `${value}\n`);
    }
  });

  test("CSRF: GET /auth/csrf/ sets the cookie and gives the token the client sends", async () => {
    const { jar, api } = browser();
    assert.equal(api.csrfToken(), null);
    const token = await api.csrf();
    assert.ok(token.length >= 32);
    assert.ok(jar.get("csrftoken"), "the csrftoken cookie is set");
    assert.equal(api.csrfToken(), token);
    // Without the header the server refuses: the client is what adds it.
    const bare = await jar.fetch(`${BASE}/api/v1/session/keys/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: "a", value: 1 }),
    });
    assert.equal(bare.status, 403);
    assert.equal(((await bare.json()) as { code: string }).code, "csrf_failed");
  });

  test("a key round trip, and the typed errors of a missing key and a bad value", async () => {
    const { api } = browser();
    assert.deepEqual(await api.createKey("theme", { dark: true }), { key: "theme", value: { dark: true } });
    assert.deepEqual(await api.getKey("theme"), { key: "theme", value: { dark: true } });
    assert.deepEqual(await api.putKey("theme", ["blue"]), { key: "theme", value: ["blue"] });
    assert.deepEqual(await api.listKeys(), [{ key: "theme", value: ["blue"] }]);
    const session = await api.getSession();
    assert.equal(session.keys, 1);
    assert.match(session.id ?? "", /^[0-9a-f]{12}$/);

    const exists = await rejection(api.createKey("theme", 1));
    assert.equal(exists.status, 409);
    assert.equal(exists.code, "key_exists");

    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const invalid = await rejection(api.putKey("deep", deep));
    assert.equal(invalid.status, 400);
    assert.equal(invalid.code, "invalid");
    assert.equal(invalid.fieldErrors("value").length, 1, JSON.stringify(invalid.errors));

    await api.deleteKey("theme");
    const missing = await rejection(api.getKey("theme"));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "not_found");
  });

  test("413: a value over the limit is a typed error, and nothing changes", async () => {
    const { api } = browser();
    const tooLarge = await rejection(api.putKey("big", "x".repeat(20_000)));
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.code, "value_too_large");
    assert.ok(tooLarge.detail.length > 0);
    assert.deepEqual(await api.listKeys(), []);
  });

  test("register, then login rotates the CSRF token and the client follows it", async () => {
    const first = browser();
    const user = await first.api.register({ username, password: PASSWORD });
    assert.equal(user.username, username);
    await first.api.logout();

    const { jar, api } = browser();
    await api.createKey("before-login", 1); // anonymous keys survive the login
    const before = jar.get("csrftoken");
    const session = jar.get("sessionid");
    assert.ok(before && session);

    assert.equal((await api.login(username, PASSWORD)).username, username);
    assert.notEqual(jar.get("sessionid"), session, "the session key rotated");
    const after = jar.get("csrftoken");
    assert.ok(after && after !== before, "the CSRF token rotated");

    // The old token is refused now; the client sends the new one.
    const stale = await jar.fetch(`${BASE}/api/v1/session/keys/`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": before },
      body: JSON.stringify({ key: "stale", value: 1 }),
    });
    assert.equal(stale.status, 403);
    await stale.body?.cancel();
    assert.deepEqual(await api.createKey("after-login", 2), { key: "after-login", value: 2 });
    assert.notEqual(api.csrfToken(), before); // a token of the new secret (masked anew)
    assert.deepEqual(
      (await api.listKeys()).map((item) => item.key),
      ["after-login", "before-login"],
    );
    assert.equal((await api.me()).username, username);
  });

  test("a revoked session is logged out at once: its next call is not_authenticated", async () => {
    const mine = browser();
    const other = browser();
    await mine.api.login(username, PASSWORD);
    await other.api.login(username, PASSWORD);
    assert.equal((await other.api.me()).username, username);

    const sessions = await mine.api.listUserSessions();
    const otherId = (await other.api.getSession()).id;
    assert.ok(sessions.some((item) => item.id === otherId && !item.current));
    await mine.api.revokeSession(otherId ?? "");

    const refused = await rejection(other.api.me());
    assert.equal(refused.status, 403);
    assert.equal(refused.code, "not_authenticated");
    assert.equal((await other.api.getSession()).user, null);
    assert.equal((await mine.api.me()).username, username);
  });

  test("a task to SUCCESS through waitForTask, and an Idempotency-Key replay", async () => {
    const { api } = browser();
    const types = await api.taskTypes();
    assert.ok(types.some((type) => type.name === "demo.add"));
    const body = { name: "demo.add", args: { a: 20, b: 22 } };
    const queued = await api.enqueue(body, { idempotencyKey: `node-${username}` });
    assert.equal(queued.status, "PENDING");
    const seen: string[] = [];
    const done = await api.waitForTask(queued.id, {
      signal: AbortSignal.timeout(60_000),
      onUpdate: (task) => seen.push(task.status),
    });
    assert.equal(done.status, "SUCCESS", JSON.stringify(done));
    assert.equal(done.result, 42);
    assert.equal(seen.at(-1), "SUCCESS");

    const replay = await api.enqueue(body, { idempotencyKey: `node-${username}` });
    assert.equal(replay.id, queued.id);
    const conflict = await rejection(
      api.enqueue({ ...body, args: { a: 1, b: 1 } }, { idempotencyKey: `node-${username}` }),
    );
    assert.equal(conflict.status, 409);
    assert.equal(conflict.code, "idempotency_conflict");
  });

  test("429: past the enqueue rate the error is typed and carries Retry-After", async () => {
    const { api } = browser();
    let throttled: ApiError | null = null;
    for (let i = 0; i < 40 && !throttled; i++) {
      try {
        await api.enqueue({ name: "demo.add", args: { a: i, b: 0 } });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        throttled = error;
      }
    }
    assert.ok(throttled, "no 429 within 40 enqueues");
    assert.equal(throttled.status, 429);
    assert.equal(throttled.code, "throttled");
    assert.ok(throttled.retryAfter !== null && throttled.retryAfter > 0, String(throttled.retryAfter));
  });
});
