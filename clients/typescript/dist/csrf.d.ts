/**
 * The CSRF token: every unsafe request (POST, PUT, PATCH, DELETE) sends it as a header.
 *
 * The server rotates it on login, register and password change, so a token kept from
 * before one of those is refused (`403 csrf_failed`). The rule here: where the page can
 * read the `csrftoken` cookie (same site), read it before every unsafe request; else use
 * the token the last `GET /api/v1/auth/csrf/` returned, and fetch a new one after each
 * call that rotates it.
 */
export declare function rotatesCsrfToken(method: string, url: string): boolean;
/** The value of cookie `name` as this page sees it, or null (also outside a browser). */
export declare function readCookie(name: string): string | null;
export declare class CsrfToken {
    private readonly cookieName;
    private readonly fetchToken;
    private token;
    private pending;
    constructor(cookieName: string, fetchToken: () => Promise<string>);
    /** The token to send now: the cookie's when readable, else the last one fetched. */
    current(): string | null;
    /** The token to send, fetching one first when there is none. */
    get(): Promise<string>;
    /** Fetch a new token (concurrent callers share one request). */
    refresh(): Promise<string>;
    /** Forget the kept token: the server rotated it. */
    forget(): void;
}
