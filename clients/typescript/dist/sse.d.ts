/**
 * Server-Sent Events read from a `fetch` body, as the HTML standard's EventSource reads
 * them: for runtimes without `EventSource` (Node) and for tests.
 */
export interface ServerEvent {
    /** The `event:` field; `message` when absent. */
    event: string;
    data: string;
    /** The last `id:` seen on the stream so far (what a reconnect sends as Last-Event-ID). */
    lastEventId: string;
    /** The last `retry:` seen on the stream so far, in milliseconds, or null. */
    retry: number | null;
}
/** Parse a stream of bytes into events; a comment line (`: …`) yields nothing. */
export declare function parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent>;
