/** DOM and formatting helpers: elements are built, never parsed from HTML. */

/** The first element matching `selector`; a missing one is a bug in the page. */
export function $<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E {
  const node = root.querySelector<E>(selector);
  if (!node) throw new Error(`The console page has no ${selector}.`);
  return node;
}

/** The first element matching `selector`, or null. */
export function maybe<E extends Element = HTMLElement>(
  selector: string,
  root: ParentNode = document,
): E | null {
  return root.querySelector<E>(selector);
}

type Prop = string | number | boolean | null | undefined | ((event: Event) => void);
type Child = Node | string | null | undefined | false;

/** Build an element: `el("p", {class: "x", text: "hi"}, child, ...)`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, Prop> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = String(value);
    else if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child): child is Node | string => Boolean(child) || child === ""));
  return node;
}

export function announce(message: string): void {
  const status = $("#status");
  status.textContent = "";
  // A fresh text node on the next frame, so the same message twice is announced twice.
  requestAnimationFrame(() => {
    status.textContent = message;
  });
}

const pad = (number: number) => String(number).padStart(2, "0");

export function formatDuration(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  return days ? `${days} d ${clock}` : clock;
}

export const formatDate = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString() : "—";
export const formatNumber = (number: number): string => Number(number).toLocaleString();

/** A local date as ISO 8601 with the browser's UTC offset, e.g. 2026-11-25T19:45:00+01:00. */
export function toIsoWithOffset(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${toLocalInput(date)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The value for a datetime-local input. */
export function toLocalInput(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** Text with `backticks` (as in the type descriptions) as nodes, the quoted parts as code. */
export function withCode(text: string): (Node | string)[] {
  return text.split("`").map((part, index) => (index % 2 ? el("code", { text: part }) : part));
}
