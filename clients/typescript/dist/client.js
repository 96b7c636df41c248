/**
 * The client: openapi-fetch over the generated `paths`, plus what no generator knows
 * (CSRF, cookies sent cross-origin, problem documents as `ApiError`, `Idempotency-Key`,
 * waiting for tasks).
 *
 * Every method resolves with the typed body of a success and rejects with `ApiError`
 * otherwise. `http` is the underlying openapi-fetch client, for any path of the schema
 * (it rejects with `ApiError` too, so its `data` is there whenever it resolves).
 */
import createFetchClient, {} from "openapi-fetch";
import { CsrfToken, rotatesCsrfToken } from "./csrf.js";
import { errorFromResponse, networkError } from "./errors.js";
import { EVENTS_PATH, EventHub } from "./events.js";
import { FINAL_STATUSES, waitForTask } from "./tasks.js";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** A random Idempotency-Key (`crypto.randomUUID` needs a secure context; this does not). */
export function newIdempotencyKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
/** The body of a call that succeeded (the client's fetch rejects every other). */
async function ok(call) {
    return (await call).data;
}
async function done(call) {
    await call;
}
export function createClient(options = {}) {
    const { baseUrl = "", fetch: baseFetch, csrfCookieName = "csrftoken", csrfHeaderName = "X-CSRFToken", events = "auto", finalStatuses = FINAL_STATUSES, } = options;
    const fetchWith = baseFetch ?? ((input, init) => globalThis.fetch(input, init));
    /** Every request: cookies included, the CSRF header on unsafe ones (refreshed once
     * on `csrf_failed`), an `ApiError` for every error answer. */
    const send = async (input, init) => {
        const request = new Request(input, init);
        const unsafe = !SAFE_METHODS.has(request.method);
        // The body as bytes, not a stream: it can be sent twice, and browsers show it in
        // their tools as they do any other upload.
        const body = request.body ? await request.arrayBuffer() : null;
        const attempt = async () => {
            const headers = new Headers(request.headers);
            if (unsafe)
                headers.set(csrfHeaderName, await csrf.get());
            try {
                return await fetchWith(request.url, {
                    method: request.method,
                    headers,
                    body,
                    credentials: "include",
                    redirect: request.redirect,
                    signal: request.signal,
                });
            }
            catch (error) {
                if (request.signal.aborted)
                    throw error;
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
        if (!response.ok)
            throw await errorFromResponse(response);
        if (rotatesCsrfToken(request.method, request.url))
            csrf.forget();
        return response;
    };
    const http = createFetchClient({
        baseUrl,
        fetch: (request) => send(request),
        credentials: "include",
    });
    const csrf = new CsrfToken(csrfCookieName, async () => {
        const body = await ok(http.GET("/api/v1/auth/csrf/"));
        return body.csrf_token;
    });
    const EventSourceClass = options.EventSource !== undefined
        ? options.EventSource
        : baseFetch
            ? null
            : (globalThis.EventSource ?? null);
    const hub = events === "off" ? null : new EventHub(`${baseUrl}${EVENTS_PATH}`, send, EventSourceClass);
    const finals = new Set(finalStatuses);
    const key = (name) => ({ params: { path: { key: name } } });
    const task = (id) => ({ params: { path: { id } } });
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
        getSession: () => ok(http.GET("/api/v1/session/")),
        flushSession: () => done(http.DELETE("/api/v1/session/")),
        cycleSession: () => ok(http.POST("/api/v1/session/cycle/")),
        // --- Keys
        listKeys: () => ok(http.GET("/api/v1/session/keys/")),
        getKey: (name) => ok(http.GET("/api/v1/session/keys/{key}/", key(name))),
        createKey: (name, value) => ok(http.POST("/api/v1/session/keys/", { body: { key: name, value } })),
        putKey: (name, value) => ok(http.PUT("/api/v1/session/keys/{key}/", { ...key(name), body: { value } })),
        deleteKey: (name) => done(http.DELETE("/api/v1/session/keys/{key}/", key(name))),
        clearKeys: () => done(http.DELETE("/api/v1/session/keys/")),
        // --- Expiry
        getExpiry: () => ok(http.GET("/api/v1/session/expiry/")),
        setExpiry: (body) => ok(http.PUT("/api/v1/session/expiry/", { body })),
        resetExpiry: () => ok(http.DELETE("/api/v1/session/expiry/")),
        // --- Accounts (login, register and password change rotate the CSRF token: the
        // client then reads it anew before the next unsafe call)
        login: (username, password) => ok(http.POST("/api/v1/auth/login/", { body: { username, password } })),
        register: (body) => ok(http.POST("/api/v1/auth/register/", { body })),
        logout: () => done(http.POST("/api/v1/auth/logout/")),
        me: () => ok(http.GET("/api/v1/auth/me/")),
        changePassword: (oldPassword, newPassword) => done(http.POST("/api/v1/auth/password/", {
            body: { old_password: oldPassword, new_password: newPassword },
        })),
        listUserSessions: () => ok(http.GET("/api/v1/auth/sessions/")),
        revokeSession: (id) => done(http.DELETE("/api/v1/auth/sessions/{id}/", { params: { path: { id } } })),
        revokeOtherSessions: () => ok(http.DELETE("/api/v1/auth/sessions/")),
        // --- Tasks
        taskTypes: () => ok(http.GET("/api/v1/tasks/types/")),
        listTasks: (query = {}) => ok(http.GET("/api/v1/tasks/", { params: { query } })),
        getTask: (id) => ok(http.GET("/api/v1/tasks/{id}/", task(id))),
        cancelTask: (id) => ok(http.POST("/api/v1/tasks/{id}/cancel/", task(id))),
        /** `POST /api/v1/tasks/` with an `Idempotency-Key`; a lost answer is resent once
         * with the same key, so it never makes a second task. */
        enqueue: async (body, { idempotencyKey, signal } = {}) => {
            const header = { "Idempotency-Key": idempotencyKey ?? newIdempotencyKey() };
            const init = { params: { header }, body, ...(signal ? { signal } : {}) };
            try {
                return await ok(http.POST("/api/v1/tasks/", init));
            }
            catch (error) {
                if (!(error instanceof Error && "code" in error && error.code === "network_error")) {
                    throw error;
                }
                return ok(http.POST("/api/v1/tasks/", init));
            }
        },
        /** Resolve with the task once its status is final (`SUCCESS`, `FAILURE`, `REVOKED`):
         * through the events stream where the server has one, else by polling. */
        waitForTask: (id, waitOptions = {}) => waitForTask({ getTask: client.getTask, hub, finalStatuses: finals }, id, waitOptions),
    };
    return client;
}
