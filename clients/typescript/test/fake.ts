/** A fake server for the unit tests: a `fetch` that answers from a route table. */

export type Route = (request: Request, body: unknown) => Response | Promise<Response>;

export interface FakeServer {
  fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /** Every request seen, in order (clones: their bodies can still be read). */
  seen: Request[];
  route(method: string, path: string, answer: Route): void;
}

export const BASE = "http://api.test";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Error.", status, code, detail, ...extra }),
    { status, headers: { "Content-Type": "application/problem+json", ...headers } },
  );
}

export function fakeServer(): FakeServer {
  const routes = new Map<string, Route>();
  const seen: Request[] = [];
  return {
    seen,
    route(method, path, answer) {
      routes.set(`${method} ${path}`, answer);
    },
    async fetch(input, init) {
      const request = new Request(input, init);
      seen.push(request.clone());
      const path = new URL(request.url).pathname;
      const answer = routes.get(`${request.method} ${path}`);
      if (!answer) return problem(404, "not_found", `No resource at ${path}.`);
      const text = await request.text();
      return answer(request, text ? JSON.parse(text) : undefined);
    },
  };
}

export function task(id: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: "demo.add",
    status,
    args: { a: 1, b: 2 },
    progress: null,
    result: status === "SUCCESS" ? 3 : null,
    error: null,
    created_at: "2026-11-25T18:40:38Z",
    started_at: null,
    finished_at: null,
    url: `/api/v1/tasks/${id}/`,
    ...extra,
  };
}

/** A response whose body is an event stream written by the test, chunk by chunk. */
export function eventStream(): { response: Response; send(text: string): void; end(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { headers: { "Content-Type": "text/event-stream" } }),
    send: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}
