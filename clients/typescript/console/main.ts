/**
 * Sessions API console: a small single-page app over the public API, on the typed
 * client of this package (no framework). Built by esbuild into
 * api_project/static/console/console.js (`npm run build`); the build is committed, so
 * the service needs no Node.
 *
 * Every call goes through the client: the CSRF token (rotated by login), problem
 * documents as `ApiError` (each `detail` shown, field errors next to their fields) and
 * task waiting (the events stream where the server has one, else polling). One events
 * stream serves the whole page (live.ts): task progress, and a session ended elsewhere
 * shown at once.
 */

import {
  ApiError,
  createClient,
  type Expiry,
  type KeyValue,
  type Session,
  type SessionEvent,
  type SessionUser,
  type Task,
  type TaskCreateRequest,
  type TaskType,
  type UserSession,
} from "../src/index.js";
import { argFields, readArgs } from "./argsform.js";
import { readConfig } from "./config.js";
import {
  $,
  announce,
  el,
  formatDate,
  formatDuration,
  formatNumber,
  toIsoWithOffset,
  toLocalInput,
  withCode,
} from "./dom.js";
import { LiveUpdates } from "./live.js";
import { clearProblems, guarded, hideProblem, invalid, onClick, onSubmit, showProblem } from "./problems.js";
import { keyNameProblem, parseJsonValue } from "./values.js";

const config = readConfig();
const api = createClient({
  csrfCookieName: config.csrfCookieName,
  csrfHeaderName: config.csrfHeaderName,
  finalStatuses: config.tasks.final_states,
});
const FINAL_STATES: ReadonlySet<string> = new Set(config.tasks.final_states);
const MAX_VALUE_DEPTH = config.limits.max_value_depth;
const MAX_COUNTDOWN = config.tasks.max_countdown_seconds;
// How often a task is polled where the server has no events stream: often enough that
// a progress bar moves, at most once a second.
const POLL = { initialMs: 300, maxMs: 1000 };

interface TaskView {
  item: HTMLLIElement;
  badge: HTMLSpanElement;
  bar: HTMLProgressElement;
  line: HTMLParagraphElement;
  outcome: HTMLDivElement;
  problem: HTMLParagraphElement;
  cancel: HTMLButtonElement;
  lastPercent: number;
}

const state = {
  session: null as Session | null,
  user: undefined as SessionUser | null | undefined, // unknown until the first GET /session/
  deadline: 0,
  expiry: null as Expiry | null,
  reloadingExpired: false,
  editingKey: null as string | null,
  types: null as TaskType[] | null,
  tasks: new Map<string, { task: Task; view: TaskView }>(),
  // One wait per unfinished task; loadTasks() stops them all before it starts anew.
  waits: new AbortController(),
  // Fingerprints of the sessions this page ended itself (logout, flush): their end
  // comes on the stream too, and is no news here.
  endedHere: new Set<string>(),
};

const live = new LiveUpdates(api.events, $("#live-status"), POLL.maxMs, {
  sessionEnded: (event) => void sessionEnded(event),
  reset: () => void refreshAll(),
  changed: (now, before) => {
    // Back from polling: the waits follow the stream again.
    if (now === "on" && before === "unavailable") rewatch();
  },
  poll: () => void checkSession(),
});

const input = (selector: string) => $<HTMLInputElement>(selector);

// --- Session and expiry ------------------------------------------------------------

const POLICY_TEXT: Record<Expiry["policy"], string> = {
  default: "the server's default",
  seconds: "seconds of inactivity",
  datetime: "a fixed date and time",
  browser_close: "when the browser closes",
};

async function loadSession(): Promise<Session> {
  const session = await api.getSession();
  renderSession(session);
  return session;
}

