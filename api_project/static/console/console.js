/*
 * Sessions API console: a small single-page app over the public API (no framework,
 * no build step). It uses only the documented endpoints under /api/v1/, sends the CSRF
 * token read from the cookie before every unsafe request (login rotates it), and shows
 * every error's `detail`, with field errors next to their fields.
 */

const config = JSON.parse(document.getElementById("console-config").textContent);

const API = "/api/v1";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// The server's rules, from the page's config (sessions_api/policy.py and
// tasks_api/policy.py define them once): never re-typed here.
const FINAL_STATES = new Set(config.tasks.final_states);
const KEY_PATTERN = new RegExp(config.keyName.pattern);
const MAX_KEY_LENGTH = config.keyName.maxLength;
const MAX_VALUE_DEPTH = config.limits.max_value_depth;
const MAX_COUNTDOWN = config.tasks.max_countdown_seconds;
const POLL_MS = 600;
// drf-spectacular writes ±1e300 for "any finite number": not a bound worth showing.
const SHOWN_BOUND = 1e15;

const state = {
  session: null,
  user: undefined, // unknown until the first GET /session/
  deadline: null,
  expiry: null,
  reloadingExpired: false,
  editingKey: null,
  types: null,
  tasks: new Map(), // id -> {task, view}
  polling: false,
};

// --- DOM helpers -------------------------------------------------------------------

const $ = (selector, root = document) => root.querySelector(selector);

