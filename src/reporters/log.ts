import {
  codeText,
  type Logger,
  type Reporter,
  type RunRecord,
  type Trigger,
} from "../model/mod.ts";

/** A trigger's name for logs and audit: the rule handler, `remote:<task_id>[@sender]`, `cli`. */
export function triggerName(t: Trigger): string {
  if (t.kind === "rule") return t.handler;
  if (t.kind === "remote") return `remote:${t.task_id}${t.sender ? `@${t.sender}` : ""}`;
  return "cli";
}

/**
 * Writes every record to the log: success at info with the output's first line (the audit
 * record keeps more), anything else at error with the message, both with the trigger and the
 * code as `0x1002 (4098)`.
 */
export function createLogReporter(logger: Logger): Reporter {
  return {
    name: "log",
    report(r: RunRecord) {
      const ok = r.result.code === 0;
      const what = `${r.service}/${r.command}${r.host !== undefined ? ` on ${r.host}` : ""}`;
      const fields = {
        trigger: triggerName(r.trigger),
        ...(r.host !== undefined ? { host: r.host } : {}),
        ...(r.late ? { late: "after RemoteResultTimeout" } : {}),
        service: r.service,
        command: r.command,
        code: codeText(r.result.code),
        task_id: r.result.task_id,
        duration_ms: r.durationMs,
        output_bytes: r.outputBytes,
        ...(r.truncated ? { truncated: true } : {}),
        ...(r.timedOut ? { timed_out: true } : {}),
        ...(ok ? firstLine(r.result.message) : { message: r.result.message.slice(0, 500) }),
      };
      try {
        if (ok) logger.info(`${what} succeeded`, fields);
        else logger.error(`${what} failed with code ${fields.code}`, fields);
      } catch { /* a logger must not throw; if one does, the record still goes elsewhere */ }
      return Promise.resolve();
    },
  };
}

const OUTPUT_LINE_MAX = 200;

/** `{ output }`: the first non-blank line of a command's output, bounded; `{}` without output. */
function firstLine(message: string): { output?: string } {
  const lines = message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const first = lines[0];
  if (first === undefined) return {};
  const cut = first.length > OUTPUT_LINE_MAX;
  const more = cut
    ? ` [+${first.length - OUTPUT_LINE_MAX} chars in the audit record]`
    : lines.length > 1
    ? ` [+${lines.length - 1} lines in the audit record]`
    : "";
  return { output: (cut ? first.slice(0, OUTPUT_LINE_MAX) + "…" : first) + more };
}
