/**
 * Waiting for a task to finish: the live events stream where the server has one, else
 * polling `GET /api/v1/tasks/{id}/` with a growing delay.
 */
import { type EventHub } from "./events.js";
import type { Task } from "./schema.js";
/** The statuses after which a task changes no more. `satisfies` ties each to the
 * schema's enum; a test ties the set to the server's own definition. */
export declare const FINAL_STATUSES: readonly ["SUCCESS", "FAILURE", "REVOKED"];
export interface PollOptions {
    /** The first delay, in milliseconds (default 250). */
    initialMs?: number;
    /** The longest delay (default 2000). */
    maxMs?: number;
    /** How much each delay grows over the one before (default 1.5). */
    factor?: number;
}
export interface WaitOptions {
    /** Stop waiting (e.g. `AbortSignal.timeout(30_000)`): the wait rejects with its reason. */
    signal?: AbortSignal;
    /** Every state of the task seen on the way (progress reports included). */
    onUpdate?: (task: Task) => void;
    /** `"auto"`: the events stream if the server has one, else polling; `"poll"`: polling. */
    via?: "auto" | "poll";
    poll?: PollOptions;
}
export interface TaskWaiter {
    getTask(id: string): Promise<Task>;
    hub: EventHub | null;
    finalStatuses: ReadonlySet<string>;
}
export declare function waitForTask(waiter: TaskWaiter, id: string, options?: WaitOptions): Promise<Task>;
