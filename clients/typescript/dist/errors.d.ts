/**
 * Every error answer of the API is an RFC 9457 problem document
 * (`application/problem+json`): here it becomes one typed error, `ApiError`.
 */
import type { FieldError, Problem } from "./schema.js";
export type { FieldError, Problem };
/** What the client sets as `code` when the answer was not a problem document. */
export declare const NETWORK_ERROR = "network_error";
/** A failed call: the server's problem document, typed, plus the response it came in. */
export declare class ApiError extends Error {
    readonly name = "ApiError";
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
    constructor(problem: Problem & Record<string, unknown>, response?: Response | null);
    /** The field errors of one field (`"value"`) and of its children (`"args.to"` also
     * returns `"args.to.1"`). */
    fieldErrors(field: string): FieldError[];
}
/** `Retry-After` as seconds: either form of the header (delay or HTTP date). */
export declare function parseRetryAfter(value: string | null, now?: number): number | null;
/** The `ApiError` for an error response (one whose `ok` is false). */
export declare function errorFromResponse(response: Response): Promise<ApiError>;
/** The `ApiError` for a request that got no answer at all. */
export declare function networkError(cause: unknown): ApiError;
