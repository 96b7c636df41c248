/**
 * Every error answer of the API is an RFC 9457 problem document
 * (`application/problem+json`): here it becomes one typed error, `ApiError`.
 */

import type { FieldError, Problem } from "./schema.js";

export type { FieldError, Problem };

/** What the client sets as `code` when the answer was not a problem document. */
export const NETWORK_ERROR = "network_error";

/** A failed call: the server's problem document, typed, plus the response it came in. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** The HTTP status; 0 when no answer arrived (see `NETWORK_ERROR`). */
  readonly status: number;
  /** The contract's machine-readable code, e.g. `invalid_key` or `throttled`. */
  readonly code: string;
  /** The human-readable explanation, fit to show a user. */
  readonly detail: string;
  readonly title: string;
  /** Field validation errors (`code` `invalid`), each with the dotted path of its field. */
  readonly errors: readonly FieldError[];
  /** Seconds to wait before trying again, from `Retry-After` (on a `429`), else null. */
  readonly retryAfter: number | null;
  /** The problem document as sent (it may carry more members, e.g. `checks`). */
  readonly problem: Problem & Record<string, unknown>;
  readonly response: Response | null;

  constructor(problem: Problem & Record<string, unknown>, response: Response | null = null) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.title = problem.title;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
    this.response = response;
    this.retryAfter = response ? parseRetryAfter(response.headers.get("Retry-After")) : null;
  }

  /** The field errors of one field (`"value"`) and of its children (`"args.to"` also
   * returns `"args.to.1"`). */
  fieldErrors(field: string): FieldError[] {
    return this.errors.filter(
      (item) => item.field === field || item.field.startsWith(`${field}.`),
    );
  }
}

/** `Retry-After` as seconds: either form of the header (delay or HTTP date). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function isProblem(body: unknown): body is Problem & Record<string, unknown> {
  if (typeof body !== "object" || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate["status"] === "number" && typeof candidate["code"] === "string";
}

/** The `ApiError` for an error response (one whose `ok` is false). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (isProblem(body)) {
    return new ApiError(
      { ...body, title: body.title ?? "", detail: body.detail ?? "" },
      response,
    );
  }
  // Not from the API itself (a proxy's error page, say): keep the status, say so.
  const reason = response.statusText ? ` ${response.statusText}` : "";
  return new ApiError(
    {
      type: "about:blank",
      status: response.status,
      code: `http_${response.status}`,
      title: `HTTP ${response.status}${reason}`,
      detail: `The server answered ${response.status}${reason} without a problem document.`,
    },
    response,
  );
}

/** The `ApiError` for a request that got no answer at all. */
export function networkError(cause: unknown): ApiError {
  const error = new ApiError({
    type: "about:blank",
    status: 0,
    code: NETWORK_ERROR,
    title: "No answer",
    detail: "The server could not be reached. Check the connection and try again.",
  });
  Object.defineProperty(error, "cause", { value: cause });
  return error;
}
