/**
 * Live updates: the console's one events stream (the client's shared hub, which the
 * task waits listen to as well), and the status line that says whether it works.
 *
 * The stream is followed for as long as this browser has a session, whether or not a
 * task runs, so a session ended elsewhere (revoked from another device, logged out in
 * another tab) is heard at once. Not before: a stream gives a session-less caller a
 * session, so every visitor would get one, and its `Set-Cookie` could cross that of
 * the visitor's first request (a key, a task, a login) and replace it.
 *
 * When the stream fails, or the server has none, the status says so, the console polls
 * instead (tasks through their waits, the session every `SESSION_POLL_MS`), and the
 * stream is tried again after a growing delay.
 */

import type { EventHub, SessionEvent } from "../src/index.js";

/** `off`: no session, so no stream; the others are the stream's. */
export type LiveState = "off" | "connecting" | "on" | "reconnecting" | "unavailable";

export interface LiveHandlers {
  /** This session ended (not rotated): the stream is stopped; re-read everything. */
  sessionEnded(event: SessionEvent): void;
  /** Events may have been missed: re-read the state. */
  reset(): void;
  changed(state: LiveState, previous: LiveState): void;
  /** Without a stream, every `SESSION_POLL_MS`: check the session. */
  poll(): void;
}

export const SESSION_POLL_MS = 15_000;
const RETRY_FIRST_MS = 15_000;
const RETRY_MAX_MS = 300_000;

export class LiveUpdates {
  state: LiveState = "off";
  private stopListening: (() => void) | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private retryMs = RETRY_FIRST_MS;

  constructor(
    private readonly hub: EventHub | null,
    private readonly status: HTMLElement,
    private readonly taskPollMs: number,
    private readonly handlers: LiveHandlers,
  ) {
    this.render();
  }

  /** Follow the stream while `hasSession`, else stop (both idempotent). */
  follow(hasSession: boolean): void {
    if (hasSession) this.start();
    else this.stop();
  }

  private start(): void {
    if (this.stopListening || this.retryTimer) return; // following, or waiting to retry
    if (!this.hub) {
      this.set("unavailable"); // events turned off in the client: nothing to retry
      return;
    }
    if (this.state !== "unavailable") this.set("connecting");
    this.stopListening = this.hub.listen({
      open: () => {
        this.retryMs = RETRY_FIRST_MS;
        this.set("on");
      },
      task: () => undefined, // each wait follows its own task
      reset: () => this.handlers.reset(),
      interrupted: () => this.set("reconnecting"),
      session: (event) => {
        // `rotated`: the hub reconnects with the new cookie; anything else ended this
        // session, and no stream is wanted until the browser has a session again.
        if (event.reason === "rotated") return;
        this.stop();
        this.handlers.sessionEnded(event);
      },
      unavailable: () => {
        this.stopListening = null;
        this.set("unavailable");
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.start();
        }, this.retryMs);
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      },
    });
  }

  private stop(): void {
    const stopListening = this.stopListening;
    this.stopListening = null;
    stopListening?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.set("off");
  }

  private set(state: LiveState): void {
    const previous = this.state;
    if (state === previous) return;
    this.state = state;
    if (state === "unavailable" && !this.pollTimer) {
      this.pollTimer = setInterval(() => this.handlers.poll(), SESSION_POLL_MS);
    } else if (state !== "unavailable" && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
    this.render();
    this.handlers.changed(state, previous);
  }

  private render(): void {
    const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))} s`;
    const text: Record<LiveState, string> = {
      off: "Live updates: off until this browser has a session.",
      connecting: "Live updates: connecting…",
      on: "Live updates: on",
      reconnecting: "Live updates: reconnecting…",
      unavailable:
        `Live updates unavailable: checking tasks every ${seconds(this.taskPollMs)} ` +
        `and the session every ${seconds(SESSION_POLL_MS)}.`,
    };
    this.status.dataset["state"] = this.state;
    this.status.textContent = text[this.state];
  }
}