function renderSession(session: Session): void {
  state.session = session;
  live.follow(session.id !== null);
  $("#session-id").textContent = session.id ?? "none yet";
  $("#session-engine").textContent = session.storage.server_side
    ? session.engine
    : `${session.engine} (in your browser's cookie)`;
  $("#session-user").textContent = session.user ? session.user.username : "anonymous";
  $("#session-keys").textContent = `${formatNumber(session.keys)} of ${formatNumber(session.storage.keys_limit)}`;
  const { bytes_used: used, bytes_limit: limit } = session.storage;
  const meter = $<HTMLMeterElement>("#storage-meter");
  meter.max = limit;
  meter.value = used;
  meter.high = limit * 0.8;
  meter.optimum = 0;
  const percent = limit ? Math.round((100 * used) / limit) : 0;
  $("#storage-text").textContent = `${formatNumber(used)} of ${formatNumber(limit)} bytes used (${percent} %)`;
  renderExpiry(session.expiry);
  renderWho(session.user);
}

function renderExpiry(expiry: Expiry): void {
  state.expiry = expiry;
  // `age` is what the server counts as left: no dependence on this machine's clock.
  state.deadline = Date.now() + expiry.age * 1000;
  state.reloadingExpired = false;
  $("#expiry-policy").textContent = POLICY_TEXT[expiry.policy] ?? expiry.policy;
  $("#expiry-summary").textContent = expiry.at_browser_close
    ? "The cookie goes when the browser closes; the server keeps the session at most until the time shown in Session."
    : `Expires ${formatDate(expiry.expires_at)}.`;
  $("#expires-at").textContent = expiry.at_browser_close
    ? `or when the browser closes (at most until ${formatDate(expiry.expires_at)})`
    : `(${formatDate(expiry.expires_at)})`;
  tick();
}

function tick(): void {
  if (!state.expiry) return;
  const left = Math.max(0, Math.ceil((state.deadline - Date.now()) / 1000));
  $("#countdown").textContent = formatDuration(left);
  if (left === 0 && !state.reloadingExpired) {
    // The server now treats the session as gone: show what it says.
    state.reloadingExpired = true;
    void refreshSessionAndAccount().then(() => guarded($("#keys-problem"), loadKeys));
  }
}

function renderWho(user: SessionUser | null): void {
  const who = $("#who");
  if (user) who.replaceChildren("Signed in as ", el("strong", { text: user.username }));
  else who.replaceChildren("Not signed in");
}

async function refreshSessionAndAccount(): Promise<void> {
  const session = await guarded($("#session-problem"), loadSession);
  if (session) await loadAccount(session.user);
}

// What the page says when its session ended elsewhere, by the session event's reason.
const ENDED_TEXT: Record<Exclude<SessionEvent["reason"], "rotated">, [string, string]> = {
  // [signed in, anonymous]
  revoked: ["This session was signed out from another device.", "This session was ended from another device."],
  logout: ["This session was signed out in another tab or window.", "This session was ended in another tab or window."],
  flushed: [
    "This session was flushed in another tab or window: its keys are gone and you are signed out.",
    "This session was flushed in another tab or window: its keys are gone.",
  ],
  password_changed: [
    "The password was changed on another device, so this session was signed out.",
    "The password was changed on another device, so this session was ended.",
  ],
  expired: ["This session expired, so you are signed out.", "This session expired: its keys are gone."],
};

function showSessionNotice(message: string): void {
  const notice = $("#session-notice");
  notice.textContent = message;
  notice.hidden = false;
}

/** The stream said this session ended: unless this page ended it, show it at once. */
async function sessionEnded(event: SessionEvent): Promise<void> {
  if (event.reason === "rotated" || state.endedHere.has(event.id)) return;
  const [signedIn, anonymous] = ENDED_TEXT[event.reason];
  showSessionNotice(state.user ? signedIn : anonymous);
  await refreshAll();
}

/** Without a stream, now and then: has the session ended (or the login changed)? */
async function checkSession(): Promise<void> {
  const before = state.user;
  const session = await guarded($("#session-problem"), loadSession);
  if (!session || session.user?.id === before?.id) return;
  if (before && !session.user) showSessionNotice("This session was signed out elsewhere.");
  await refreshAll();
}

/** Before this page ends its own session: its end on the stream is expected. */
function endingHere(): void {
  if (state.session?.id) state.endedHere.add(state.session.id);
}

