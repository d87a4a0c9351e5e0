/**
 * The README and docs/ stay short, linked and true to the code: the README fits on a few
 * screens, every link resolves, every config key and result code is documented, and file paths
 * of the tree are named only in docs/development.md (which lists every src/ folder).
 */
import assert from "node:assert/strict";
import { ConfigSchema } from "../../src/config/mod.ts";
import { Code } from "../../src/model/mod.ts";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(root + path);
const docPages = [...Deno.readDirSync(root + "docs")]
  .filter((e) => e.isFile && e.name.endsWith(".md")).map((e) => `docs/${e.name}`).sort();
const pages = ["README.md", ...docPages];

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/ /g, "-");
}

/** A page's text without its fenced code blocks. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");

Deno.test("the README is at most 8 KB and shows scripts/agent and scripts/test on its first screen", async () => {
  const readme = await read("README.md");
  const bytes = new TextEncoder().encode(readme).length;
  assert.ok(bytes <= 8192, `README.md is ${bytes} bytes: move the detail to docs/`);
  const firstScreen = readme.split("\n").slice(0, 24).join("\n");
  assert.match(firstScreen, /^scripts\/agent\b/m);
  assert.match(firstScreen, /^scripts\/test\b/m);
});

Deno.test("the README links every page of docs/", async () => {
  const readme = await read("README.md");
  for (const page of docPages) {
    assert.ok(readme.includes(`](${page})`), `README.md does not link ${page}`);
  }
});

Deno.test("every relative link of the README and docs/ leads to a file, and its #anchor to a heading there", async () => {
  const headings = new Map<string, Set<string>>();
  for (const page of pages) {
    const text = prose(await read(page));
    headings.set(page, new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!))));
  }
  const broken: string[] = [];
  for (const page of pages) {
    const dir = page.includes("/") ? page.slice(0, page.lastIndexOf("/") + 1) : "";
    for (const [, target] of prose(await read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [file, anchor] = target!.split("#") as [string, string | undefined];
      const path = file === "" ? page : new URL(file, `file:///${dir}`).pathname.slice(1);
      const exists = await Deno.stat(root + path).then(() => true, () => false);
      if (!exists) broken.push(`${page}: ${target} (no file ${path})`);
      else if (anchor !== undefined && !headings.get(path)?.has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${path})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

/** Every key name of a zod schema, nested objects included. */
function schemaKeys(schema: unknown, out = new Set<string>(), seen = new Set<unknown>()) {
  if (!schema || seen.has(schema)) return out;
  seen.add(schema);
  // deno-lint-ignore no-explicit-any
  const def = (schema as any)._zod?.def;
  if (!def) return out;
  for (const [key, value] of Object.entries(def.shape ?? {})) {
    out.add(key);
    schemaKeys(value, out, seen);
  }
  for (const field of ["innerType", "element", "valueType", "in", "out"]) {
    schemaKeys(def[field], out, seen);
  }
  for (const option of def.options ?? []) schemaKeys(option, out, seen);
  return out;
}

Deno.test("docs/configuration.md names every key of config.json", async () => {
  const page = await read("docs/configuration.md");
  const keys = [...schemaKeys(ConfigSchema)];
  assert.ok(keys.length > 50 && keys.includes("CommandTopic") && keys.includes("Argv"));
  const missing = keys.filter((k) => !page.includes(`\`${k}\``));
  assert.deepEqual(missing, [], "keys not in docs/configuration.md");
});

Deno.test("docs/remote.md's code table lists every result code", async () => {
  const page = await read("docs/remote.md");
  for (const [name, value] of Object.entries(Code)) {
    const code = value === 0 ? "0" : `0x${value.toString(16).padStart(4, "0")}`;
    assert.match(page, new RegExp(`^\\| \`${code}\` \\| .+ \\|$`, "m"), `${name} (${code})`);
  }
});

/** Paths into the tree a page names (`src/…`, `tests/…`, `scripts/…`, …), as written. */
function treePaths(text: string): string[] {
  const found = text.matchAll(
    /(?<![\w/.<-])(?:src|tests|scripts|packaging|config|rules)\/[\w./-]*/g,
  );
  return [...found].map((m) => m[0].replace(/[.,:;]+$/, ""));
}

Deno.test("every path of the tree the README and docs/ name exists", async () => {
  const missing: string[] = [];
  for (const page of pages) {
    for (const path of treePaths(await read(page))) {
      if (!await Deno.stat(root + path).then(() => true, () => false)) {
        missing.push(`${page}: ${path}`);
      }
    }
  }
  assert.deepEqual(missing, [], "rename them in the docs (source paths: docs/development.md)");
});

Deno.test("only docs/development.md names source and test files", async () => {
  const named: string[] = [];
  for (const page of pages.filter((p) => p !== "docs/development.md")) {
    for (const path of treePaths(await read(page))) {
      if (/^(src|tests)\//.test(path)) named.push(`${page}: ${path}`);
    }
  }
  assert.deepEqual(named, [], "describe behaviour there; name files in docs/development.md");
});

Deno.test("docs/development.md's layout lists every folder of src/, and no other", async () => {
  const page = await read("docs/development.md");
  const listed = [...page.matchAll(/^\| `src\/(\w+)\/` \|/gm)].map((m) => m[1]!).sort();
  const folders = [...Deno.readDirSync(root + "src")].filter((e) => e.isDirectory)
    .map((e) => e.name).sort();
  assert.deepEqual(listed, folders, "update the Layout table of docs/development.md");
});