/** Build an element: `el("p", {class: "x", text: "hi"}, child, ...)`; never parses HTML. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function announce(message) {
  const status = $("#status");
  status.textContent = "";
  // A fresh text node on the next frame, so the same message twice is announced twice.
  requestAnimationFrame(() => { status.textContent = message; });
}

const pad = (number) => String(number).padStart(2, "0");

function formatDuration(totalSeconds) {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  return days ? `${days} d ${clock}` : clock;
}

const formatDate = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const formatNumber = (number) => Number(number).toLocaleString();

/** A local date as ISO 8601 with the browser's UTC offset, e.g. 2026-11-25T19:45:00+01:00. */
function toIsoWithOffset(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The value for a datetime-local input. */
function toLocalInput(date) {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

// --- The API -----------------------------------------------------------------------

/** An error to show: a problem document from the server, or a check in the browser. */
class Problem extends Error {
  constructor(message, { status = null, code = null, errors = [] } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fieldErrors = errors;
  }
}

/** Field errors found in the browser; nothing was sent. */
function invalid(errors) {
  const message = errors.length === 1
    ? "Check the highlighted field; nothing was sent."
    : `Check the ${errors.length} highlighted fields; nothing was sent.`;
  return new Problem(message, { code: "invalid", errors });
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** The CSRF token as the cookie holds it now; fetch one if there is none. */
async function csrfToken({ refresh = false } = {}) {
  let token = refresh ? null : readCookie(config.csrfCookieName);
  if (!token) {
    const body = await api("GET", `${API}/auth/csrf/`);
    token = readCookie(config.csrfCookieName) || body.csrf_token;
  }
  return token;
}

async function readJson(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function problemFrom(response, body) {
  const status = response.status;
  let message = body?.detail || body?.title;
  if (!message) {
    message = `The server answered ${status} ${response.statusText || ""} without an explanation; `
      + "try again, and look at the server's log if it persists.";
  }
  const retryAfter = response.headers.get("Retry-After");
  if (status === 429 && retryAfter) message += ` Try again in ${retryAfter} s.`;
  return new Problem(message, {
    status,
    code: body?.code ?? null,
    errors: Array.isArray(body?.errors) ? body.errors : [],
  });
}

/**
 * One API call: JSON in and out, the CSRF header on unsafe methods (read from the
 * cookie each time), a Problem thrown for every error. A `csrf_failed` answer is
 * retried once with a fresh token (another tab may have logged in and rotated it).
 */
async function api(method, path, body, { retry = true } = {}) {
  const headers = { Accept: "application/json" };
  const unsafe = !SAFE_METHODS.has(method);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (unsafe) headers[config.csrfHeaderName] = await csrfToken();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Problem("The server could not be reached. Check the connection and try again.");
  }
  const data = await readJson(response);
  if (response.ok) return data;
  if (unsafe && retry && response.status === 403 && data?.code === "csrf_failed") {
    await csrfToken({ refresh: true });
    return api(method, path, body, { retry: false });
  }
  throw problemFrom(response, data);
}

// --- Showing errors ----------------------------------------------------------------

function clearProblems(root) {
  for (const node of root.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of root.querySelectorAll(".problem")) hideProblem(node);
}

function hideProblem(node) {
  node.hidden = true;
  node.replaceChildren();
}

/** The `.field` for an error's path: `args.to.0` falls back to `args.to`. */
function fieldFor(root, path) {
  let name = path;
  while (name) {
    const field = root.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    if (field) return field;
    const dot = name.lastIndexOf(".");
    if (dot < 0) return null;
    name = name.slice(0, dot);
  }
  return null;
}

// Errors without an `errors` list that still belong to one field.
const CODE_FIELDS = {
  invalid_key: "key",
  reserved_key: "key",
  key_exists: "key",
  value_too_large: "value",
  unknown_task: "name",
};

/**
 * Show `error` in `root`: each field error under its field (and the field marked
 * invalid), the problem's `detail` and any unplaced field errors in `problemNode`.
 */
function showProblem(root, error, problemNode = $(".problem", root)) {
  if (!(error instanceof Problem)) {
    console.error(error);
    error = new Problem(`Something went wrong in the console: ${error.message}`);
  }
  const unplaced = [];
  const errors = [...error.fieldErrors];
  if (!errors.length && CODE_FIELDS[error.code]) {
    errors.push({ field: CODE_FIELDS[error.code], message: error.message });
  }
  for (const item of errors) {
    const field = root && fieldFor(root, item.field);
    if (!field) {
      unplaced.push(item);
      continue;
    }
    const out = $(".field-error", field);
    out.textContent = out.textContent ? `${out.textContent} ${item.message}` : item.message;
    $("input, textarea, select", field)?.setAttribute("aria-invalid", "true");
  }
  const parts = [el("span", { text: error.message })];
  const extra = unplaced.filter((item) => item.message !== error.message);
  if (extra.length) {
    parts.push(el("ul", {}, ...extra.map((item) => el("li", {
      text: item.field && item.field !== "non_field_errors" ? `${item.field}: ${item.message}` : item.message,
    }))));
  }
  problemNode.replaceChildren(...parts);
  problemNode.hidden = false;
  const firstInvalid = root && $('[aria-invalid="true"]', root);
  if (firstInvalid) firstInvalid.focus();
}

/** A button that runs `work`, shows its error in `problemNode`, and ignores double clicks. */
function onClick(button, problemNode, work) {
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    hideProblem(problemNode);
    button.setAttribute("aria-busy", "true");
    try {
      await work();
    } catch (error) {
      showProblem(null, error, problemNode);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}

/** A form whose submit runs `work(form)`; errors land next to the form's fields. */
function onSubmit(form, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    clearProblems(form);
    form.setAttribute("aria-busy", "true");
    try {
      await work(form);
    } catch (error) {
      showProblem(form, error);
    } finally {
      form.removeAttribute("aria-busy");
    }
  });
}

/** Run a load and show its error in `problemNode` instead of throwing. */
async function guarded(problemNode, work) {
  try {
    hideProblem(problemNode);
    return await work();
  } catch (error) {
    showProblem(null, error, problemNode);
    return undefined;
  }
}

// --- Session and expiry ------------------------------------------------------------

const POLICY_TEXT = {
  default: "the server's default",
  seconds: "seconds of inactivity",
  datetime: "a fixed date and time",
  browser_close: "when the browser closes",
};

async function loadSession() {
  const session = await api("GET", `${API}/session/`);
  renderSession(session);
  return session;
}

function renderSession(session) {
  state.session = session;
  $("#session-id").textContent = session.id ?? "none yet";
  $("#session-engine").textContent = session.storage.server_side
    ? session.engine
    : `${session.engine} (in your browser's cookie)`;
  $("#session-user").textContent = session.user ? session.user.username : "anonymous";
  $("#session-keys").textContent = `${formatNumber(session.keys)} of ${formatNumber(session.storage.keys_limit)}`;
  const { bytes_used: used, bytes_limit: limit } = session.storage;
  const meter = $("#storage-meter");
  meter.max = limit;
  meter.value = used;
  meter.high = limit * 0.8;
  meter.optimum = 0;
  const percent = limit ? Math.round((100 * used) / limit) : 0;
  $("#storage-text").textContent = `${formatNumber(used)} of ${formatNumber(limit)} bytes used (${percent} %)`;
  renderExpiry(session.expiry);
  renderWho(session.user);
}

function renderExpiry(expiry) {
  state.expiry = expiry;
  // `age` is what the server counts as left: no dependence on this machine's clock.
  state.deadline = Date.now() + expiry.age * 1000;
  state.reloadingExpired = false;
  $("#expiry-policy").textContent = POLICY_TEXT[expiry.policy] ?? expiry.policy;
  const summary = expiry.at_browser_close
    ? "The cookie goes when the browser closes; the server keeps the session at most until the time shown in Session."
    : `Expires ${formatDate(expiry.expires_at)}.`;
  $("#expiry-summary").textContent = summary;
  $("#expires-at").textContent = expiry.at_browser_close
    ? `or when the browser closes (at most until ${formatDate(expiry.expires_at)})`
    : `(${formatDate(expiry.expires_at)})`;
  tick();
}

function tick() {
  if (!state.expiry) return;
  const left = Math.max(0, Math.ceil((state.deadline - Date.now()) / 1000));
  $("#countdown").textContent = formatDuration(left);
  if (left === 0 && !state.reloadingExpired) {
    // The server now treats the session as gone: show what it says.
    state.reloadingExpired = true;
    refreshSessionAndAccount().then(() => guarded($("#keys-problem"), loadKeys));
  }
}

function renderWho(user) {
  const who = $("#who");
  if (user) {
    who.replaceChildren("Signed in as ", el("strong", { text: user.username }));
  } else {
    who.replaceChildren("Not signed in");
  }
}

async function refreshSessionAndAccount() {
  const session = await guarded($("#session-problem"), loadSession);
  if (session) await loadAccount(session.user);
}

// --- Keys --------------------------------------------------------------------------

async function loadKeys() {
  const items = await api("GET", `${API}/session/keys/`);
  const list = $("#key-list");
  list.replaceChildren(...items.map(({ key, value }) => el("li", {},
    el("div", { class: "row-main" },
      el("strong", { class: "mono", text: key }),
      el("code", { class: "row-value", text: JSON.stringify(value) })),
    el("div", { class: "row-actions" },
      el("button", { type: "button", class: "small", "aria-label": `Edit key ${key}`, text: "Edit",
        onclick: () => startEdit(key, value) }),
      el("button", { type: "button", class: "small danger", "aria-label": `Delete key ${key}`, text: "Delete",
        onclick: (event) => deleteKey(key, event.currentTarget) })))));
  $("#keys-empty").hidden = items.length > 0;
  $("#keys-clear").hidden = items.length === 0;
}

function keyNameProblem(name) {
  if (!name) return "Enter a key name.";
  if (name.length > MAX_KEY_LENGTH) return `Key names are at most ${MAX_KEY_LENGTH} characters.`;
  if (name.startsWith("_")) return "Names starting with _ are reserved for the server.";
  if (!KEY_PATTERN.test(name)) {
    return "Use only letters, digits and _ . : - , starting with a letter or digit.";
  }
  return null;
}

/** Parse a JSON value the way the server will judge it: finite numbers, depth ≤ 32. */
function parseJsonValue(text) {
  if (!text.trim()) return { problem: 'Enter a JSON value, e.g. 42, "text", [1, 2] or {"a": true}.' };
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `This is not valid JSON (${error.message}). Strings need double quotes.` };
  }
  const depth = (node) => {
    if (node === null || typeof node !== "object") return 1;
    const children = Array.isArray(node) ? node : Object.values(node);
    return 1 + children.reduce((deepest, child) => Math.max(deepest, depth(child)), 0);
  };
  const finite = (node) => {
    if (typeof node === "number") return Number.isFinite(node);
    if (node === null || typeof node !== "object") return true;
    return (Array.isArray(node) ? node : Object.values(node)).every(finite);
  };
  if (!finite(value)) return { problem: "A number here is too large for JSON; use a smaller one or a string." };
  if (depth(value) > MAX_VALUE_DEPTH) {
    return { problem: `Values may be nested at most ${MAX_VALUE_DEPTH} levels deep.` };
  }
  return { value };
}