async function setExpiry(body: Parameters<typeof api.setExpiry>[0], message: string): Promise<void> {
  renderExpiry(await api.setExpiry(body));
  announce(message);
  await refreshSessionAndAccount();
}

async function setExpirySeconds(): Promise<void> {
  const field = input("#expiry-seconds");
  const seconds = Number(field.value);
  const max = config.limits.max_expiry_seconds;
  if (field.validity.badInput || field.value.trim() === "" || !Number.isInteger(seconds)) {
    throw invalid([{ field: "seconds", message: "Enter a whole number of seconds." }]);
  }
  if (seconds < 1 || seconds > max) {
    throw invalid([{ field: "seconds", message: `Enter 1 to ${formatNumber(max)} seconds.` }]);
  }
  await setExpiry({ seconds }, `The session now expires after ${formatNumber(seconds)} s of inactivity.`);
}

async function setExpiryDate(): Promise<void> {
  const field = input("#expiry-date");
  const date = field.value ? new Date(field.value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw invalid([{ field: "expires_at", message: "Pick a date and a time." }]);
  }
  if (date.getTime() <= Date.now()) {
    throw invalid([{ field: "expires_at", message: "Pick a time in the future." }]);
  }
  await setExpiry({ expires_at: toIsoWithOffset(date) }, `The session now expires ${date.toLocaleString()}.`);
}

// --- Keys --------------------------------------------------------------------------

async function loadKeys(): Promise<void> {
  const items = await api.listKeys();
  $("#key-list").replaceChildren(...items.map(keyRow));
  $("#keys-empty").hidden = items.length > 0;
  $("#keys-clear").hidden = items.length === 0;
}

function keyRow({ key, value }: KeyValue): HTMLLIElement {
  return el(
    "li",
    {},
    el(
      "div",
      { class: "row-main" },
      el("strong", { class: "mono", text: key }),
      el("code", { class: "row-value", text: JSON.stringify(value) }),
    ),
    el(
      "div",
      { class: "row-actions" },
      el("button", {
        type: "button",
        class: "small",
        "aria-label": `Edit key ${key}`,
        text: "Edit",
        onclick: () => startEdit(key, value),
      }),
      el("button", {
        type: "button",
        class: "small danger",
        "aria-label": `Delete key ${key}`,
        text: "Delete",
        onclick: (event) => void deleteKey(key, event.currentTarget as HTMLButtonElement),
      }),
    ),
  );
}

function startEdit(key: string, value: unknown): void {
  clearProblems($("#key-form"));
  state.editingKey = key;
  $("#key-form-title").textContent = `Edit key ${key}`;
  const name = input("#key-name");
  name.value = key;
  name.readOnly = true;
  $<HTMLTextAreaElement>("#key-value").value = JSON.stringify(value, null, 2);
  $("#key-submit").textContent = "Save";
  $("#key-cancel").hidden = false;
  $("#key-value").focus();
}

function stopEdit(): void {
  const form = $<HTMLFormElement>("#key-form");
  state.editingKey = null;
  form.reset();
  clearProblems(form);
  $("#key-form-title").textContent = "Add a key";
  input("#key-name").readOnly = false;
  $("#key-submit").textContent = "Add key";
  $("#key-cancel").hidden = true;
}

async function saveKey(): Promise<void> {
  const key = state.editingKey ?? input("#key-name").value;
  const errors: { field: string; message: string }[] = [];
  const nameProblem = state.editingKey ? null : keyNameProblem(key, config.keyName);
  if (nameProblem) errors.push({ field: "key", message: nameProblem });
  const parsed = parseJsonValue($<HTMLTextAreaElement>("#key-value").value, MAX_VALUE_DEPTH);
  if (parsed.problem !== undefined) errors.push({ field: "value", message: parsed.problem });
  if (errors.length || parsed.problem !== undefined) throw invalid(errors);

  if (state.editingKey) {
    await api.putKey(key, parsed.value);
    announce(`Key ${key} saved.`);
  } else {
    await api.createKey(key, parsed.value);
    announce(`Key ${key} added.`);
  }
  stopEdit();
  input("#key-name").focus();
  await Promise.all([loadKeys(), refreshSessionAndAccount()]);
}

