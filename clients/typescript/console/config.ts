/**
 * The page's config, rendered by the server (api_project/console.py) into a JSON
 * `<script type="application/json">` element: not executed, so the page's
 * Content-Security-Policy needs no inline script. The rules the console shows and
 * checks (key names, limits, task states and bounds) come from here, where the server
 * put them from the modules that define them; none is typed into the console.
 */

import type { StatusEnum } from "../src/index.js";

export interface PageConfig {
  csrfCookieName: string;
  csrfHeaderName: string;
  allowRegistration: boolean;
  /** The key-name rule as JSON Schema. */
  keyName: { type: "string"; minLength: number; maxLength: number; pattern: string };
  limits: {
    max_value_bytes: number;
    max_session_bytes: number;
    max_keys: number;
    max_expiry_seconds: number;
    max_value_depth: number;
  };
  tasks: {
    states: StatusEnum[];
    final_states: StatusEnum[];
    max_countdown_seconds: number;
  };
}

export function readConfig(id = "console-config"): PageConfig {
  const node = document.getElementById(id);
  if (!node?.textContent) throw new Error(`The page has no #${id} element.`);
  return JSON.parse(node.textContent) as PageConfig;
}
