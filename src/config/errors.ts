import type { z } from "zod";
import { ConfigSchema } from "./schema.ts";

/** One problem in a config file: where (JSON path, e.g. `Listen[0].Port`) and what. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/**
 * The config could not be used. `message` is the operator-facing text: the file, then one line
 * per problem with its JSON path, what was expected and, for a misspelled key, a did-you-mean.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
    options?: ErrorOptions,
  ) {
    super(
      `Invalid config ${file}:\n` +
        problems.map((p) => `  - ${p.path || "(top level)"}: ${p.message}`)
          .join("\n"),
      options,
    );
    this.name = "ConfigError";
  }
}

/** `["Listen", 0, "Port"]` → `Listen[0].Port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** Turns zod issues into problems, adding a did-you-mean to unknown keys. */
export function problemsFromZod(error: z.ZodError): ConfigProblem[] {
  return problemsFromIssues(error.issues, []);
}

function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const raw of issues) {
    const issue = { ...raw, path: [...prefix, ...raw.path] } as z.core.$ZodIssue;
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      problems.push(...unionProblems(issue.errors, issue.path));
    } else if (issue.code === "unrecognized_keys") {
      const known = keysAt(ConfigSchema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        problems.push({
          path: formatPath([...issue.path, key]),
          message: "unknown key" + (guess ? ` (did you mean "${guess}"?)` : "") +
            (known.length ? `; allowed here: ${known.join(", ")}` : ""),
        });
      }
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

/**
 * A value matched no branch of a union. When every branch failed on the value itself, say what
 * the branches expected (`expected 0, 1 or 2`); when some branch got further (into an object),
 * that branch was meant: report its problems.
 */
function unionProblems(
  branches: readonly (readonly z.core.$ZodIssue[])[],
  path: PropertyKey[],
): ConfigProblem[] {
  const deep = branches.filter((b) => b.some((i) => i.path.length > 0));
  if (deep.length > 0) {
    const best = deep.reduce((a, b) => (b.length < a.length ? b : a));
    return problemsFromIssues(best, path);
  }
  const expected: string[] = [];
  let received = "";
  for (const [first] of branches) {
    if (!first) continue;
    if (first.code === "invalid_value") {
      expected.push(...first.values.map((v) => JSON.stringify(v)));
    } else if (first.code === "invalid_type") {
      expected.push(first.expected);
      received = / received (\w+)/.exec(first.message)?.[1] ?? received;
    } else expected.push(first.message);
  }
  const list = expected.length > 1
    ? `${expected.slice(0, -1).join(", ")} or ${expected.at(-1)}`
    : expected.join("");
  return [{
    path: formatPath(path),
    message: `expected ${list}` + (received ? `, received ${received}` : ""),
  }];
}

// deno-lint-ignore no-explicit-any
type AnySchema = any;

/** The object keys the schema allows at `path` (empty when not an object there). */
function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const candidates = resolve(schema, path);
  const keys = new Set<string>();
  for (const c of candidates) {
    for (const o of unwrap(c)) {
      if (o._zod.def.type === "object") {
        for (const k of Object.keys(o._zod.def.shape)) keys.add(k);
      }
    }
  }
  return [...keys];
}

function resolve(schema: AnySchema, path: readonly PropertyKey[]): AnySchema[] {
  let current: AnySchema[] = [schema];
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const c of current) {
      for (const s of unwrap(c)) {
        const def = s._zod.def;
        if (def.type === "object" && typeof seg === "string" && def.shape[seg]) {
          next.push(def.shape[seg]);
        } else if (def.type === "array" && typeof seg === "number") next.push(def.element);
        else if (def.type === "record") next.push(def.valueType);
      }
    }
    current = next;
  }
  return current;
}

/** Looks through wrappers (optional, default, pipe/preprocess) and unions. */
function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema?._zod?.def;
  if (!def) return [];
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return unwrap(def.innerType);
    case "pipe":
      return [...unwrap(def.in), ...unwrap(def.out)];
    case "union":
      return def.options.flatMap(unwrap);
    default:
      return [schema];
  }
}

/** The known key closest to `key` (case-insensitive match, else edit distance ≤ 1/3). */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}