function startEdit(key, value) {
  const form = $("#key-form");
  clearProblems(form);
  state.editingKey = key;
  $("#key-form-title").textContent = `Edit key ${key}`;
  const name = $("#key-name");
  name.value = key;
  name.readOnly = true;
  $("#key-value").value = JSON.stringify(value, null, 2);
  $("#key-submit").textContent = "Save";
  $("#key-cancel").hidden = false;
  $("#key-value").focus();
}

function stopEdit() {
  const form = $("#key-form");
  state.editingKey = null;
  form.reset();
  clearProblems(form);
  $("#key-form-title").textContent = "Add a key";
  $("#key-name").readOnly = false;
  $("#key-submit").textContent = "Add key";
  $("#key-cancel").hidden = true;
}

async function saveKey() {
  const key = state.editingKey ?? $("#key-name").value;
  const errors = [];
  const nameProblem = state.editingKey ? null : keyNameProblem(key);
  if (nameProblem) errors.push({ field: "key", message: nameProblem });
  const parsed = parseJsonValue($("#key-value").value);
  if (parsed.problem) errors.push({ field: "value", message: parsed.problem });
  if (errors.length) throw invalid(errors);

  if (state.editingKey) {
    await api("PUT", `${API}/session/keys/${encodeURIComponent(key)}/`, { value: parsed.value });
    announce(`Key ${key} saved.`);
  } else {
    await api("POST", `${API}/session/keys/`, { key, value: parsed.value });
    announce(`Key ${key} added.`);
  }
  stopEdit();
  $("#key-name").focus();
  await Promise.all([loadKeys(), refreshSessionAndAccount()]);
}