async function deleteKey(key: string, button: HTMLButtonElement): Promise<void> {
  const problem = $("#keys-problem");
  hideProblem(problem);
  button.setAttribute("aria-busy", "true");
  try {
    await api.deleteKey(key);
    if (state.editingKey === key) stopEdit();
    announce(`Key ${key} deleted.`);
    await Promise.all([loadKeys(), refreshSessionAndAccount()]);
  } catch (error) {
    showProblem(null, error, problem);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

// --- Account -----------------------------------------------------------------------

async function loadAccount(sessionUser: SessionUser | null): Promise<void> {
  const signedIn = Boolean(sessionUser);
  $("#account-anonymous").hidden = signedIn;
  $("#account-user").hidden = !signedIn;
  state.user = sessionUser;
  renderTypeDescription();
  if (!signedIn) {
    $("#user-sessions").replaceChildren();
    return;
  }
  await guarded($("#account-problem"), async () => {
    const [me, sessions] = await Promise.all([api.me(), api.listUserSessions()]);
    $("#account-name").textContent = me.username;
    input("#password-username").value = me.username; // lets password managers pair the fields
    $("#account-email").textContent = me.email ? `(${me.email})` : "";
    renderUserSessions(sessions);
  });
}

function renderUserSessions(sessions: UserSession[]): void {
  $("#user-sessions").replaceChildren(
    ...sessions.map((item) => {
      const meta = [
        `since ${formatDate(item.created_at)}`,
        item.last_seen_at ? `last seen ${formatDate(item.last_seen_at)}` : null,
        item.ip,
        item.expires_at ? `expires ${formatDate(item.expires_at)}` : null,
      ]
        .filter(Boolean)
        .join(" · ");
      return el(
        "li",
        {},
        el(
          "div",
          { class: "row-main" },
          el("strong", { class: "mono", text: item.id }),
          " ",
          item.current ? el("span", { class: "tag", text: "this session" }) : null,
          el("span", { class: "row-meta", text: meta }),
          item.user_agent ? el("span", { class: "row-meta", text: item.user_agent }) : null,
        ),
        item.current
          ? null
          : el(
              "div",
              { class: "row-actions" },
              el("button", {
                type: "button",
                class: "small danger",
                "aria-label": `Revoke session ${item.id}`,
                text: "Revoke",
                onclick: () => void revokeSession(item.id),
              }),
            ),
      );
    }),
  );
  $("#revoke-others").hidden = !sessions.some((item) => !item.current);
}

async function revokeSession(id: string): Promise<void> {
  await guarded($("#account-problem"), async () => {
    await api.revokeSession(id);
    announce(`Session ${id} logged out.`);
  });
  await loadAccount(state.user ?? null);
}

/** After a login, logout, register, flush or cycle: everything may have changed. */
async function refreshAll(): Promise<void> {
  await Promise.all([
    refreshSessionAndAccount(),
    guarded($("#keys-problem"), loadKeys),
    guarded($("#tasks-problem"), loadTasks),
  ]);
}

function readForm(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of new FormData(form).entries()) values[name] = String(value);
  return values;
}

function requireFields(values: Record<string, string>, names: string[]): void {
  const errors = names
    .filter((name) => !(values[name] ?? "").trim())
    .map((name) => ({ field: name, message: "This field is required." }));
  if (errors.length) throw invalid(errors);
}

async function login(form: HTMLFormElement): Promise<void> {
  const values = readForm(form);
  requireFields(values, ["username", "password"]);
  const user = await api.login(values["username"] ?? "", values["password"] ?? "");
  form.reset();
  $("#session-notice").hidden = true;
  announce(`Signed in as ${user.username}.`);
  await refreshAll();
  $("#logout").focus();
}

async function register(form: HTMLFormElement): Promise<void> {
  const values = readForm(form);
  requireFields(values, ["username", "password"]);
  const email = (values["email"] ?? "").trim();
  const user = await api.register({
    username: values["username"] ?? "",
    password: values["password"] ?? "",
    ...(email ? { email } : {}),
  });
  form.reset();
  $("#session-notice").hidden = true;
  announce(`Account ${user.username} created; you are signed in.`);
  await refreshAll();
  $("#logout").focus();
}

async function changePassword(form: HTMLFormElement): Promise<void> {
  const values = readForm(form);
  requireFields(values, ["old_password", "new_password"]);
  await api.changePassword(values["old_password"] ?? "", values["new_password"] ?? "");
  form.reset();
  announce("Password changed. Your other sessions are logged out.");
  await refreshSessionAndAccount();
}

// --- Tasks -------------------------------------------------------------------------

const REQUIRES_TEXT: Record<TaskType["requires"], string> = {
  anyone: "",
  user: " (logged-in users)",
  staff: " (staff)",
};

async function loadTypes(): Promise<void> {
  try {
    state.types = await api.taskTypes();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      const note = $("#tasks-unavailable");
      note.textContent = "Tasks are not available on this server.";
      note.hidden = false;
      $("#tasks .tasks-layout").hidden = true;
      state.types = [];
      return;
    }
    throw error;
  }
  $("#task-type").replaceChildren(
    ...state.types.map((type) =>
      el("option", { value: type.name, text: `${type.name}${REQUIRES_TEXT[type.requires] ?? ""}` }),
    ),
  );
  renderArgs();
}

