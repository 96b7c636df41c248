/**
 * The caller's live events (`GET /api/v1/events/`, Server-Sent Events), shared: however
 * many tasks are being waited for, one stream is open, and it closes with the last
 * listener. `EventSource` where the runtime has one and the browser keeps the cookies;
 * else a `fetch` whose body is parsed here (Node, or a client given its own `fetch`).
 *
 * A server without the endpoint answers 404 (EventSource: an error before any open):
 * the hub then says `unavailable` to its listeners, remembers it, and they poll. A
 * stream that cannot connect at all, or breaks and fails to reconnect `MAX_RECONNECTS`
 * times in a row, is `unavailable` too (but not remembered: a later `listen` tries
 * again).
 */

import type { Fetch } from "./cookies.js";
import { ApiError } from "./errors.js";
import type { SessionEvent, Task } from "./schema.js";
import { parseEventStream } from "./sse.js";

export const EVENTS_PATH = "/api/v1/events/";

/** The part of the standard `EventSource` the hub uses (a test can pass a fake). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

const CLOSED = 2; // EventSource.CLOSED
// Answers that mean "this server has no events stream" (not "it is down").
const NO_STREAM_STATUSES = new Set([404, 405, 406, 501]);
const DEFAULT_RETRY_MS = 1000;
const MAX_RECONNECTS = 3;

export interface StreamListener {
  /** The stream is (again) open: what happened before it may have been missed. */
  open(): void;
  task(task: Task): void;
  /** The server no longer has the events since the last one seen: re-read state. */
  reset(): void;
  /** No stream now (none on this server, or it failed): poll instead. The listener
   * is dropped; `listen` again to try anew. */
  unavailable(reason: unknown): void;
  /** This session ended (`logout`, `revoked`, …) or changed key (`rotated`). The
   * server closes the stream after it and the hub reconnects, with the cookie the
   * browser has by then, unless every listener has stopped listening. */
  session?(event: SessionEvent): void;
  /** The open stream broke; the hub reconnects (then `open`, or `unavailable`). */
  interrupted?(): void;
}

interface Connection {
  close(): void;
}

export class EventHub {
  /** null until a stream opened or was refused. */
  supported: boolean | null = null;
  private readonly listeners = new Set<StreamListener>();
  private connection: Connection | null = null;
  private isOpen = false;

  constructor(
    private readonly url: string,
    private readonly fetch: Fetch,
    private readonly EventSource: EventSourceConstructor | null,
  ) {}

  /** A stream is open now (a new listener's `open` comes at once). */
  get connected(): boolean {
    return this.isOpen;
  }

  /** Listen; the returned function stops listening (the last one closes the stream). */
  listen(listener: StreamListener): () => void {
    this.listeners.add(listener);
    if (!this.connection) this.connection = this.connect();
    else if (this.isOpen) queueMicrotask(() => listener.open());
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) this.close();
    };
  }

  private close(): void {
    this.connection?.close();
    this.connection = null;
    this.isOpen = false;
  }

  private fail(reason: unknown, unsupported: boolean): void {
    if (unsupported) this.supported = false;
    const listeners = [...this.listeners];
    this.listeners.clear();
    this.close();
    for (const listener of listeners) listener.unavailable(reason);
  }

  private opened(): void {
    this.supported = true;
    this.isOpen = true;
    for (const listener of [...this.listeners]) listener.open();
  }

  private interrupted(): void {
    this.isOpen = false;
    for (const listener of [...this.listeners]) listener.interrupted?.();
  }

  private dispatch(event: string, data: string): void {
    if (event === "task") {
      const task = parseData<Task>(data);
      if (task) for (const listener of [...this.listeners]) listener.task(task);
    } else if (event === "reset") {
      for (const listener of [...this.listeners]) listener.reset();
    } else if (event === "session") {
      // The key changed or the session ended, and the server closes the stream; the
      // reconnect (with the cookie the browser has then) is followed by open().
      const session = parseData<SessionEvent>(data);
      if (session) for (const listener of [...this.listeners]) listener.session?.(session);
    } else if (event === "error") {
      // The server's own error event: a problem document, and the stream cannot go on.
      this.fail(problemError(data), false);
    }
  }

  private connect(): Connection {
    return this.EventSource ? this.connectEventSource(this.EventSource) : this.connectFetch();
  }

  private connectEventSource(EventSource: EventSourceConstructor): Connection {
    const source = new EventSource(this.url, { withCredentials: true });
    let everOpen = false;
    let failures = 0; // errors since the last open
    source.addEventListener("open", () => {
      everOpen = true;
      failures = 0;
      this.opened();
    });
    for (const name of ["task", "reset", "session"]) {
      source.addEventListener(name, (event) => this.dispatch(name, (event as MessageEvent).data));
    }
    source.addEventListener("error", (event) => {
      const data = (event as MessageEvent).data;
      if (typeof data === "string" && data) {
        this.dispatch("error", data);
      } else if (source.readyState === CLOSED) {
        // An HTTP error or a wrong content type; before any open: no stream here.
        this.fail(new Error("The events stream closed."), !everOpen);
      } else if (!everOpen || ++failures > MAX_RECONNECTS) {
        // EventSource retries a network error for ever, every `retry:` ms: waiters
        // would hear nothing meanwhile. Never connected, or lost for good: poll.
        this.fail(new Error("The events stream could not connect."), false);
      } else {
        this.interrupted(); // EventSource reconnects by itself
      }
    });
    return { close: () => source.close() };
  }

  private connectFetch(): Connection {
    const abort = new AbortController();
    void this.runFetch(abort.signal);
    return { close: () => abort.abort() };
  }

  private async runFetch(signal: AbortSignal): Promise<void> {
    let lastEventId = "";
    let retry = DEFAULT_RETRY_MS;
    let failures = 0;
    while (!signal.aborted) {
      let response: Response;
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        response = await this.fetch(this.url, {
          headers,
          signal,
          credentials: "include",
          cache: "no-store",
        });
      } catch (error) {
        if (signal.aborted) return;
        const refused = error instanceof ApiError && NO_STREAM_STATUSES.has(error.status);
        if (refused || ++failures > MAX_RECONNECTS || this.supported === null) {
          this.fail(error, refused);
          return;
        }
        await sleep(retry, signal).catch(() => undefined);
        continue;
      }
      const type = response.headers.get("Content-Type") ?? "";
      if (!type.startsWith("text/event-stream") || !response.body) {
        await response.body?.cancel();
        this.fail(new Error(`The events stream answered ${type || "no content type"}.`), true);
        return;
      }
      failures = 0;
      this.opened();
      try {
        for await (const event of parseEventStream(response.body)) {
          lastEventId = event.lastEventId;
          retry = event.retry ?? retry;
          this.dispatch(event.event, event.data);
          if (!this.connection) return; // failed or closed while dispatching
        }
      } catch {
        if (signal.aborted) return;
        // The connection broke: reconnect below, with Last-Event-ID.
      }
      if (signal.aborted) return;
      this.interrupted();
      await sleep(retry, signal).catch(() => undefined);
    }
  }
}

/** An event's JSON data; undefined when it is not JSON (the event is then dropped). */
function parseData<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

function problemError(data: string): ApiError | Error {
  try {
    const problem: unknown = JSON.parse(data);
    if (problem && typeof problem === "object" && "status" in problem && "code" in problem) {
      return new ApiError(problem as ConstructorParameters<typeof ApiError>[0]);
    }
  } catch {
    // not JSON: fall through
  }
  return new Error(`The events stream failed: ${data}`);
}

/** Wait `ms`; rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
