/**
 * The client: openapi-fetch over the generated `paths`, plus what no generator knows
 * (CSRF, cookies sent cross-origin, problem documents as `ApiError`, `Idempotency-Key`,
 * waiting for tasks).
 *
 * Every method resolves with the typed body of a success and rejects with `ApiError`
 * otherwise. `http` is the underlying openapi-fetch client, for any path of the schema
 * (it rejects with `ApiError` too, so its `data` is there whenever it resolves).
 */
import { type Client } from "openapi-fetch";
import type { Fetch } from "./cookies.js";
import { EventHub, type EventSourceConstructor } from "./events.js";
import { type WaitOptions } from "./tasks.js";
import type { Expiry, ExpiryUpdateRequest, KeyValue, PaginatedTaskList, paths, RegisterRequest, Revoked, Session, Task, TaskCreateRequest, TaskType, User, UserSession } from "./schema.js";
export type TaskListQuery = NonNullable<paths["/api/v1/tasks/"]["get"]["parameters"]["query"]>;
/** Any JSON value, as a session key may hold. */
export type JsonValue = KeyValue["value"];
export interface ClientOptions {
    /** Where the API is: `""` for the page's own origin (the default), else e.g.
     * `https://api.example.com` (required outside a browser). */
    baseUrl?: string;
    /** The `fetch` to send with (default: the global one). In Node, one that keeps
     * cookies: see `cookieJar()`. */
    fetch?: Fetch;
    /** `CSRF_COOKIE_NAME` of the server (default `csrftoken`). */
    csrfCookieName?: string;
    /** The CSRF header (`CSRF_HEADER_NAME`; default `X-CSRFToken`). */
    csrfHeaderName?: string;
    /** `"auto"` (default): `waitForTask` follows the events stream where the server has
     * one; `"off"`: it polls. */
    events?: "auto" | "off";
    /** The `EventSource` to use (default: the global one, unless `fetch` is given, which
     * the events are then read through). */
    EventSource?: EventSourceConstructor | null;
    /** The final task statuses (default `FINAL_STATUSES`; the console passes the
     * server's). */
    finalStatuses?: readonly string[];
}
export interface EnqueueOptions {
    /** Sent as `Idempotency-Key`: the same key within 24 h answers the first task instead
     * of a new one. Default: a new random key per call, reused when the client itself
     * resends after a lost answer. Pass your own to make your own retries safe. */
    idempotencyKey?: string;
    signal?: AbortSignal;
}
/** A random Idempotency-Key (`crypto.randomUUID` needs a secure context; this does not). */
export declare function newIdempotencyKey(): string;
export declare function createClient(options?: ClientOptions): {
    http: Client<paths, `${string}/${string}`>;
    /** The caller's live events (`GET /api/v1/events/`): `listen({open, task, reset,
     * unavailable, session?, interrupted?})`, one stream however many listen (the
     * waits of `waitForTask` too), closed with the last; null with `events: "off"`. */
    events: EventHub | null;
    /** Fetch a fresh CSRF token (the client does it by itself when needed). */
    csrf: () => Promise<string>;
    /** The CSRF token the next unsafe request would send, or null before the first. */
    csrfToken: () => string | null;
    getSession: () => Promise<Session>;
    flushSession: () => Promise<void>;
    cycleSession: () => Promise<Session>;
    listKeys: () => Promise<KeyValue[]>;
    getKey: (name: string) => Promise<KeyValue>;
    createKey: (name: string, value: JsonValue) => Promise<KeyValue>;
    putKey: (name: string, value: JsonValue) => Promise<KeyValue>;
    deleteKey: (name: string) => Promise<void>;
    clearKeys: () => Promise<void>;
    getExpiry: () => Promise<Expiry>;
    setExpiry: (body: ExpiryUpdateRequest) => Promise<Expiry>;
    resetExpiry: () => Promise<Expiry>;
    login: (username: string, password: string) => Promise<User>;
    register: (body: RegisterRequest) => Promise<User>;
    logout: () => Promise<void>;
    me: () => Promise<User>;
    changePassword: (oldPassword: string, newPassword: string) => Promise<void>;
    listUserSessions: () => Promise<UserSession[]>;
    revokeSession: (id: string) => Promise<void>;
    revokeOtherSessions: () => Promise<Revoked>;
    taskTypes: () => Promise<TaskType[]>;
    listTasks: (query?: TaskListQuery) => Promise<PaginatedTaskList>;
    getTask: (id: string) => Promise<Task>;
    cancelTask: (id: string) => Promise<Task>;
    /** `POST /api/v1/tasks/` with an `Idempotency-Key`; a lost answer is resent once
     * with the same key, so it never makes a second task. */
    enqueue: (body: TaskCreateRequest, { idempotencyKey, signal }?: EnqueueOptions) => Promise<Task>;
    /** Resolve with the task once its status is final (`SUCCESS`, `FAILURE`, `REVOKED`):
     * through the events stream where the server has one, else by polling. */
    waitForTask: (id: string, waitOptions?: WaitOptions) => Promise<Task>;
};
export type SessionsApiClient = ReturnType<typeof createClient>;
