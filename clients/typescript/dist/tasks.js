/**
 * Waiting for a task to finish: the live events stream where the server has one, else
 * polling `GET /api/v1/tasks/{id}/` with a growing delay.
 */
import { ApiError, NETWORK_ERROR } from "./errors.js";
import { sleep } from "./events.js";
/** The statuses after which a task changes no more. `satisfies` ties each to the
 * schema's enum; a test ties the set to the server's own definition. */
export const FINAL_STATUSES = ["SUCCESS", "FAILURE", "REVOKED"];
/** Transient answers a poll rides out (rate limit, a dependency down, no answer). */
function transient(error) {
    return (error instanceof ApiError &&
        (error.status === 429 || error.status === 503 || error.code === NETWORK_ERROR));
}
export async function waitForTask(waiter, id, options = {}) {
    const { signal, onUpdate, via = "auto" } = options;
    signal?.throwIfAborted();
    const hub = via === "auto" && waiter.hub?.supported !== false ? waiter.hub : null;
    if (!hub)
        return waitByPolling(waiter, id, options);
    // The task is read again once the stream is open (and after each reopen), so a
    // change before the subscription is not missed. With the stream open already, that
    // read is the only one; else a task that is final already needs no stream.
    if (!hub.connected) {
        const first = await waiter.getTask(id);
        onUpdate?.(first);
        if (waiter.finalStatuses.has(first.status))
            return first;
    }
    const done = await waitViaEvents(waiter, hub, id, options);
    return done ?? waitByPolling(waiter, id, options);
}
/** The task once final, or null when the stream is not (or no longer) there. */
function waitViaEvents(waiter, hub, id, { signal, onUpdate }) {
    return new Promise((resolve, reject) => {
        let finished = false;
        let stop = () => { };
        const finish = (settle) => {
            if (finished)
                return;
            finished = true;
            stop();
            signal?.removeEventListener("abort", onAbort);
            settle();
        };
        const consider = (task) => {
            if (finished || task.id !== id)
                return;
            onUpdate?.(task);
            if (waiter.finalStatuses.has(task.status))
                finish(() => resolve(task));
        };
        // After each (re)open and each reset: read the task, in case its end was missed.
        const reread = () => {
            waiter.getTask(id).then(consider, (error) => {
                if (!transient(error))
                    finish(() => reject(error));
            });
        };
        const onAbort = () => finish(() => reject(signal?.reason));
        signal?.addEventListener("abort", onAbort, { once: true });
        stop = hub.listen({
            open: reread,
            reset: reread,
            task: consider,
            unavailable: () => finish(() => resolve(null)),
        });
        if (finished)
            stop(); // it ended while listen() ran
    });
}
async function waitByPolling(waiter, id, options) {
    const { signal, onUpdate, poll = {} } = options;
    const { initialMs = 250, maxMs = 2000, factor = 1.5 } = poll;
    let delay = initialMs;
    while (true) {
        signal?.throwIfAborted();
        let task;
        try {
            task = await waiter.getTask(id);
        }
        catch (error) {
            if (!transient(error))
                throw error;
            delay = Math.min(maxMs, delay * factor);
            if (error.retryAfter !== null)
                delay = Math.max(delay, error.retryAfter * 1000);
            await sleep(delay, signal);
            continue;
        }
        onUpdate?.(task);
        if (waiter.finalStatuses.has(task.status))
            return task;
        await sleep(delay, signal);
        delay = Math.min(maxMs, delay * factor);
    }
}
