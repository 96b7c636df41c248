/** The cookie jar for fetch outside a browser. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { cookieJar, storeSetCookies } from "../src/index.js";

test("the jar stores Set-Cookie, sends it back, and deletes expired cookies", async () => {
  const sent: (string | null)[] = [];
  const answers = [
    ["csrftoken=abc; Path=/; SameSite=Lax", "sessionid=s1; HttpOnly; Path=/"],
    ["sessionid=s2; HttpOnly; Path=/; Max-Age=1209600"],
    ['sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/'],
    [],
  ];
  const jar = cookieJar(async (input, init) => {
    sent.push(new Request(input, init).headers.get("Cookie"));
    const headers = new Headers();
    for (const line of answers[sent.length - 1] ?? []) headers.append("Set-Cookie", line);
    return new Response(null, { status: 204, headers });
  });
  for (let i = 0; i < 4; i++) await jar.fetch("http://api.test/");
  assert.deepEqual(sent, [
    null,
    "csrftoken=abc; sessionid=s1",
    "csrftoken=abc; sessionid=s2",
    "csrftoken=abc",
  ]);
  assert.equal(jar.get("csrftoken"), "abc");
  assert.equal(jar.get("sessionid"), null);
});

test("an Expires date in the past deletes, one in the future keeps", () => {
  const cookies = new Map([["a", "1"]]);
  const headers = new Headers();
  headers.append("Set-Cookie", "a=2; Expires=Wed, 25 Nov 2026 18:00:00 GMT");
  headers.append("Set-Cookie", "b=3; Expires=Wed, 25 Nov 2026 20:00:00 GMT");
  storeSetCookies(cookies, headers, Date.parse("2026-11-25T19:00:00Z"));
  assert.deepEqual([...cookies], [["b", "3"]]);
});
