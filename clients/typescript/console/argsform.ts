/**
 * The form of a task type's arguments, built from the JSON Schema of its `args` that
 * `GET /api/v1/tasks/types/` returns, and read back with the same schema's bounds.
 */

import type { FieldError, TaskType } from "../src/index.js";
import { el, formatNumber, withCode } from "./dom.js";
import { parseJsonValue } from "./values.js";

/** The part of JSON Schema the form understands. */
interface ArgSchema {
  type?: string;
  description?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  default?: unknown;
  items?: ArgSchema;
}

interface ArgsSchema {
  properties?: Record<string, ArgSchema>;
  required?: string[];
}

type Kind = "boolean" | "integer" | "number" | "choice" | "string" | "lines" | "json";

// drf-spectacular writes ±1e300 for "any finite number": not a bound worth showing.
const SHOWN_BOUND = 1e15;

export const argId = (name: string): string => `arg-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
const shownBound = (value: unknown): value is number =>
  typeof value === "number" && Math.abs(value) < SHOWN_BOUND;

const argsOf = (type: TaskType): ArgsSchema => type.args as ArgsSchema;

function kindOf(schema: ArgSchema): Kind {
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return schema.type;
  if (schema.type === "string") return Array.isArray(schema.enum) ? "choice" : "string";
  if (schema.type === "array" && schema.items?.type === "string") return "lines";
  return "json";
}

function constraintText(schema: ArgSchema, kind: Kind): string {
  const parts: string[] = [];
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

/** One form field for one property of a type's JSON Schema. */
function argField(name: string, schema: ArgSchema, required: boolean): HTMLElement {
  const id = argId(name);
  const kind = kindOf(schema);
  const hint = [schema.description, constraintText(schema, kind)].filter(Boolean).join(" ");
  const describedBy = `${hint ? `${id}-hint ` : ""}${id}-error`;
  const common = { id, name, "data-arg": name, "data-kind": kind, "aria-describedby": describedBy };
  let control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
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
        value: typeof schema.default === "number" ? schema.default : null,
        required,
      });
      break;
    case "choice":
      control = el(
        "select",
        common,
        ...(schema.enum ?? []).map((option) =>
          el("option", { value: option, text: option, selected: option === schema.default }),
        ),
      );
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
      if (typeof schema.default === "string") control.value = schema.default;
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
  const label =
    kind === "boolean"
      ? el("label", { class: "check", for: id }, control, name)
      : el("label", { for: id }, name, required ? null : el("span", { class: "muted", text: " (optional)" }));
  return el(
    "div",
    { class: "field", "data-field": `args.${name}` },
    label,
    kind === "boolean" ? null : control,
    hint ? el("p", { class: "hint", id: `${id}-hint` }, ...withCode(hint)) : null,
    el("p", { class: "field-error", id: `${id}-error` }),
  );
}

/** The fields for `type`'s arguments (a note when it takes none). */
export function argFields(type: TaskType): HTMLElement[] {
  const { properties = {}, required = [] } = argsOf(type);
  const names = Object.keys(properties);
  if (!names.length) return [el("p", { class: "muted", text: "This type takes no arguments." })];
  return names.map((name) => argField(name, properties[name] ?? {}, required.includes(name)));
}

/** Read and check the generated form against the type's schema. */
export function readArgs(
  type: TaskType,
  maxDepth: number,
): { args: Record<string, unknown>; errors: Omit<FieldError, "code">[] } {
  const args: Record<string, unknown> = {};
  const errors: Omit<FieldError, "code">[] = [];
  const { properties = {}, required = [] } = argsOf(type);
  for (const [name, schema] of Object.entries(properties)) {
    const control = document.getElementById(argId(name)) as HTMLInputElement | HTMLTextAreaElement;
    const kind = control.dataset["kind"] as Kind;
    const fail = (message: string) => errors.push({ field: `args.${name}`, message });
    const isRequired = required.includes(name);
    if (kind === "boolean") {
      args[name] = (control as HTMLInputElement).checked;
      continue;
    }
    const raw = control.value;
    if ("validity" in control && control.validity.badInput) {
      fail("Enter a number.");
      continue;
    }
    if (kind !== "string" && raw.trim() === "") {
      if (isRequired) fail("This field is required.");
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
      if (raw === "" && !isRequired) continue;
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
      const parsed = parseJsonValue(raw, maxDepth);
      if (parsed.problem !== undefined) fail(parsed.problem);
      else args[name] = parsed.value;
    }
  }
  return { args, errors };
}