const currentType = (): TaskType | undefined =>
  state.types?.find((type) => type.name === $<HTMLSelectElement>("#task-type").value);

function renderArgs(): void {
  const type = currentType();
  clearProblems($("#task-form"));
  const box = $("#task-args-fields");
  if (!type) {
    box.replaceChildren();
    return;
  }
  renderTypeDescription();
  box.replaceChildren(...argFields(type));
}

function renderTypeDescription(): void {
  const type = currentType();
  if (!type) return;
  let description = type.description;
  if (type.requires === "user" && !state.user) description += " Log in to run this type.";
  if (type.requires === "staff") description += " Only staff users may run this type.";
  $("#task-type-description").replaceChildren(...withCode(description));
}

async function enqueue(): Promise<void> {
  const type = currentType();
  if (!type) throw invalid([{ field: "name", message: "Pick a task type." }]);
  const { args, errors } = readArgs(type, MAX_VALUE_DEPTH);
  const countdownInput = input("#task-countdown");
  const countdown = countdownInput.value.trim() === "" ? 0 : Number(countdownInput.value);
  if (!Number.isInteger(countdown) || countdown < 0 || countdown > MAX_COUNTDOWN) {
    errors.push({ field: "countdown", message: `Enter 0 to ${MAX_COUNTDOWN} seconds.` });
  }
  const runAfterInput = input("#task-run-after");
  const runAfter = runAfterInput.value ? new Date(runAfterInput.value) : null;
  if (runAfter && Number.isNaN(runAfter.getTime())) {
    errors.push({ field: "run_after", message: "Pick a date and a time, or leave it empty." });
  } else if (runAfter && countdown) {
    errors.push({ field: "run_after", message: "Give seconds or a time to start at, not both." });
  } else if (runAfter && runAfter.getTime() - Date.now() > MAX_COUNTDOWN * 1000) {
    errors.push({ field: "run_after", message: `Pick a time at most ${formatNumber(MAX_COUNTDOWN)} s ahead.` });
  }
  if (errors.length) throw invalid(errors);
  const body: TaskCreateRequest = { name: type.name, args };
  if (countdown) body.countdown = countdown;
  // A time already passed is "at once" on the server too: sent as it is.
  if (runAfter) body.run_after = toIsoWithOffset(runAfter);
  const task = await api.enqueue(body);
  upsertTask(task, { prepend: true });
  announce(`Task ${task.name} queued.`);
  watch(task);
  // A first task gives the browser a session: show it (and follow its stream).
  if (!state.session?.id) await guarded($("#session-problem"), loadSession);
}

async function loadTasks(): Promise<void> {
  if (state.types && state.types.length === 0) return; // tasks are not on this server
  let page;
  try {
    page = await api.listTasks();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return;
    throw error;
  }
  state.waits.abort();
  state.waits = new AbortController();
  state.tasks.clear();
  $("#task-list").replaceChildren();
  for (const task of page.results) upsertTask(task);
  for (const task of page.results) watch(task);
}

