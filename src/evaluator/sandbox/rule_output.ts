/**
 * Where rule code's own output goes: its `console.*` calls and the promise rejections it leaves
 * unhandled become log lines in the {@linkcode LogBook}, blamed on the rule running now.
 * @module
 */
import type { Glue } from "./enclose.ts";
import { type Describer, safeString } from "./errors.ts";
import type { LogBook } from "./logs.ts";

/**
 * Sends rule console output and unhandled rejections to `logs`; `current()` names the rule
 * running now (a handler, or a rule file while it loads).
 */
export function routeRuleOutput(
  glue: Glue,
  o: { logs: LogBook; describe: Describer["describe"]; current(): string | undefined },
): void {
  const { logs, describe } = o;
  glue.setConsoleSink((level, args) => {
    let text = "";
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      text += (i === 0 ? "" : " ") + (typeof a === "string" ? a : display(a));
    }
    logs.console(level, text, o.current());
  });
  glue.setRejectionSink((reason) => {
    const d = describe(reason);
    logs.glue({
      level: "error",
      msg: `unhandled rejection in a rule: ${d.message}`,
      handler: o.current(),
      file: d.file,
      line: d.line,
      stack: d.stack,
    });
  });
}

/** A console argument as text (JSON where it is JSON-able). */
function display(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x) ?? safeString(v);
  } catch {
    return safeString(v);
  }
}