async function deleteKey(key, button) {
  const problem = $("#keys-problem");
  hideProblem(problem);
  button.setAttribute("aria-busy", "true");
  try {
    await api("DELETE", `${API}/session/keys/${encodeURIComponent(key)}/`);
    if (state.editingKey === key) stopEdit();
    announce(`Key ${key} deleted.`);
    await Promise.all([loadKeys(), refreshSessionAndAccount()]);
  } catch (error) {
    showProblem(null, error, problem);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

// --- Expiry ------------------------------------------------------------------------

async function setExpiry(body, message) {
  const expiry = await api("PUT", `${API}/session/expiry/`, body);
  renderExpiry(expiry);
  announce(message);
  await refreshSessionAndAccount();
}

async function setExpirySeconds() {
  const input = $("#expiry-seconds");
  const seconds = Number(input.value);
  if (input.validity.badInput || input.value.trim() === "" || !Number.isInteger(seconds)) {
    throw invalid([{ field: "seconds", message: "Enter a whole number of seconds." }]);
  }
  if (seconds < 1 || seconds > config.limits.max_expiry_seconds) {
    throw invalid([{ field: "seconds", message: `Enter 1 to ${formatNumber(config.limits.max_expiry_seconds)} seconds.` }]);
  }
  await setExpiry({ seconds }, `The session now expires after ${formatNumber(seconds)} s of inactivity.`);
}

async function setExpiryDate() {
  const input = $("#expiry-date");
  const date = input.value ? new Date(input.value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw invalid([{ field: "expires_at", message: "Pick a date and a time." }]);
  }
  if (date.getTime() <= Date.now()) {
    throw invalid([{ field: "expires_at", message: "Pick a time in the future." }]);
  }
  await setExpiry({ expires_at: toIsoWithOffset(date) }, `The session now expires ${date.toLocaleString()}.`);
}

// --- Account -----------------------------------------------------------------------

async function loadAccount(sessionUser) {
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
    const [me, sessions] = await Promise.all([
      api("GET", `${API}/auth/me/`),
      api("GET", `${API}/auth/sessions/`),
    ]);
    $("#account-name").textContent = me.username;
    $("#password-username").value = me.username; // lets password managers pair the fields
    $("#account-email").textContent = me.email ? `(${me.email})` : "";
    renderUserSessions(sessions);
  });
}

function renderUserSessions(sessions) {
  $("#user-sessions").replaceChildren(...sessions.map((item) => {
    const meta = [
      `since ${formatDate(item.created_at)}`,
      item.last_seen_at ? `last seen ${formatDate(item.last_seen_at)}` : null,
      item.ip,
      item.expires_at ? `expires ${formatDate(item.expires_at)}` : null,
    ].filter(Boolean).join(" · ");
    return el("li", {},
      el("div", { class: "row-main" },
        el("strong", { class: "mono", text: item.id }), " ",
        item.current ? el("span", { class: "tag", text: "this session" }) : null,
        el("span", { class: "row-meta", text: meta }),
        item.user_agent ? el("span", { class: "row-meta", text: item.user_agent }) : null),
      item.current ? null : el("div", { class: "row-actions" },
        el("button", { type: "button", class: "small danger", "aria-label": `Revoke session ${item.id}`,
          text: "Revoke", onclick: () => revokeSession(item.id) })));
  }));
  $("#revoke-others").hidden = !sessions.some((item) => !item.current);
}

