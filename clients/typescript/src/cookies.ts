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
export function storeSetCookies(
  cookies: Map<string, string>,
  headers: Headers,
  now: number = Date.now(),
): void {
  for (const line of headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split(";");
    const equals = pair.indexOf("=");
    if (equals <= 0) continue;
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    let expired = value === "";
    for (const attribute of attributes) {
      const [key = "", ...rest] = attribute.split("=");
      const setting = rest.join("=").trim();
      const lower = key.trim().toLowerCase();
      if (lower === "max-age" && Number(setting) <= 0) expired = true;
      if (lower === "expires" && Date.parse(setting) <= now) expired = true;
    }
    if (expired) cookies.delete(name);
    else cookies.set(name, value);
  }
}

export function cookieJar(baseFetch: Fetch = globalThis.fetch): CookieJar {
  const cookies = new Map<string, string>();
  const jarFetch: Fetch = async (input, init) => {
    const request = new Request(input, init);
    if (cookies.size) {
      request.headers.set(
        "Cookie",
        [...cookies].map(([name, value]) => `${name}=${value}`).join("; "),
      );
    }
    const response = await baseFetch(request);
    storeSetCookies(cookies, response.headers);
    return response;
  };
  return { cookies, fetch: jarFetch, get: (name) => cookies.get(name) ?? null };
}
