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
import { ApiError } from "./errors.js";
import { parseEventStream } from "./sse.js";
export const EVENTS_PATH = "/api/v1/events/";
const CLOSED = 2; // EventSource.CLOSED
// Answers that mean "this server has no events stream" (not "it is down").
const NO_STREAM_STATUSES = new Set([404, 405, 406, 501]);
const DEFAULT_RETRY_MS = 1000;
const MAX_RECONNECTS = 3;
export class EventHub {
    url;
    fetch;
    EventSource;
    /** null until a stream opened or was refused. */
    supported = null;
    listeners = new Set();
    connection = null;
    isOpen = false;
    constructor(url, fetch, EventSource) {
        this.url = url;
        this.fetch = fetch;
        this.EventSource = EventSource;
    }
    /** A stream is open now (a new listener's `open` comes at once). */
    get connected() {
        return this.isOpen;
    }
    /** Listen; the returned function stops listening (the last one closes the stream). */
    listen(listener) {
        this.listeners.add(listener);
        if (!this.connection)
            this.connection = this.connect();
        else if (this.isOpen)
            queueMicrotask(() => listener.open());
        return () => {
            this.listeners.delete(listener);
            if (!this.listeners.size)
                this.close();
        };
    }
    close() {
        this.connection?.close();
        this.connection = null;
        this.isOpen = false;
    }
    fail(reason, unsupported) {
        if (unsupported)
            this.supported = false;
        const listeners = [...this.listeners];
        this.listeners.clear();
        this.close();
        for (const listener of listeners)
            listener.unavailable(reason);
    }
    opened() {
        this.supported = true;
        this.isOpen = true;
        for (const listener of [...this.listeners])
            listener.open();
    }
    interrupted() {
        this.isOpen = false;
        for (const listener of [...this.listeners])
            listener.interrupted?.();
    }
    dispatch(event, data) {
        if (event === "task") {
            const task = parseData(data);
            if (task)
                for (const listener of [...this.listeners])
                    listener.task(task);
        }
        else if (event === "reset") {
            for (const listener of [...this.listeners])
                listener.reset();
        }
        else if (event === "session") {
            // The key changed or the session ended, and the server closes the stream; the
            // reconnect (with the cookie the browser has then) is followed by open().
            const session = parseData(data);
            if (session)
                for (const listener of [...this.listeners])
                    listener.session?.(session);
        }
        else if (event === "error") {
            // The server's own error event: a problem document, and the stream cannot go on.
            this.fail(problemError(data), false);
        }
    }
    connect() {
        return this.EventSource ? this.connectEventSource(this.EventSource) : this.connectFetch();
    }
    connectEventSource(EventSource) {
        const source = new EventSource(this.url, { withCredentials: true });
        let everOpen = false;
        let failures = 0; // errors since the last open
        source.addEventListener("open", () => {
            everOpen = true;
            failures = 0;
            this.opened();
        });
        for (const name of ["task", "reset", "session"]) {
            source.addEventListener(name, (event) => this.dispatch(name, event.data));
        }
        source.addEventListener("error", (event) => {
            const data = event.data;
            if (typeof data === "string" && data) {
                this.dispatch("error", data);
            }
            else if (source.readyState === CLOSED) {
                // An HTTP error or a wrong content type; before any open: no stream here.
                this.fail(new Error("The events stream closed."), !everOpen);
            }
            else if (!everOpen || ++failures > MAX_RECONNECTS) {
                // EventSource retries a network error for ever, every `retry:` ms: waiters
                // would hear nothing meanwhile. Never connected, or lost for good: poll.
                this.fail(new Error("The events stream could not connect."), false);
            }
            else {
                this.interrupted(); // EventSource reconnects by itself
            }
        });
        return { close: () => source.close() };
    }
    connectFetch() {
        const abort = new AbortController();
        void this.runFetch(abort.signal);
        return { close: () => abort.abort() };
    }
    async runFetch(signal) {
        let lastEventId = "";
        let retry = DEFAULT_RETRY_MS;
        let failures = 0;
        while (!signal.aborted) {
            let response;
            try {
                const headers = { Accept: "text/event-stream" };
                if (lastEventId)
                    headers["Last-Event-ID"] = lastEventId;
                response = await this.fetch(this.url, {
                    headers,
                    signal,
                    credentials: "include",
                    cache: "no-store",
                });
            }
            catch (error) {
                if (signal.aborted)
                    return;
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
                    if (!this.connection)
                        return; // failed or closed while dispatching
                }
            }
            catch {
                if (signal.aborted)
                    return;
                // The connection broke: reconnect below, with Last-Event-ID.
            }
            if (signal.aborted)
                return;
            this.interrupted();
            await sleep(retry, signal).catch(() => undefined);
        }
    }
}
/** An event's JSON data; undefined when it is not JSON (the event is then dropped). */
function parseData(data) {
    try {
        return JSON.parse(data);
    }
    catch {
        return undefined;
    }
}
function problemError(data) {
    try {
        const problem = JSON.parse(data);
        if (problem && typeof problem === "object" && "status" in problem && "code" in problem) {
            return new ApiError(problem);
        }
    }
    catch {
        // not JSON: fall through
    }
    return new Error(`The events stream failed: ${data}`);
}
/** Wait `ms`; rejects with the signal's reason when it aborts first. */
export function sleep(ms, signal) {
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