async function revokeSession(id) {
  await guarded($("#account-problem"), async () => {
    await api("DELETE", `${API}/auth/sessions/${encodeURIComponent(id)}/`);
    announce(`Session ${id} logged out.`);
  });
  await loadAccount(state.user);
}

/** After a login, logout, register, flush or cycle: everything may have changed. */
async function refreshAll() {
  await Promise.all([
    refreshSessionAndAccount(),
    guarded($("#keys-problem"), loadKeys),
    guarded($("#tasks-problem"), loadTasks),
  ]);
}

function readForm(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function requireFields(values, names) {
  const errors = names
    .filter((name) => !String(values[name] ?? "").trim())
    .map((name) => ({ field: name, message: "This field is required." }));
  if (errors.length) throw invalid(errors);
}

async function login(form) {
  const values = readForm(form);
  requireFields(values, ["username", "password"]);
  const user = await api("POST", `${API}/auth/login/`, { username: values.username, password: values.password });
  form.reset();
  announce(`Signed in as ${user.username}.`);
  await refreshAll();
  $("#logout").focus();
}

async function register(form) {
  const values = readForm(form);
  requireFields(values, ["username", "password"]);
  const body = { username: values.username, password: values.password };
  if (values.email.trim()) body.email = values.email.trim();
  const user = await api("POST", `${API}/auth/register/`, body);
  form.reset();
  announce(`Account ${user.username} created; you are signed in.`);
  await refreshAll();
  $("#logout").focus();
}

async function changePassword(form) {
  const values = readForm(form);
  requireFields(values, ["old_password", "new_password"]);
  await api("POST", `${API}/auth/password/`, {
    old_password: values.old_password,
    new_password: values.new_password,
  });
  form.reset();
  announce("Password changed. Your other sessions are logged out.");
  await refreshSessionAndAccount();
}

// --- Tasks -------------------------------------------------------------------------

const REQUIRES_TEXT = { anyone: "", user: " (logged-in users)", staff: " (staff)" };

async function loadTypes() {
  try {
    state.types = await api("GET", `${API}/tasks/types/`);
  } catch (error) {
    if (error.status === 404) {
      const note = $("#tasks-unavailable");
      note.textContent = "Tasks are not available on this server.";
      note.hidden = false;
      $("#tasks .tasks-layout").hidden = true;
      state.types = [];
      return;
    }
    throw error;
  }
  const select = $("#task-type");
  select.replaceChildren(...state.types.map((type) => el("option", {
    value: type.name, text: `${type.name}${REQUIRES_TEXT[type.requires] ?? ""}`,
  })));
  renderArgs();
}

const currentType = () => state.types?.find((type) => type.name === $("#task-type").value);
const argId = (name) => `arg-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
const shownBound = (value) => typeof value === "number" && Math.abs(value) < SHOWN_BOUND;

function constraintText(schema, kind) {
  const parts = [];
  if (kind === "number" || kind === "integer") {
    const low = shownBound(schema.minimum) ? schema.minimum : null;
    const high = shownBound(schema.maximum) ? schema.maximum : null;
    if (low !== null && high !== null) parts.push(`From ${low} to ${high}.`);
    else if (low !== null) parts.push(`At least ${low}.`);
    else if (high !== null) parts.push(`At most ${high}.`);
  }
  if (kind === "string" && schema.maxLength) parts.push(`At most ${formatNumber(schema.maxLength)} characters.`);
  if (kind === "lines") {
    parts.push("One per line.");
    if (schema.minItems || schema.maxItems) {
      parts.push(`${schema.minItems ?? 0} to ${schema.maxItems ?? "any number of"} items.`);
    }
  }
  if (kind === "json") parts.push("Any JSON.");
  if (schema.default !== undefined && kind !== "boolean") parts.push(`Default ${JSON.stringify(schema.default)}.`);
  return parts.join(" ");
}

function kindOf(schema) {
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return schema.type;
  if (schema.type === "string") return Array.isArray(schema.enum) ? "choice" : "string";
  if (schema.type === "array" && schema.items?.type === "string") return "lines";
  return "json";
}

/** One form field for one property of a type's JSON Schema. */
function argField(name, schema, required) {
  const id = argId(name);
  const kind = kindOf(schema);
  const hint = [schema.description, constraintText(schema, kind)].filter(Boolean).join(" ");
  const describedBy = `${hint ? `${id}-hint ` : ""}${id}-error`;
  const common = { id, name, "data-arg": name, "data-kind": kind, "aria-describedby": describedBy };
  let control;
  switch (kind) {
    case "boolean":
      control = el("input", { ...common, type: "checkbox", checked: schema.default === true });
      break;
    case "integer":
    case "number":
      control = el("input", {
        ...common,
        type: "number",
        step: kind === "integer" ? "1" : "any",
        inputmode: kind === "integer" ? "numeric" : "decimal",
        min: shownBound(schema.minimum) ? schema.minimum : null,
        max: shownBound(schema.maximum) ? schema.maximum : null,
        value: schema.default ?? null,
        required,
      });
      break;
    case "choice":
      control = el("select", common, ...schema.enum.map((option) => el("option", {
        value: option, text: option, selected: option === schema.default,
      })));
      break;
    case "string": {
      const long = !schema.maxLength || schema.maxLength > 200;
      control = long
        ? el("textarea", { ...common, rows: 3, maxlength: schema.maxLength ?? null, required })
        : el("input", {
          ...common,
          type: schema.format === "email" ? "email" : "text",
          maxlength: schema.maxLength ?? null,
          required,
        });
      if (schema.default !== undefined) control.value = schema.default;
      break;
    }
    case "lines":
      control = el("textarea", { ...common, rows: 3, spellcheck: "false", required });
      if (Array.isArray(schema.default)) control.value = schema.default.join("\n");
      break;
    default:
      control = el("textarea", { ...common, rows: 3, spellcheck: "false", class: "mono", required });
      if (schema.default !== undefined) control.value = JSON.stringify(schema.default);
  }
  const label = kind === "boolean"
    ? el("label", { class: "check", for: id }, control, name)
    : el("label", { for: id }, name, required ? null : el("span", { class: "muted", text: " (optional)" }));
  return el("div", { class: "field", "data-field": `args.${name}` },
    label,
    kind === "boolean" ? null : control,
    hint ? el("p", { class: "hint", id: `${id}-hint` }, ...withCode(hint)) : null,
    el("p", { class: "field-error", id: `${id}-error` }));
}

function renderArgs() {
  const type = currentType();
  const box = $("#task-args-fields");
  clearProblems($("#task-form"));
  if (!type) {
    box.replaceChildren();
    return;
  }
  renderTypeDescription();
  const properties = type.args.properties ?? {};
  const required = new Set(type.args.required ?? []);
  const names = Object.keys(properties);
  box.replaceChildren(...(names.length
    ? names.map((name) => argField(name, properties[name], required.has(name)))
    : [el("p", { class: "muted", text: "This type takes no arguments." })]));
}

function renderTypeDescription() {
  const type = currentType();
  if (!type) return;
  let description = type.description;
  if (type.requires === "user" && !state.user) description += " Log in to run this type.";
  if (type.requires === "staff") description += " Only staff users may run this type.";
  $("#task-type-description").replaceChildren(...withCode(description));
}

/** Text with `backticks` (as in the type descriptions) as nodes, the quoted parts as code. */
function withCode(text) {
  return text.split("`").map((part, index) => (index % 2 ? el("code", { text: part }) : part));
}