/** Follow every unfinished task anew (through the stream, now that it is back). */
function rewatch(): void {
  state.waits.abort();
  state.waits = new AbortController();
  for (const { task } of state.tasks.values()) watch(task);
}

function statusLine(task: Task): string {
  if (task.status === "PENDING" && task.run_after && Date.parse(task.run_after) > Date.now()) {
    return `Scheduled for ${new Date(task.run_after).toLocaleString()}.`;
  }
  if (task.status === "PENDING") return "Waiting for a worker.";
  if (task.status === "STARTED") return "Running.";
  if (task.status === "RETRY") return "Waiting to retry.";
  if (task.status === "REVOKED") return "Cancelled.";
  if (task.progress) {
    const { current, total, percent, message } = task.progress;
    return `${message ?? `Step ${current} of ${total}`} · ${percent} %`;
  }
  return "";
}

function taskView(task: Task): TaskView {
  const view: TaskView = {
    item: el("li", { class: "task", "data-task-id": task.id }),
    badge: el("span", { class: "badge" }),
    bar: el("progress", { max: 100, "aria-label": `Progress of ${task.name}` }),
    line: el("p", { class: "task-line" }),
    outcome: el("div", {}),
    problem: el("p", { class: "problem", role: "alert", hidden: true }),
    cancel: el("button", {
      type: "button",
      class: "small danger",
      text: "Cancel",
      "aria-label": `Cancel task ${task.name}`,
    }),
    lastPercent: 0,
  };
  view.item.append(
    el(
      "div",
      { class: "task-head" },
      el("strong", { class: "mono", text: task.name }),
      view.badge,
      el("time", { datetime: task.created_at, text: formatDate(task.created_at) }),
    ),
    view.bar,
    view.line,
    el("p", { class: "task-line mono", text: `args ${JSON.stringify(task.args)}` }),
    view.outcome,
    view.problem,
    el("div", { class: "actions" }, view.cancel),
  );
  view.cancel.addEventListener("click", () => void cancelTask(task.id));
  return view;
}

/** Create or update one task in the list, in place, so focus is kept while waiting. */
function upsertTask(task: Task, { prepend = false } = {}): void {
  let entry = state.tasks.get(task.id);
  if (!entry) {
    entry = { task, view: taskView(task) };
    state.tasks.set(task.id, entry);
    const list = $("#task-list");
    if (prepend) list.prepend(entry.view.item);
    else list.append(entry.view.item);
  }
  entry.task = task;
  const { view } = entry;
  view.item.className = `task ${task.status}`;
  view.badge.className = `badge ${task.status}`;
  view.badge.textContent = task.status;
  let percent: number | null = null;
  if (task.status === "SUCCESS") percent = 100;
  else if (task.progress) percent = task.progress.percent;
  else if (task.status === "PENDING") percent = 0;
  else if (FINAL_STATES.has(task.status)) percent = view.lastPercent;
  if (percent === null) {
    view.bar.removeAttribute("value"); // running, no progress reported yet
  } else {
    view.bar.value = percent;
    view.lastPercent = percent;
  }
  view.line.textContent = statusLine(task);
  if (task.status === "SUCCESS") {
    const result = `Result: ${JSON.stringify(task.result, null, 2)}`;
    view.outcome.replaceChildren(el("pre", { class: "task-result", text: result }));
  } else if (task.status === "FAILURE" && task.error) {
    view.outcome.replaceChildren(
      el("p", { class: "task-error", text: `${task.error.type}: ${task.error.message}` }),
    );
  } else {
    view.outcome.replaceChildren();
  }
  view.cancel.hidden = FINAL_STATES.has(task.status);
  $("#tasks-empty").hidden = state.tasks.size > 0;
}

