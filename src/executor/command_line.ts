/**
 * lua-collectd-monitor's command strings (`"/bin/systemctl restart nginx 2>&1"`) split into argv
 * with POSIX shell quoting rules, for running WITHOUT a shell. Only quoting is understood: single
 * quotes, double quotes, backslash escapes. A trailing `2>&1` is accepted and dropped (both streams
 * are always captured). Anything a shell would expand or interpret (pipes, `;`, `&&`, redirections,
 * `$`, backticks, globs, `~`, braces, comments, `VAR=value` prefixes) is refused.
 */

/** The argv of an accepted command string, or why and where it was refused. */
export type SplitResult =
  | { ok: true; argv: string[] }
  | { ok: false; reason: string; column: number };

const OPERATORS = new Set(["|", "&", ";", "<", ">", "(", ")"]);
const EXPANSIONS = new Set(["$", "`"]);
const GLOBS = new Set(["*", "?", "[", "]", "{", "}"]);
const BLANKS = new Set([" ", "\t", "\n"]);

/** Splits `line` into argv (pure). Never runs or expands anything. */
export function splitCommandLine(line: string): SplitResult {
  const text = line.replace(/(^|[ \t])2>&1[ \t\n]*$/, "");
  const argv: string[] = [];
  let word: string | null = null;
  const refuse = (i: number, what: string): SplitResult => ({
    ok: false,
    column: i + 1,
    reason: `${what} at column ${i + 1}`,
  });
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (BLANKS.has(ch)) {
      if (word !== null) argv.push(word);
      word = null;
      continue;
    }
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return refuse(i, "unterminated single quote");
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
      continue;
    }
    if (ch === '"') {
      let s = "";
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const c = text[j]!;
        if (EXPANSIONS.has(c)) return refuse(j, `shell expansion "${c}" inside double quotes`);
        if (c === "\\" && j + 1 < text.length) {
          const next = text[j + 1]!;
          if (next === "\n") {
            j++;
            continue;
          }
          if ('$`"\\'.includes(next)) {
            s += next;
            j++;
            continue;
          }
        }
        s += c;
      }
      if (j >= text.length) return refuse(i, "unterminated double quote");
      word = (word ?? "") + s;
      i = j;
      continue;
    }
    if (ch === "\\") {
      if (i + 1 >= text.length) return refuse(i, "trailing backslash");
      const next = text[++i]!;
      if (next !== "\n") word = (word ?? "") + next;
      continue;
    }
    if (OPERATORS.has(ch)) return refuse(i, `shell operator "${ch}"`);
    if (EXPANSIONS.has(ch)) return refuse(i, `shell expansion "${ch}"`);
    if (GLOBS.has(ch)) return refuse(i, `shell pattern character "${ch}"`);
    if (word === null && (ch === "~" || ch === "#")) {
      return refuse(i, ch === "~" ? `tilde expansion "~"` : `shell comment "#"`);
    }
    if (ch === "=" && argv.length === 0 && word !== null && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) {
      return refuse(i, `environment assignment "${word}=" (use the "Env" option)`);
    }
    word = (word ?? "") + ch;
  }
  if (word !== null) argv.push(word);
  if (argv.length === 0) return { ok: false, column: 1, reason: "no command" };
  return { ok: true, argv };
}

/**
 * The operator-facing refusal: why, and the explicit form to write instead (the argv split so
 * far is unknown for a refused string, so it shows the shell form an operator who really means
 * a shell would write, explicit about it).
 */
export function refusalMessage(line: string, reason: string): string {
  return `shell syntax is not supported (${reason}): commands run without a shell. Write the ` +
    `explicit argv form instead, one command per entry, e.g. {"Argv": ${
      JSON.stringify(suggestArgv(line))
    }}` +
    `; if a shell is really intended, say so: {"Argv": ${JSON.stringify(["/bin/sh", "-c", line])}}`;
}

/** A best-effort argv for `line`: split at blanks, quotes removed, cut at the first operator. */
function suggestArgv(line: string): string[] {
  const head = line.split(/\s*(?:\|\||&&|[|;&<>`]|\$\()/)[0] ?? line;
  const words = head.trim().split(/\s+/).filter((w) => w !== "").map((w) =>
    w.replace(/^["']|["']$/g, "")
  );
  return words.length ? words : [line];
}
