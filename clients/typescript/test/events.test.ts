/** The event-stream parser, waitForTask over a stream, over EventSource, and polling. */

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  createClient,
  type EventSourceConstructor,
  type EventSourceLike,
  parseEventStream,
  type ServerEvent,
  type Task,
} from "../src/index.js";
import { BASE, eventStream, type FakeServer, fakeServer, json, problem, task } from "./fake.js";

async function collect(chunks: string[]): Promise<ServerEvent[]> {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const events: ServerEvent[] = [];
  for await (const event of parseEventStream(body)) events.push(event);
  return events;
}

test("the parser reads events, ids, retry and multi-line data across chunk boundaries", async () => {
  const events = await collect([
    "retry: 3000\n\n: keep-alive\n\nid: 1\nevent: ta",
    'sk\ndata: {"a":\ndata: 1}\n\r\n',
    "id: 2\r\nevent: reset\r\ndata: {}\r\n\r\n",
    "data: no event name\r",
    "\n\ndata: unterminated",
  ]);
  assert.deepEqual(events, [
    { event: "task", data: '{"a":\n1}', lastEventId: "1", retry: 3000 },
    { event: "reset", data: "{}", lastEventId: "2", retry: 3000 },
    { event: "message", data: "no event name", lastEventId: "2", retry: 3000 },
  ]);
});

function taskServer(states: string[]) {
  const server = fakeServer();
  let reads = 0;
  server.route("GET", "/api/v1/tasks/t1/", () => {
    const status = states[Math.min(reads++, states.length - 1)] ?? "PENDING";
    return json(task("t1", status));
  });
  return { server, reads: () => reads };
}

test("waitForTask polls with a growing delay where the server has no events stream", async () => {
  const { server, reads } = taskServer(["PENDING", "STARTED", "PROGRESS", "SUCCESS"]);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const seen: string[] = [];
  const done = await api.waitForTask("t1", {
    onUpdate: (t) => seen.push(t.status),
    poll: { initialMs: 1, maxMs: 4 },
  });
  assert.equal(done.status, "SUCCESS");
  assert.equal(done.result, 3);
  assert.deepEqual(seen, ["PENDING", "STARTED", "PROGRESS", "SUCCESS"]);
  assert.equal(reads(), 4);
  const streams = server.seen.filter((r) => new URL(r.url).pathname === "/api/v1/events/");
  assert.equal(streams.length, 1, "the stream was tried once, answered 404");
  assert.equal(streams[0]?.headers.get("Accept"), "text/event-stream");

  // The 404 is remembered: the next wait goes straight to polling.
  await api.waitForTask("t1", { poll: { initialMs: 1 } });
  assert.equal(server.seen.filter((r) => new URL(r.url).pathname === "/api/v1/events/").length, 1);
});

test("polling rides out a 429, waiting Retry-After", async () => {
  const server = fakeServer();
  let reads = 0;
  server.route("GET", "/api/v1/tasks/t1/", () => {
    reads += 1;
    if (reads === 2) return problem(429, "throttled", "Slow down.", {}, { "Retry-After": "0" });
    return json(task("t1", reads >= 3 ? "SUCCESS" : "PENDING"));
  });
  const api = createClient({ baseUrl: BASE, fetch: server.fetch, events: "off" });
  assert.equal((await api.waitForTask("t1", { poll: { initialMs: 1 } })).status, "SUCCESS");
  assert.equal(reads, 3);
});

test("waitForTask rejects with the ApiError of a task that is not the caller's", async () => {
  const api = createClient({ baseUrl: BASE, fetch: fakeServer().fetch });
  await assert.rejects(api.waitForTask("nope"), { name: "ApiError", status: 404, code: "not_found" });
});

test("waitForTask stops when its signal aborts", async () => {
  const { server } = taskServer(["PENDING"]);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch, events: "off" });
  const abort = new AbortController();
  const waiting = api.waitForTask("t1", { signal: abort.signal, poll: { initialMs: 1 } });
  setTimeout(() => abort.abort(new Error("enough")), 20);
  await assert.rejects(waiting, { message: "enough" });
});

