/**
 * A cookie jar for `fetch` outside a browser (Node, server-side rendering, scripts).
 *
 * A browser keeps the session and CSRF cookies itself; Node's `fetch` keeps none. This
 * jar serves one API origin: it stores what `Set-Cookie` says (name and value; a
 * `Max-Age` of 0 or an `Expires` in the past deletes) and sends every stored cookie
 * back. It ignores `Domain` and `Path`, so give each origin a jar of its own.
 */
export type Fetch = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
export interface CookieJar {
    /** Every cookie, name to value. */
    readonly cookies: Map<string, string>;
    /** A `fetch` that sends and stores the jar's cookies. */
    readonly fetch: Fetch;
    get(name: string): string | null;
}
/** Read `Set-Cookie` headers into `cookies`. */
export declare function storeSetCookies(cookies: Map<string, string>, headers: Headers, now?: number): void;
export declare function cookieJar(baseFetch?: Fetch): CookieJar;
