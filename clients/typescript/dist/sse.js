/**
 * Server-Sent Events read from a `fetch` body, as the HTML standard's EventSource reads
 * them: for runtimes without `EventSource` (Node) and for tests.
 */
/** Parse a stream of bytes into events; a comment line (`: …`) yields nothing. */
export async function* parseEventStream(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let lastEventId = "";
    let event = "";
    let data = [];
    let retry = null;
    try {
        while (true) {
            const { value, done } = await reader.read();
            buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
            // Lines end in CRLF, LF or CR; a lone CR at the end may be half of a CRLF.
            let match;
            const lineEnd = /\r\n|\n|\r(?!$)/g;
            let start = 0;
            while ((match = lineEnd.exec(buffer)) !== null) {
                const line = buffer.slice(start, match.index);
                start = match.index + match[0].length;
                if (line === "") {
                    if (data.length) {
                        yield { event: event || "message", data: data.join("\n"), lastEventId, retry };
                    }
                    event = "";
                    data = [];
                    continue;
                }
                if (line.startsWith(":"))
                    continue;
                const colon = line.indexOf(":");
                const field = colon < 0 ? line : line.slice(0, colon);
                let text = colon < 0 ? "" : line.slice(colon + 1);
                if (text.startsWith(" "))
                    text = text.slice(1);
                if (field === "event")
                    event = text;
                else if (field === "data")
                    data.push(text);
                else if (field === "id" && !text.includes("\0"))
                    lastEventId = text;
                else if (field === "retry" && /^\d+$/.test(text))
                    retry = Number(text);
            }
            buffer = buffer.slice(start);
            if (done)
                return; // an event without its closing blank line is dropped
        }
    }
    finally {
        reader.releaseLock();
    }
}