/** Read and check the generated form against the type's schema; returns {args, errors}. */
function readArgs(type) {
  const args = {};
  const errors = [];
  const properties = type.args.properties ?? {};
  const required = new Set(type.args.required ?? []);
  for (const [name, schema] of Object.entries(properties)) {
    const control = document.getElementById(argId(name));
    const kind = control.dataset.kind;
    const fail = (message) => errors.push({ field: `args.${name}`, message });
    if (kind === "boolean") {
      args[name] = control.checked;
      continue;
    }
    const raw = control.value;
    if (control.validity?.badInput) {
      fail("Enter a number.");
      continue;
    }
    if (kind !== "string" && raw.trim() === "") {
      if (required.has(name)) fail("This field is required.");
      continue;
    }
    if (kind === "integer" || kind === "number") {
      const number = Number(raw);
      if (!Number.isFinite(number)) fail("Enter a number.");
      else if (kind === "integer" && !Number.isInteger(number)) fail("Enter a whole number.");
      else if (typeof schema.minimum === "number" && number < schema.minimum) fail(`Enter at least ${schema.minimum}.`);
      else if (typeof schema.maximum === "number" && number > schema.maximum) fail(`Enter at most ${schema.maximum}.`);
      else args[name] = number;
    } else if (kind === "string" || kind === "choice") {
      if (raw === "" && !required.has(name)) continue;
      if (schema.maxLength && raw.length > schema.maxLength) {
        fail(`Use at most ${formatNumber(schema.maxLength)} characters.`);
      } else {
        args[name] = raw;
      }
    } else if (kind === "lines") {
      const items = raw.split("\n").map((line) => line.trim()).filter(Boolean);
      if (schema.minItems && items.length < schema.minItems) fail(`Give at least ${schema.minItems}.`);
      else if (schema.maxItems && items.length > schema.maxItems) fail(`Give at most ${schema.maxItems}.`);
      else args[name] = items;
    } else {
      const parsed = parseJsonValue(raw);
      if (parsed.problem) fail(parsed.problem);
      else args[name] = parsed.value;
    }
  }
  return { args, errors };
}

