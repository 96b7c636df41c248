// Transpile the tests (and what they import) for Node's test runner, into .test-build/.
// Types are checked by `npm run typecheck`; this only strips them, in milliseconds.
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const tests = readdirSync(`${root}test`).filter((name) => name.endsWith(".test.ts"));
rmSync(`${root}.test-build`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: tests.map((name) => `test/${name}`),
  outdir: ".test-build",
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
