// Bundle the console (console/main.ts and the client it imports) into the service's
// static files: api_project/static/console/console.js and its source map.
//
// The output is committed, so the service runs without Node; it depends only on the
// sources, the lock file's esbuild and openapi-fetch, and the options below (no
// absolute paths, no dates), so a rebuild of an unchanged checkout is byte-identical.
// `--check` builds in memory and exits 1 when the committed files differ.
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const outfile = new URL("../../../api_project/static/console/console.js", import.meta.url).pathname;
const check = process.argv.includes("--check");

const result = await build({
  absWorkingDir: root,
  entryPoints: ["console/main.ts"],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox111", "safari16.4"],
  minify: true,
  sourcemap: "linked",
  sourcesContent: true,
  legalComments: "linked",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});

let stale = [];
for (const file of result.outputFiles) {
  const name = relative(process.cwd(), file.path);
  if (check) {
    let committed = null;
    try {
      committed = readFileSync(file.path);
    } catch {
      // missing: stale
    }
    if (!committed || !Buffer.from(file.contents).equals(committed)) stale.push(name);
  } else {
    writeFileSync(file.path, file.contents);
    console.log(`${name}: ${file.contents.length} bytes`);
  }
}
if (stale.length) {
  console.error(`Stale: ${stale.join(", ")}. Run \`npm run build\` in clients/typescript and commit the result.`);
  process.exit(1);
}
