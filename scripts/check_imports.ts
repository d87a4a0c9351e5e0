/**
 * The import check of `scripts/test` (a static check, counted like fmt, lint and type-check):
 * fails on
 *   - an import cycle among the modules of `src/` (type-only imports included: a cycle of types
 *     is still two modules that cannot be understood one without the other), and
 *   - an import of another folder's private file, from `src/`, `tests/` or `scripts/`. A file or
 *     folder whose name starts with `_` is private to the folder that holds it: only files in
 *     that folder (or below it) may import it, and its test twin (`tests/x/` for `src/x/` or
 *     `scripts/x/`). Anyone else goes through the folder's `mod.ts`.
 *
 * The module graph is Deno's own (`deno info --json`), so every import form counts: static,
 * `export … from`, `import type`, dynamic `import("…")` with a literal specifier.
 *
 * Findings listed in `scripts/check_imports.allow` are reported but do not fail, until the
 * allowlist is emptied; an allowlisted finding that is gone fails the check too, so the list only
 * ever shrinks (remove its line).
 *
 * ```sh
 * scripts/deno run -A scripts/check_imports.ts [--root DIR] [--allow FILE] [--no-allow]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** One import: `from` imports `to` (both paths relative to the repository root, `/`-separated). */
export interface ImportEdge {
  from: string;
  to: string;
  /** true when the import is erased at run time (`import type`). */
  typeOnly: boolean;
}

/** The folders whose files are checked; `tests/testdata/` holds fixtures, not modules. */
export const CHECKED = ["main.ts", "src", "tests", "scripts"];
const SKIPPED = [/^tests\/testdata\//, /(^|\/)node_modules\//];

/**
 * Each import cycle among `src/` modules, as one line naming its files in import order
 * (`a.ts → b.ts → a.ts`), starting at the first file by name. A group of files that import each
 * other in several loops (one strongly connected component) is one finding: its files, in the
 * order of one loop through them all where there is one, else sorted.
 */
export function findCycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!e.from.startsWith("src/") || !e.to.startsWith("src/") || e.from === e.to) continue;
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.to);
  }
  return stronglyConnected(next).map((group) => {
    const loop = shortestLoop(next, group);
    return `cycle: ${loop.join(" → ")}`;
  }).sort();
}

/** Tarjan's algorithm, iteratively; only components of two or more files. */
function stronglyConnected(next: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: [string, Iterator<string>][] = [];
    const visit = (v: string) => {
      index.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      work.push([v, [...(next.get(v) ?? [])].sort()[Symbol.iterator]()]);
    };
    visit(start);
    while (work.length) {
      const [v, it] = work[work.length - 1]!;
      const step = it.next();
      if (!step.done) {
        const w = step.value;
        if (!index.has(w)) visit(w);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const group: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          group.push(w);
        } while (w !== v);
        if (group.length > 1) groups.push(group.sort());
      }
    }
  }
  return groups;
}

/** The shortest loop from the group's first file back to it (breadth first), closed. */
function shortestLoop(next: Map<string, Set<string>>, group: string[]): string[] {
  const members = new Set(group);
  const start = group[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of [...(next.get(v) ?? [])].sort()) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...group, start];
}

/**
 * The folder a path is private to, or undefined when it is public: the folder holding its
 * deepest `_`-named part (`src/collectd/_protocol.ts` → `src/collectd`,
 * `tests/_helpers/ports.ts` → `tests`).
 */
export function privateTo(path: string): string | undefined {
  const parts = path.split("/");
  for (let i = parts.length - 1; i > 0; i--) {
    if (parts[i]!.startsWith("_")) return parts.slice(0, i).join("/");
  }
  return undefined;
}

/** Whether `file` lies in `folder` or below it. */
function within(file: string, folder: string): boolean {
  return file.startsWith(folder + "/");
}

/** The test twin of a folder: `src/x` and `scripts/x` → `tests/x`; undefined for others. */
export function testTwin(folder: string): string | undefined {
  const m = /^(?:src|scripts)(\/.*)?$/.exec(folder);
  return m ? `tests${m[1] ?? ""}` : undefined;
}

/** Each import of a private file from outside the folder it is private to (and its twin). */
export function findPrivateImports(edges: readonly ImportEdge[]): string[] {
  const out = new Set<string>();
  for (const e of edges) {
    const owner = privateTo(e.to);
    if (owner === undefined || within(e.from, owner)) continue;
    const twin = testTwin(owner);
    if (twin !== undefined && within(e.from, twin)) continue;
    out.add(`private: ${e.from} imports ${e.to} (private to ${owner}/)`);
  }
  return [...out].sort();
}

