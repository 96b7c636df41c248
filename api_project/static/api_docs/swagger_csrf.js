/*
 * Swagger UI "Try it out" under session authentication: send the CSRF token that is
 * current at each request.
 *
 * drf-spectacular's page writes the CSRF token of the moment it was rendered into its
 * request interceptor. Logging in (or registering, or changing the password) rotates
 * the token, so every unsafe call after that would fail with 403 csrf_failed. This
 * script runs after the stock one has built `ui`, wraps its request interceptor and,
 * for each same-origin POST, PUT, PATCH or DELETE, sets the header from the CSRF cookie
 * as it is now. The cookie's name comes from SWAGGER_UI_SETTINGS["csrfCookieName"].
 */
(() => {
  "use strict";

  const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
  // settings.CSRF_HEADER_NAME, as the stock template spells it, on this script's tag.
  const HEADER = document.currentScript?.dataset.csrfHeader || "X-CSRFToken";

  const readCookie = (name) => {
    for (const part of document.cookie.split(";")) {
      const [key, ...rest] = part.trim().split("=");
      if (key === name) {
        return decodeURIComponent(rest.join("="));
      }
    }
    return null;
  };

  const isSameOrigin = (url) => {
    try {
      return new URL(url, document.baseURI).origin === window.location.origin;
    } catch {
      return false;
    }
  };

  const configs = ui.getConfigs();
  const cookieName = configs.csrfCookieName || "csrftoken";
  const stockInterceptor = configs.requestInterceptor || ((request) => request);

  configs.requestInterceptor = (request) => {
    const out = stockInterceptor(request) || request;
    const method = (out.method || "GET").toUpperCase();
    if (!SAFE_METHODS.has(method) && isSameOrigin(out.url)) {
      const token = readCookie(cookieName);
      if (token) {
        // Replace whatever spelling of the header the stock interceptor used.
        for (const name of Object.keys(out.headers || {})) {
          if (name.toLowerCase() === HEADER.toLowerCase()) {
            delete out.headers[name];
          }
        }
        out.headers = out.headers || {};
        out.headers[HEADER] = token;
      }
    }
    return out;
  };
})();
