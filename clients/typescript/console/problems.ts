/**
 * Showing errors: the server's (`ApiError`, from its problem document) and the
 * console's own checks (`FormProblem`, nothing sent) alike, each field error next to
 * its field and the `detail` in the form's problem box.
 */

import { ApiError, type FieldError } from "../src/index.js";
import { $, el, maybe } from "./dom.js";

/** A check in the browser failed: nothing was sent. */
export class FormProblem extends Error {
  readonly code = "invalid";
  readonly detail: string;
  constructor(
    readonly errors: FieldError[],
    message = errors.length === 1
      ? "Check the highlighted field; nothing was sent."
      : `Check the ${errors.length} highlighted fields; nothing was sent.`,
  ) {
    super(message);
    this.detail = this.message;
  }
}

/** Field errors found in the browser (the `code` is the console's own, not the server's). */
export function invalid(errors: { field: string; message: string }[]): FormProblem {
  return new FormProblem(errors.map((item) => ({ ...item, code: "invalid" })));
}

type Shown = ApiError | FormProblem;

/** What a problem says, with the wait of a 429. */
function messageOf(error: Shown): string {
  if (error instanceof ApiError && error.status === 429 && error.retryAfter !== null) {
    return `${error.detail} Try again in ${error.retryAfter} s.`;
  }
  return error.detail || error.message;
}

// Errors without an `errors` list that still belong to one field, by the server's code.
const CODE_FIELDS: Record<string, string> = {
  invalid_key: "key",
  reserved_key: "key",
  key_exists: "key",
  value_too_large: "value",
  unknown_task: "name",
};

export function hideProblem(node: HTMLElement): void {
  node.hidden = true;
  node.replaceChildren();
}

export function clearProblems(root: ParentNode): void {
  for (const node of root.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of root.querySelectorAll<HTMLElement>(".problem")) hideProblem(node);
}

/** The `.field` for an error's path: `args.to.0` falls back to `args.to`. */
function fieldFor(root: ParentNode, path: string): HTMLElement | null {
  let name = path;
  while (name) {
    const field = maybe(`.field[data-field="${CSS.escape(name)}"]`, root);
    if (field) return field;
    const dot = name.lastIndexOf(".");
    if (dot < 0) return null;
    name = name.slice(0, dot);
  }
  return null;
}

/**
 * Show `error` in `root`: each field error under its field (and the field marked
 * invalid), the problem's `detail` and any unplaced field errors in `problemNode`.
 */
export function showProblem(
  root: ParentNode | null,
  caught: unknown,
  problemNode: HTMLElement = $(".problem", root ?? document),
): void {
  let error: Shown;
  if (caught instanceof ApiError || caught instanceof FormProblem) {
    error = caught;
  } else {
    console.error(caught);
    const text = caught instanceof Error ? caught.message : String(caught);
    error = new FormProblem([], `Something went wrong in the console: ${text}`);
  }
  const message = messageOf(error);
  const unplaced: FieldError[] = [];
  const errors = [...error.errors];
  const codeField = CODE_FIELDS[error.code];
  if (!errors.length && codeField) errors.push({ field: codeField, code: error.code, message });
  for (const item of errors) {
    const field = root && fieldFor(root, item.field);
    if (!field) {
      unplaced.push(item);
      continue;
    }
    const out = $(".field-error", field);
    out.textContent = out.textContent ? `${out.textContent} ${item.message}` : item.message;
    maybe("input, textarea, select", field)?.setAttribute("aria-invalid", "true");
  }
  const parts: Node[] = [el("span", { text: message })];
  const extra = unplaced.filter((item) => item.message !== message);
  if (extra.length) {
    const line = (item: FieldError) =>
      item.field && item.field !== "non_field_errors" ? `${item.field}: ${item.message}` : item.message;
    parts.push(el("ul", {}, ...extra.map((item) => el("li", { text: line(item) }))));
  }
  problemNode.replaceChildren(...parts);
  problemNode.hidden = false;
  const firstInvalid = root && maybe('[aria-invalid="true"]', root);
  firstInvalid?.focus();
}

/** A button that runs `work`, shows its error in `problemNode`, and ignores double clicks. */
export function onClick(button: HTMLElement, problemNode: HTMLElement, work: () => Promise<unknown>): void {
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
export function onSubmit(form: HTMLFormElement, work: (form: HTMLFormElement) => Promise<unknown>): void {
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
export async function guarded<T>(problemNode: HTMLElement, work: () => Promise<T>): Promise<T | undefined> {
  try {
    hideProblem(problemNode);
    return await work();
  } catch (error) {
    showProblem(null, error, problemNode);
    return undefined;
  }
}