/** What to print and whether the check fails, given the findings and the allowlist. */
export function judge(
  findings: readonly string[],
  allowed: readonly string[],
): { failed: boolean; lines: string[] } {
  const allow = new Set(allowed);
  const found = new Set(findings);
  const fresh = findings.filter((f) => !allow.has(f));
  const tolerated = findings.filter((f) => allow.has(f));
  const gone = allowed.filter((a) => !found.has(a));
  const lines = [
    ...fresh.map((f) => `FAIL ${f}`),
    ...gone.map((g) => `FAIL allowlisted but no longer found (remove its line): ${g}`),
    ...tolerated.map((f) => `allowed ${f}`),
    `${findings.length} finding(s): ${fresh.length} new, ${tolerated.length} allowlisted; ` +
    `${gone.length} allowlist line(s) stale`,
  ];
  return { failed: fresh.length > 0 || gone.length > 0, lines };
}

/** The allowlist's findings: one per line; blank lines and `#` comments skipped. */
export function parseAllowlist(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

/** Every `.ts` file under the checked folders of `root`, relative and `/`-separated. */
export async function checkedFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const info = await Deno.stat(join(root, rel)).catch(() => undefined);
    if (!info) return;
    if (info.isFile) {
      if (rel.endsWith(".ts") && !SKIPPED.some((re) => re.test(rel))) files.push(rel);
      return;
    }
    for await (const entry of Deno.readDir(join(root, rel))) {
      if (!entry.isSymlink) await walk(`${rel}/${entry.name}`);
    }
  };
  for (const top of CHECKED) await walk(top);
  return files.sort();
}

/**
 * The imports among `files` (and from them to any other local file), read by `deno info --json`
 * from one generated root module that imports them all (one run for the whole tree).
 */
export async function importGraph(root: string, files: readonly string[]): Promise<ImportEdge[]> {
  const dir = await Deno.makeTempDir({ prefix: "check_imports_" });
  try {
    const entry = join(dir, "all.ts");
    const text = files.map((f) => `import ${JSON.stringify(pathToFileURL(join(root, f)).href)};`);
    await Deno.writeTextFile(entry, text.join("\n") + "\n");
    const config = join(root, "deno.json");
    const hasConfig = await Deno.stat(config).then(() => true, () => false);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", ...(hasConfig ? ["--config", config] : ["--no-config"]), entry],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return edgesFromInfo(JSON.parse(new TextDecoder().decode(out.stdout)), root);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface InfoDependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** The local (file: under root) edges of a `deno info --json` graph. */
export function edgesFromInfo(info: { modules: InfoModule[] }, root: string): ImportEdge[] {
  const local = (specifier: string | undefined): string | undefined => {
    if (!specifier?.startsWith("file:")) return undefined;
    const rel = relative(root, fileURLToPath(specifier));
    return rel.startsWith("..") ? undefined : rel.split(sep).join("/");
  };
  const edges: ImportEdge[] = [];
  for (const m of info.modules) {
    const from = local(m.specifier);
    if (from === undefined || !CHECKED.some((c) => from === c || from.startsWith(c + "/"))) {
      continue;
    }
    for (const d of m.dependencies ?? []) {
      const code = local(d.code?.specifier);
      const type = local(d.type?.specifier);
      const to = code ?? type;
      if (to !== undefined) edges.push({ from, to, typeOnly: code === undefined });
    }
  }
  return edges;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string" },
      allow: { type: "string" },
      "no-allow": { type: "boolean" },
    },
  });
  const root = values.root ?? fileURLToPath(new URL("../", import.meta.url));
  const allowFile = values.allow ?? join(root, "scripts/check_imports.allow");
  const allowed = values["no-allow"] ? [] : parseAllowlist(
    await Deno.readTextFile(allowFile).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return "";
      throw e;
    }),
  );
  const edges = await importGraph(root, await checkedFiles(root));
  const findings = [...findCycles(edges), ...findPrivateImports(edges)];
  const { failed, lines } = judge(findings, allowed);
  for (const line of lines) console.log(line);
  if (failed) {
    console.log(
      "check_imports: break the cycle, or import the folder's mod.ts (export what is needed " +
        "there); see scripts/check_imports.ts",
    );
  }
  Deno.exit(failed ? 1 : 0);
}