async function enqueue() {
  const type = currentType();
  if (!type) throw invalid([{ field: "name", message: "Pick a task type." }]);
  const { args, errors } = readArgs(type);
  const countdownInput = $("#task-countdown");
  const countdown = countdownInput.value.trim() === "" ? 0 : Number(countdownInput.value);
  if (!Number.isInteger(countdown) || countdown < 0 || countdown > MAX_COUNTDOWN) {
    errors.push({ field: "countdown", message: `Enter 0 to ${MAX_COUNTDOWN} seconds.` });
  }
  if (errors.length) throw invalid(errors);
  const body = { name: type.name, args };
  if (countdown) body.countdown = countdown;
  const task = await api("POST", `${API}/tasks/`, body);
  upsertTask(task, { prepend: true });
  announce(`Task ${task.name} queued.`);
  startPolling();
}

async function loadTasks() {
  if (state.types && state.types.length === 0) return; // tasks are not on this server
  let page;
  try {
    page = await api("GET", `${API}/tasks/`);
  } catch (error) {
    if (error.status === 404) return;
    throw error;
  }
  state.tasks.clear();
  $("#task-list").replaceChildren();
  for (const task of page.results) upsertTask(task);
  startPolling();
}

function statusLine(task) {
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

/** Create or update one task in the list, in place, so focus is kept while polling. */
function upsertTask(task, { prepend = false } = {}) {
  let entry = state.tasks.get(task.id);
  if (!entry) {
    const view = {
      item: el("li", { class: "task", "data-task-id": task.id }),
      badge: el("span", { class: "badge" }),
      bar: el("progress", { max: 100, "aria-label": `Progress of ${task.name}` }),
      line: el("p", { class: "task-line" }),
      outcome: el("div", {}),
      problem: el("p", { class: "problem", role: "alert", hidden: true }),
      cancel: el("button", {
        type: "button", class: "small danger", text: "Cancel", "aria-label": `Cancel task ${task.name}`,
      }),
      lastPercent: 0,
    };
    view.item.append(
      el("div", { class: "task-head" },
        el("strong", { class: "mono", text: task.name }),
        view.badge,
        el("time", { datetime: task.created_at, text: formatDate(task.created_at) })),
      view.bar,
      view.line,
      el("p", { class: "task-line mono", text: `args ${JSON.stringify(task.args)}` }),
      view.outcome,
      view.problem,
      el("div", { class: "actions" }, view.cancel));
    view.cancel.addEventListener("click", () => cancelTask(task.id));
    entry = { task, view };
    state.tasks.set(task.id, entry);
    const list = $("#task-list");
    if (prepend) list.prepend(view.item);
    else list.append(view.item);
  }
  entry.task = task;
  const { view } = entry;
  view.item.className = `task ${task.status}`;
  view.badge.className = `badge ${task.status}`;
  view.badge.textContent = task.status;
  let percent = null;
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
    view.outcome.replaceChildren(el("p", { class: "task-error", text: `${task.error.type}: ${task.error.message}` }));
  } else {
    view.outcome.replaceChildren();
  }
  view.cancel.hidden = FINAL_STATES.has(task.status);
  $("#tasks-empty").hidden = state.tasks.size > 0;
}

