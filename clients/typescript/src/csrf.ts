/**
 * The CSRF token: every unsafe request (POST, PUT, PATCH, DELETE) sends it as a header.
 *
 * The server rotates it on login, register and password change, so a token kept from
 * before one of those is refused (`403 csrf_failed`). The rule here: where the page can
 * read the `csrftoken` cookie (same site), read it before every unsafe request; else use
 * the token the last `GET /api/v1/auth/csrf/` returned, and fetch a new one after each
 * call that rotates it.
 */

/** The calls after whose success the server has rotated the token. */
const ROTATING_PATHS = ["/api/v1/auth/login/", "/api/v1/auth/register/", "/api/v1/auth/password/"];

export function rotatesCsrfToken(method: string, url: string): boolean {
  if (method.toUpperCase() !== "POST") return false;
  const path = new URL(url, "http://base.invalid").pathname;
  return ROTATING_PATHS.some((end) => path.endsWith(end));
}

/** The value of cookie `name` as this page sees it, or null (also outside a browser). */
export function readCookie(name: string): string | null {
  const source = (globalThis as { document?: { cookie?: unknown } }).document?.cookie;
  if (typeof source !== "string") return null;
  for (const part of source.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export class CsrfToken {
  private token: string | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly cookieName: string,
    private readonly fetchToken: () => Promise<string>,
  ) {}

  /** The token to send now: the cookie's when readable, else the last one fetched. */
  current(): string | null {
    return readCookie(this.cookieName) ?? this.token;
  }

  /** The token to send, fetching one first when there is none. */
  async get(): Promise<string> {
    return this.current() ?? this.refresh();
  }

  /** Fetch a new token (concurrent callers share one request). */
  refresh(): Promise<string> {
    this.pending ??= this.fetchToken()
      .then((token) => {
        // The cookie set by this same answer wins where the page can read it.
        this.token = readCookie(this.cookieName) ?? token;
        return this.token;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  /** Forget the kept token: the server rotated it. */
  forget(): void {
    this.token = null;
  }
}