/** Follow one unfinished task until it ends (or loadTasks starts anew). */
function watch(task: Task): void {
  if (FINAL_STATES.has(task.status)) return;
  const { signal } = state.waits;
  api
    .waitForTask(task.id, {
      signal,
      via: live.state === "unavailable" ? "poll" : "auto",
      poll: POLL,
      onUpdate: (update) => {
        if (!signal.aborted) upsertTask(update);
      },
    })
    .catch((error: unknown) => {
      if (signal.aborted) return;
      const entry = state.tasks.get(task.id);
      if (!entry) return;
      if (error instanceof ApiError && error.status === 404) {
        entry.view.item.remove(); // no longer ours (logged out): drop it
        state.tasks.delete(task.id);
        $("#tasks-empty").hidden = state.tasks.size > 0;
      } else {
        showProblem(null, error, entry.view.problem);
      }
    });
}

async function cancelTask(id: string): Promise<void> {
  const entry = state.tasks.get(id);
  if (!entry) return;
  const { view } = entry;
  hideProblem(view.problem);
  view.cancel.setAttribute("aria-busy", "true");
  try {
    const task = await api.cancelTask(id);
    upsertTask(task);
    announce(`Cancelling task ${task.name}.`);
  } catch (error) {
    showProblem(null, error, view.problem);
  } finally {
    view.cancel.removeAttribute("aria-busy");
  }
}

// --- Wiring ------------------------------------------------------------------------

function wire(): void {
  onClick($("#session-refresh"), $("#session-problem"), async () => {
    await refreshAll();
    announce("Refreshed.");
  });
  onClick($("#session-cycle"), $("#session-problem"), async () => {
    const session = await api.cycleSession();
    renderSession(session);
    announce(`New session key; fingerprint ${session.id}.`);
    await loadAccount(session.user);
  });
  onClick($("#session-flush"), $("#session-problem"), async () => {
    endingHere();
    await api.flushSession();
    stopEdit();
    announce("Session flushed: keys deleted, logged out.");
    await refreshAll();
  });

  onSubmit($("#key-form"), saveKey);
  $("#key-cancel").addEventListener("click", () => {
    stopEdit();
    input("#key-name").focus();
  });
  onClick($("#keys-clear"), $("#keys-problem"), async () => {
    await api.clearKeys();
    stopEdit();
    announce("All keys deleted.");
    await Promise.all([loadKeys(), refreshSessionAndAccount()]);
  });

  onSubmit($("#expiry-seconds-form"), setExpirySeconds);
  onSubmit($("#expiry-date-form"), setExpiryDate);
  onClick($("#expiry-browser"), $("#expiry-problem"), () =>
    setExpiry({ at_browser_close: true }, "The session now ends when the browser closes."),
  );
  onClick($("#expiry-default"), $("#expiry-problem"), async () => {
    renderExpiry(await api.resetExpiry());
    announce("The session is back to the default expiry.");
    await refreshSessionAndAccount();
  });

  onSubmit($("#login-form"), login);
  onSubmit($("#register-form"), register);
  onSubmit($("#password-form"), changePassword);
  onClick($("#logout"), $("#account-problem"), async () => {
    endingHere();
    await api.logout();
    announce("Logged out.");
    await refreshAll();
    $("#login-username").focus();
  });
  onClick($("#revoke-others"), $("#account-problem"), async () => {
    const { revoked } = await api.revokeOtherSessions();
    announce(`${revoked} other session${revoked === 1 ? "" : "s"} logged out.`);
    await loadAccount(state.user ?? null);
  });

  $("#task-type").addEventListener("change", renderArgs);
  onSubmit($("#task-form"), enqueue);
  onClick($("#tasks-refresh"), $("#tasks-problem"), loadTasks);
}

async function start(): Promise<void> {
  if (!config.allowRegistration) $("#register-box").hidden = true;
  input("#expiry-seconds").value = "300";
  input("#expiry-date").value = toLocalInput(new Date(Date.now() + 3600 * 1000));
  wire();
  await Promise.all([
    refreshSessionAndAccount(),
    guarded($("#keys-problem"), loadKeys),
    guarded($("#tasks-problem"), async () => {
      await loadTypes();
      await loadTasks();
    }),
  ]);
  setInterval(tick, 1000);
  document.body.dataset["ready"] = "true"; // for tests and curious humans: first load done
}

void start();
