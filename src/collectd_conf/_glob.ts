/**
 * The part of wordexp(3)/glob(3)/fnmatch(3) collectd's `Include` goes through, for the words the
 * agent accepts: plain paths with `*`, `?` and `[...]` wildcards. Anything a shell would expand
 * otherwise (variables, `~`, quotes, white space that splits words, backslashes) is refused by
 * {@linkcode shellSyntaxIn} before any expansion, so the agent never guesses what wordexp does.
 * @module
 */
import type { ConfFs } from "./_fs.ts";

/** Characters an Include path may hold: wordexp leaves them alone (globs apart). */
const SAFE_WORD = /^[A-Za-z0-9._\-\/+=,@%:*?\[\]!^]*$/;
/** Characters a file name inside an included folder may hold (no wildcards either). */
const SAFE_NAME = /^[A-Za-z0-9._\-+=,@%:~^!]+$/;

/** Why `word` cannot be expanded by the agent as wordexp would, or null when it can. */
export function shellSyntaxIn(word: string): string | null {
  if (word === "") return "an empty path";
  if (!SAFE_WORD.test(word)) {
    return "characters the shell expansion collectd applies (wordexp) would interpret " +
      "(white space, quotes, $, ~, `, \\, braces...)";
  }
  if (word.includes("[:")) return "a character class ([:...:])";
  if (word.split("/").some((part) => part === "." || part === "..")) {
    return 'a "." or ".." path segment';
  }
  return null;
}

/** Whether a name found in an included folder goes through collectd's wordexp unchanged. */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name);
}

export function hasWildcard(part: string): boolean {
  return /[*?\[]/.test(part);
}

/**
 * fnmatch(3) of `name` against `pattern` with flags 0 (`*` and `?` match any character, `/`
 * and a leading `.` included; `[...]` with `!`/`^` and ranges; backslash escapes). A pattern it
 * cannot translate (a character class) matches everything: the caller then checks more files
 * than collectd would read, never fewer.
 */
export function fnmatch(pattern: string, name: string): boolean {
  const re = patternRegExp(pattern);
  return re === null ? true : re.test(name);
}

function patternRegExp(pattern: string): RegExp | null {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) out += escape(pattern[++i]!);
    else if (c === "[") {
      const set = bracket(pattern, i);
      if (set === "class") return null;
      if (set === null) out += "\\[";
      else {
        out += set.source;
        i = set.end;
      }
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`);
}

/** `[...]` starting at `at`: its regex and last index, null when unclosed (a literal `[`). */
function bracket(pattern: string, at: number): { source: string; end: number } | "class" | null {
  let i = at + 1;
  let negate = false;
  if (pattern[i] === "!" || pattern[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  for (; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "]" && !first) {
      return { source: `[${negate ? "^" : ""}${body}]`, end: i };
    }
    first = false;
    if (c === "[" && pattern[i + 1] === ":") return "class";
    if (c === "\\" && i + 1 < pattern.length) body += escapeInSet(pattern[++i]!);
    else if (c === "-" && body !== "" && pattern[i + 1] !== "]" && i + 1 < pattern.length) {
      body += "-";
    } else body += escapeInSet(c);
  }
  return null;
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&");
}

function escapeInSet(c: string): string {
  return c.replace(/[\\\]\[^-]/g, "\\$&");
}

/**
 * glob(3) of an absolute path with wildcards, as wordexp runs it: each wildcard component is
 * matched against the entries of the folders found so far (a leading `.` only by a literal
 * `.`), results sorted. No match: an empty list (collectd then finds nothing to stat).
 */
export async function expandGlob(path: string, fs: ConfFs): Promise<string[]> {
  const parts = path.split("/").filter((p) => p !== "");
  let found = ["/"];
  for (const part of parts) {
    if (!hasWildcard(part)) {
      found = found.map((base) => join(base, part));
      continue;
    }
    const next: string[] = [];
    for (const base of found) {
      if (await fs.kind(base) !== "dir") continue;
      for (const name of await fs.readDir(base)) {
        if (name.startsWith(".") && !part.startsWith(".")) continue;
        if (fnmatch(part, name)) next.push(join(base, name));
      }
    }
    found = next;
  }
  return found.sort(byteOrder);
}

export function join(base: string, name: string): string {
  return base.endsWith("/") ? `${base}${name}` : `${base}/${name}`;
}

/** strcmp order (collectd sorts its file lists with strcmp). */
export function byteOrder(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}
