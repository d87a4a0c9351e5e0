import { join } from "node:path";
import type { Logger } from "../model/mod.ts";
import type { RuleLog } from "./_protocol.ts";

/**
 * Characters a rule must not put raw into the agent's log: C0 controls (CR, ESC, …; a newline
 * too, except inside a stack), DEL, C1 controls, the Unicode line and paragraph separators and
 * the bidirectional overrides (which reorder what a terminal shows).
 */
const CONTROL =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  return code <= 0xff
    ? "\\x" + code.toString(16).padStart(2, "0")
    : "\\u" + code.toString(16).padStart(4, "0");
}

/** `text` with every control character written as an escape (`\x1b`, `\r`, `\u2028`, …). */
export function escapeControl(text: string, keepNewlines = false): string {
  const re = keepNewlines ? CONTROL : CONTROL_OR_NEWLINE;
  re.lastIndex = 0;
  return re.test(text) ? text.replace(re, escape) : text;
}

/** Writes a log line from the rule sandbox: every text from it escaped, `at` as a rule path. */
export function writeRuleLog(log: Logger, dir: string, l: RuleLog): void {
  const fields: Record<string, unknown> = {};
  if (l.handler) fields.handler = escapeControl(l.handler);
  if (l.file) fields.at = escapeControl(`${join(dir, l.file)}${l.line ? `:${l.line}` : ""}`);
  if (l.stack) fields.stack = escapeControl(l.stack, true);
  log[l.level](escapeControl(l.msg), fields);
}