test("waitForTask follows the fetch-read events stream, sharing one stream among waiters", async () => {
  const { server } = taskServer(["PENDING"]);
  server.route("GET", "/api/v1/tasks/t2/", () => json(task("t2", "PENDING")));
  const stream = eventStream();
  server.route("GET", "/api/v1/events/", () => stream.response);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const seen: Task[] = [];
  const first = api.waitForTask("t1", { onUpdate: (t) => seen.push(t), poll: { initialMs: 60_000 } });
  const second = api.waitForTask("t2", { poll: { initialMs: 60_000 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const progress = { current: 1, total: 2, percent: 50, message: null };
  stream.send(`retry: 10\nid: 1\nevent: task\ndata: ${JSON.stringify(task("t1", "PROGRESS", { progress }))}\n\n`);
  stream.send(`id: 2\nevent: task\ndata: ${JSON.stringify(task("t2", "FAILURE"))}\n\n`);
  stream.send(`id: 3\nevent: task\ndata: ${JSON.stringify(task("t1", "SUCCESS"))}\n\n`);
  assert.equal((await first).status, "SUCCESS");
  assert.equal((await second).status, "FAILURE");
  assert.ok(seen.some((t) => t.status === "PROGRESS" && t.progress?.percent === 50));
  const streams = server.seen.filter((r) => new URL(r.url).pathname === "/api/v1/events/");
  assert.equal(streams.length, 1);
});

test("after the stream ends (the key rotated) it reconnects with Last-Event-ID and re-reads", async () => {
  const { server } = taskServer(["PENDING", "PENDING", "SUCCESS"]);
  const streams = [eventStream(), eventStream()];
  let opened = 0;
  server.route("GET", "/api/v1/events/", () => streams[opened++]!.response);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const waiting = api.waitForTask("t1", { poll: { initialMs: 60_000 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  streams[0]!.send('retry: 5\nid: 7\nevent: session\ndata: {"id": "abc", "reason": "rotated"}\n\n');
  streams[0]!.end();
  // The second stream's open makes the waiter read the task again: SUCCESS.
  assert.equal((await waiting).status, "SUCCESS");
  const requests = server.seen.filter((r) => new URL(r.url).pathname === "/api/v1/events/");
  assert.equal(requests.length, 2);
  assert.equal(requests[1]?.headers.get("Last-Event-ID"), "7");
});

test("a reset event makes the waiter re-read the task", async () => {
  const { server } = taskServer(["PENDING", "PENDING", "REVOKED"]);
  const stream = eventStream();
  server.route("GET", "/api/v1/events/", () => stream.response);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const waiting = api.waitForTask("t1", { poll: { initialMs: 60_000 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  stream.send("id: 9\nevent: reset\ndata: {}\n\n");
  assert.equal((await waiting).status, "REVOKED");
});

test("the stream's own error event (a problem document) falls back to polling", async () => {
  const { server } = taskServer(["PENDING", "PENDING", "SUCCESS"]);
  const stream = eventStream();
  server.route("GET", "/api/v1/events/", () => stream.response);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const waiting = api.waitForTask("t1", { poll: { initialMs: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  stream.send(`event: error\ndata: ${JSON.stringify({ status: 503, code: "unavailable", title: "", detail: "gone" })}\n\n`);
  assert.equal((await waiting).status, "SUCCESS");
});

/** A stand-in for the browser's EventSource, driven by the test. */
class FakeEventSource implements EventSourceLike {
  static made: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  private listeners = new Map<string, ((event: Event) => void)[]>();
  constructor(
    readonly url: string,
    readonly init?: { withCredentials?: boolean },
  ) {
    FakeEventSource.made.push(this);
  }
  addEventListener(type: string, listener: (event: Event) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data?: string): void {
    if (type === "open") this.readyState = 1;
    const event = data === undefined ? new Event(type) : new MessageEvent(type, { data });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

/** A client over `server` whose events come from a new `FakeEventSource`. */
function browserClient(server: FakeServer) {
  FakeEventSource.made = [];
  return createClient({
    baseUrl: BASE,
    fetch: server.fetch,
    EventSource: FakeEventSource as EventSourceConstructor,
  });
}

test("in a browser waitForTask uses EventSource, with credentials, and closes it after", async () => {
  const { server } = taskServer(["PENDING"]);
  const api = browserClient(server);
  const waiting = api.waitForTask("t1", { poll: { initialMs: 60_000 } });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const source = FakeEventSource.made[0]!;
  assert.equal(source.url, `${BASE}/api/v1/events/`);
  assert.deepEqual(source.init, { withCredentials: true });
  source.emit("open");
  source.emit("task", JSON.stringify(task("other", "SUCCESS")));
  source.emit("task", JSON.stringify(task("t1", "SUCCESS")));
  assert.equal((await waiting).status, "SUCCESS");
  assert.ok(source.closed);
});

test("an EventSource that fails before opening (no endpoint) means polling from then on", async () => {
  const { server } = taskServer(["PENDING", "SUCCESS"]);
  const api = browserClient(server);
  const waiting = api.waitForTask("t1", { poll: { initialMs: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const source = FakeEventSource.made[0]!;
  source.readyState = 2;
  source.emit("error");
  assert.equal((await waiting).status, "SUCCESS");
  await api.waitForTask("t1");
  assert.equal(FakeEventSource.made.length, 1, "not tried again");
});

test("an EventSource that cannot connect (a network error, it would retry for ever) means polling now", async () => {
  const { server, reads } = taskServer(["PENDING", "SUCCESS"]);
  const api = browserClient(server);
  const waiting = api.waitForTask("t1", { poll: { initialMs: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const source = FakeEventSource.made[0]!;
  source.emit("error"); // readyState stays CONNECTING: EventSource would try again
  assert.equal((await waiting).status, "SUCCESS");
  assert.ok(source.closed);
  assert.equal(reads(), 2);
  assert.equal(api.events?.supported, null, "not remembered as missing: a later wait tries again");
});

test("session events reach the listeners; a broken stream is interrupted, then given up", async () => {
  const api = browserClient(fakeServer());
  const heard: string[] = [];
  const stop = api.events!.listen({
    open: () => heard.push("open"),
    task: () => heard.push("task"),
    reset: () => heard.push("reset"),
    unavailable: () => heard.push("unavailable"),
    session: (event) => heard.push(`session ${event.id} ${event.reason}`),
    interrupted: () => heard.push("interrupted"),
  });
  const source = FakeEventSource.made[0]!;
  source.emit("open");
  assert.equal(api.events!.connected, true);
  source.emit("session", '{"id": "3f9a1c0b7e2d", "reason": "revoked"}');
  source.readyState = 0; // the server closed it; EventSource reconnects
  source.emit("error");
  assert.equal(api.events!.connected, false);
  source.emit("open");
  for (let attempt = 0; attempt < 4; attempt++) {
    source.readyState = 0;
    source.emit("error");
  }
  assert.deepEqual(heard, [
    "open",
    "session 3f9a1c0b7e2d revoked",
    "interrupted",
    "open",
    "interrupted",
    "interrupted",
    "interrupted",
    "unavailable",
  ]);
  assert.ok(source.closed);
  stop();
});

test("the fetch-read stream passes session events on", async () => {
  const stream = eventStream();
  const server = fakeServer();
  server.route("GET", "/api/v1/events/", () => stream.response);
  const api = createClient({ baseUrl: BASE, fetch: server.fetch });
  const heard = new Promise<string>((resolve) => {
    const stop = api.events!.listen({
      open: () => undefined,
      task: () => undefined,
      reset: () => undefined,
      unavailable: () => undefined,
      session: (event) => {
        stop();
        resolve(event.reason);
      },
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  stream.send('id: 1\nevent: session\ndata: {"id": "abc", "reason": "password_changed"}\n\n');
  assert.equal(await heard, "password_changed");
});

test("with the stream open already, waitForTask reads the task once, then only listens", async () => {
  const { server, reads } = taskServer(["PENDING"]);
  const api = browserClient(server);
  const noop = () => undefined;
  const stop = api.events!.listen({ open: noop, task: noop, reset: noop, unavailable: noop });
  FakeEventSource.made[0]!.emit("open");
  const waiting = api.waitForTask("t1", { poll: { initialMs: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const progress = { current: 1, total: 2, percent: 50, message: null };
  FakeEventSource.made[0]!.emit("task", JSON.stringify(task("t1", "PROGRESS", { progress })));
  FakeEventSource.made[0]!.emit("task", JSON.stringify(task("t1", "SUCCESS")));
  assert.equal((await waiting).status, "SUCCESS");
  assert.equal(reads(), 1);
  assert.equal(FakeEventSource.made.length, 1);
  assert.equal(FakeEventSource.made[0]!.closed, false, "another listener keeps it open");
  stop();
  assert.equal(FakeEventSource.made[0]!.closed, true);
});