async function cancelTask(id) {
  const entry = state.tasks.get(id);
  if (!entry) return;
  const { view } = entry;
  hideProblem(view.problem);
  view.cancel.setAttribute("aria-busy", "true");
  try {
    const task = await api("POST", `${API}/tasks/${encodeURIComponent(id)}/cancel/`);
    upsertTask(task);
    announce(`Cancelling task ${task.name}.`);
    startPolling();
  } catch (error) {
    showProblem(null, error, view.problem);
  } finally {
    view.cancel.removeAttribute("aria-busy");
  }
}

/** Poll every unfinished task until none is left. */
function startPolling() {
  if (state.polling) return;
  state.polling = true;
  const round = async () => {
    const open = [...state.tasks.values()].filter(({ task }) => !FINAL_STATES.has(task.status));
    if (!open.length) {
      state.polling = false;
      return;
    }
    await Promise.all(open.map(async ({ task, view }) => {
      try {
        upsertTask(await api("GET", `${API}/tasks/${encodeURIComponent(task.id)}/`));
      } catch (error) {
        if (error.status === 404) { // no longer ours (logged out): drop it
          view.item.remove();
          state.tasks.delete(task.id);
        } else {
          showProblem(null, error, view.problem);
        }
      }
    }));
    setTimeout(round, POLL_MS);
  };
  setTimeout(round, POLL_MS);
}

// --- Wiring ------------------------------------------------------------------------

function wire() {
  onClick($("#session-refresh"), $("#session-problem"), async () => {
    await refreshAll();
    announce("Refreshed.");
  });
  onClick($("#session-cycle"), $("#session-problem"), async () => {
    const session = await api("POST", `${API}/session/cycle/`);
    renderSession(session);
    announce(`New session key; fingerprint ${session.id}.`);
    await loadAccount(session.user);
  });
  onClick($("#session-flush"), $("#session-problem"), async () => {
    await api("DELETE", `${API}/session/`);
    stopEdit();
    announce("Session flushed: keys deleted, logged out.");
    await refreshAll();
  });

  onSubmit($("#key-form"), saveKey);
  $("#key-cancel").addEventListener("click", () => {
    stopEdit();
    $("#key-name").focus();
  });
  onClick($("#keys-clear"), $("#keys-problem"), async () => {
    await api("DELETE", `${API}/session/keys/`);
    stopEdit();
    announce("All keys deleted.");
    await Promise.all([loadKeys(), refreshSessionAndAccount()]);
  });

  onSubmit($("#expiry-seconds-form"), setExpirySeconds);
  onSubmit($("#expiry-date-form"), setExpiryDate);
  onClick($("#expiry-browser"), $("#expiry-problem"), () =>
    setExpiry({ at_browser_close: true }, "The session now ends when the browser closes."));
  onClick($("#expiry-default"), $("#expiry-problem"), async () => {
    renderExpiry(await api("DELETE", `${API}/session/expiry/`));
    announce("The session is back to the default expiry.");
    await refreshSessionAndAccount();
  });

  onSubmit($("#login-form"), login);
  onSubmit($("#register-form"), register);
  onSubmit($("#password-form"), changePassword);
  onClick($("#logout"), $("#account-problem"), async () => {
    await api("POST", `${API}/auth/logout/`);
    announce("Logged out.");
    await refreshAll();
    $("#login-username").focus();
  });
  onClick($("#revoke-others"), $("#account-problem"), async () => {
    const { revoked } = await api("DELETE", `${API}/auth/sessions/`);
    announce(`${revoked} other session${revoked === 1 ? "" : "s"} logged out.`);
    await loadAccount(state.user);
  });

  $("#task-type").addEventListener("change", renderArgs);
  onSubmit($("#task-form"), enqueue);
  onClick($("#tasks-refresh"), $("#tasks-problem"), loadTasks);
}

async function start() {
  if (!config.allowRegistration) $("#register-box").hidden = true;
  $("#expiry-seconds").value = 300;
  $("#expiry-date").value = toLocalInput(new Date(Date.now() + 3600 * 1000));
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
  document.body.dataset.ready = "true"; // for tests and curious humans: first load done
}

start();
