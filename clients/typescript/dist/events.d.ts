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
import type { SessionEvent, Task } from "./schema.js";
export declare const EVENTS_PATH = "/api/v1/events/";
/** The part of the standard `EventSource` the hub uses (a test can pass a fake). */
export interface EventSourceLike {
    readonly readyState: number;
    addEventListener(type: string, listener: (event: Event) => void): void;
    close(): void;
}
export type EventSourceConstructor = new (url: string, init?: {
    withCredentials?: boolean;
}) => EventSourceLike;
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
export declare class EventHub {
    private readonly url;
    private readonly fetch;
    private readonly EventSource;
    /** null until a stream opened or was refused. */
    supported: boolean | null;
    private readonly listeners;
    private connection;
    private isOpen;
    constructor(url: string, fetch: Fetch, EventSource: EventSourceConstructor | null);
    /** A stream is open now (a new listener's `open` comes at once). */
    get connected(): boolean;
    /** Listen; the returned function stops listening (the last one closes the stream). */
    listen(listener: StreamListener): () => void;
    private close;
    private fail;
    private opened;
    private interrupted;
    private dispatch;
    private connect;
    private connectEventSource;
    private connectFetch;
    private runFetch;
}
/** Wait `ms`; rejects with the signal's reason when it aborts first. */
export declare function sleep(ms: number, signal?: AbortSignal): Promise<void>;
