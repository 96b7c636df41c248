/**
 * The client: openapi-fetch over the generated `paths`, plus what no generator knows
 * (CSRF, cookies sent cross-origin, problem documents as `ApiError`, `Idempotency-Key`,
 * waiting for tasks).
 *
 * Every method resolves with the typed body of a success and rejects with `ApiError`
 * otherwise. `http` is the underlying openapi-fetch client, for any path of the schema
 * (it rejects with `ApiError` too, so its `data` is there whenever it resolves).
 */

import createFetchClient, { type Client } from "openapi-fetch";

import type { Fetch } from "./cookies.js";
import { CsrfToken, rotatesCsrfToken } from "./csrf.js";
import { errorFromResponse, networkError } from "./errors.js";
import { EVENTS_PATH, EventHub, type EventSourceConstructor } from "./events.js";
import { FINAL_STATUSES, type WaitOptions, waitForTask } from "./tasks.js";

import type {
  Expiry,
  ExpiryUpdateRequest,
  KeyValue,
  PaginatedTaskList,
  paths,
  RegisterRequest,
  Revoked,
  Session,
  Task,
  TaskCreateRequest,
  TaskType,
  User,
  UserSession,
} from "./schema.js";

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

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** A random Idempotency-Key (`crypto.randomUUID` needs a secure context; this does not). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The body of a call that succeeded (the client's fetch rejects every other). */
async function ok<D>(call: Promise<{ data?: D; response: Response }>): Promise<D> {
  return (await call).data as D;
}

async function done(call: Promise<{ response: Response }>): Promise<void> {
  await call;
}

export function createClient(options: ClientOptions = {}) {
  const {
    baseUrl = "",
    fetch: baseFetch,
    csrfCookieName = "csrftoken",
    csrfHeaderName = "X-CSRFToken",
    events = "auto",
    finalStatuses = FINAL_STATUSES,
  } = options;
  const fetchWith: Fetch = baseFetch ?? ((input, init) => globalThis.fetch(input, init));

  /** Every request: cookies included, the CSRF header on unsafe ones (refreshed once
   * on `csrf_failed`), an `ApiError` for every error answer. */
  const send: Fetch = async (input, init) => {
    const request = new Request(input, init);
    const unsafe = !SAFE_METHODS.has(request.method);
    // The body as bytes, not a stream: it can be sent twice, and browsers show it in
    // their tools as they do any other upload.
    const body = request.body ? await request.arrayBuffer() : null;
    const attempt = async (): Promise<Response> => {
      const headers = new Headers(request.headers);
      if (unsafe) headers.set(csrfHeaderName, await csrf.get());
      try {
        return await fetchWith(request.url, {
          method: request.method,
          headers,
          body,
          credentials: "include",
          redirect: request.redirect,
          signal: request.signal,
        });
      } catch (error) {
        if (request.signal.aborted) throw error;
        throw networkError(error);
      }
    };
    let response = await attempt();
    if (unsafe && response.status === 403) {
      const error = await errorFromResponse(response.clone());
      if (error.code === "csrf_failed") {
        // Another tab (or this one, before the client knew) rotated the token.
        csrf.forget();
        await csrf.refresh();
        response = await attempt();
      }
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (rotatesCsrfToken(request.method, request.url)) csrf.forget();
    return response;
  };

  const http: Client<paths> = createFetchClient<paths>({
    baseUrl,
    fetch: (request: Request) => send(request),
    credentials: "include",
  });

  const csrf = new CsrfToken(csrfCookieName, async () => {
    const body = await ok(http.GET("/api/v1/auth/csrf/"));
    return body.csrf_token;
  });

  const EventSourceClass =
    options.EventSource !== undefined
      ? options.EventSource
      : baseFetch
        ? null
        : ((globalThis as { EventSource?: EventSourceConstructor }).EventSource ?? null);
  const hub =
    events === "off" ? null : new EventHub(`${baseUrl}${EVENTS_PATH}`, send, EventSourceClass);
  const finals: ReadonlySet<string> = new Set(finalStatuses);

  const key = (name: string) => ({ params: { path: { key: name } } });
  const task = (id: string) => ({ params: { path: { id } } });

  const client = {
    http,
    /** The caller's live events (`GET /api/v1/events/`): `listen({open, task, reset,
     * unavailable, session?, interrupted?})`, one stream however many listen (the
     * waits of `waitForTask` too), closed with the last; null with `events: "off"`. */
    events: hub,
    /** Fetch a fresh CSRF token (the client does it by itself when needed). */
    csrf: () => csrf.refresh(),
    /** The CSRF token the next unsafe request would send, or null before the first. */
    csrfToken: () => csrf.current(),

    // --- The session
    getSession: (): Promise<Session> => ok(http.GET("/api/v1/session/")),
    flushSession: (): Promise<void> => done(http.DELETE("/api/v1/session/")),
    cycleSession: (): Promise<Session> => ok(http.POST("/api/v1/session/cycle/")),

    // --- Keys
    listKeys: (): Promise<KeyValue[]> => ok(http.GET("/api/v1/session/keys/")),
    getKey: (name: string): Promise<KeyValue> => ok(http.GET("/api/v1/session/keys/{key}/", key(name))),
    createKey: (name: string, value: JsonValue): Promise<KeyValue> =>
      ok(http.POST("/api/v1/session/keys/", { body: { key: name, value } })),
    putKey: (name: string, value: JsonValue): Promise<KeyValue> =>
      ok(http.PUT("/api/v1/session/keys/{key}/", { ...key(name), body: { value } })),
    deleteKey: (name: string): Promise<void> => done(http.DELETE("/api/v1/session/keys/{key}/", key(name))),
    clearKeys: (): Promise<void> => done(http.DELETE("/api/v1/session/keys/")),

    // --- Expiry
    getExpiry: (): Promise<Expiry> => ok(http.GET("/api/v1/session/expiry/")),
    setExpiry: (body: ExpiryUpdateRequest): Promise<Expiry> => ok(http.PUT("/api/v1/session/expiry/", { body })),
    resetExpiry: (): Promise<Expiry> => ok(http.DELETE("/api/v1/session/expiry/")),

    // --- Accounts (login, register and password change rotate the CSRF token: the
    // client then reads it anew before the next unsafe call)
    login: (username: string, password: string): Promise<User> =>
      ok(http.POST("/api/v1/auth/login/", { body: { username, password } })),
    register: (body: RegisterRequest): Promise<User> => ok(http.POST("/api/v1/auth/register/", { body })),
    logout: (): Promise<void> => done(http.POST("/api/v1/auth/logout/")),
    me: (): Promise<User> => ok(http.GET("/api/v1/auth/me/")),
    changePassword: (oldPassword: string, newPassword: string): Promise<void> =>
      done(
        http.POST("/api/v1/auth/password/", {
          body: { old_password: oldPassword, new_password: newPassword },
        }),
      ),
    listUserSessions: (): Promise<UserSession[]> => ok(http.GET("/api/v1/auth/sessions/")),
    revokeSession: (id: string): Promise<void> =>
      done(http.DELETE("/api/v1/auth/sessions/{id}/", { params: { path: { id } } })),
    revokeOtherSessions: (): Promise<Revoked> => ok(http.DELETE("/api/v1/auth/sessions/")),

    // --- Tasks
    taskTypes: (): Promise<TaskType[]> => ok(http.GET("/api/v1/tasks/types/")),
    listTasks: (query: TaskListQuery = {}): Promise<PaginatedTaskList> => ok(http.GET("/api/v1/tasks/", { params: { query } })),
    getTask: (id: string): Promise<Task> => ok(http.GET("/api/v1/tasks/{id}/", task(id))),
    cancelTask: (id: string): Promise<Task> => ok(http.POST("/api/v1/tasks/{id}/cancel/", task(id))),
    /** `POST /api/v1/tasks/` with an `Idempotency-Key`; a lost answer is resent once
     * with the same key, so it never makes a second task. */
    enqueue: async (
      body: TaskCreateRequest,
      { idempotencyKey, signal }: EnqueueOptions = {},
    ): Promise<Task> => {
      const header = { "Idempotency-Key": idempotencyKey ?? newIdempotencyKey() };
      const init = { params: { header }, body, ...(signal ? { signal } : {}) };
      try {
        return await ok(http.POST("/api/v1/tasks/", init));
      } catch (error) {
        if (!(error instanceof Error && "code" in error && error.code === "network_error")) {
          throw error;
        }
        return ok(http.POST("/api/v1/tasks/", init));
      }
    },
    /** Resolve with the task once its status is final (`SUCCESS`, `FAILURE`, `REVOKED`):
     * through the events stream where the server has one, else by polling. */
    waitForTask: (id: string, waitOptions: WaitOptions = {}): Promise<Task> =>
      waitForTask({ getTask: client.getTask, hub, finalStatuses: finals }, id, waitOptions),
  };
  return client;
}

export type SessionsApiClient = ReturnType<typeof createClient>;
