/** The checks the console makes before sending, by the server's rules (page config). */

import type { JsonValue } from "../src/index.js";
import type { PageConfig } from "./config.js";

export function keyNameProblem(name: string, rule: PageConfig["keyName"]): string | null {
  if (name.length < rule.minLength) return "Enter a key name.";
  if (name.length > rule.maxLength) return `Key names are at most ${rule.maxLength} characters.`;
  if (name.startsWith("_")) return "Names starting with _ are reserved for the server.";
  if (!new RegExp(rule.pattern).test(name)) {
    return "Use only letters, digits and _ . : - , starting with a letter or digit.";
  }
  return null;
}

export type Parsed = { value: JsonValue; problem?: undefined } | { problem: string };

function depth(node: unknown): number {
  if (node === null || typeof node !== "object") return 1;
  const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, depth(child)), 0);
}

function finite(node: unknown): boolean {
  if (typeof node === "number") return Number.isFinite(node);
  if (node === null || typeof node !== "object") return true;
  return (Array.isArray(node) ? node : Object.values(node)).every(finite);
}

/** Parse a JSON value the way the server will judge it: finite numbers, bounded depth. */
export function parseJsonValue(text: string, maxDepth: number): Parsed {
  if (!text.trim()) return { problem: 'Enter a JSON value, e.g. 42, "text", [1, 2] or {"a": true}.' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problem: `This is not valid JSON (${reason}). Strings need double quotes.` };
  }
  if (!finite(value)) return { problem: "A number here is too large for JSON; use a smaller one or a string." };
  if (depth(value) > maxDepth) return { problem: `Values may be nested at most ${maxDepth} levels deep.` };
  return { value };
}
