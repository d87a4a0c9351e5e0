import type { Logger, Reporter, RunRecord, Trigger } from "../model/mod.ts";

/** A trigger's name for logs and audit: the rule handler, `remote:<task_id>[@sender]`, `cli`. */
export function triggerName(t: Trigger): string {
  if (t.kind === "rule") return t.handler;
  if (t.kind === "remote") return `remote:${t.task_id}${t.sender ? `@${t.sender}` : ""}`;
  return "cli";
}

/** Writes every record to the log: success at info, anything else at error, with the trigger. */
export function createLogReporter(logger: Logger): Reporter {
  return {
    name: "log",
    report(r: RunRecord) {
      const ok = r.result.code === 0;
      const fields = {
        trigger: triggerName(r.trigger),
        service: r.service,
        command: r.command,
        code: r.result.code,
        task_id: r.result.task_id,
        duration_ms: r.durationMs,
        output_bytes: r.outputBytes,
        ...(r.truncated ? { truncated: true } : {}),
        ...(r.timedOut ? { timed_out: true } : {}),
        ...(ok ? {} : { message: r.result.message.slice(0, 500) }),
      };
      try {
        if (ok) logger.info(`${r.service}/${r.command} succeeded`, fields);
        else logger.error(`${r.service}/${r.command} failed (code ${codeText(r)})`, fields);
      } catch { /* a logger must not throw; if one does, the record still goes elsewhere */ }
      return Promise.resolve();
    },
  };
}

function codeText(r: RunRecord): string {
  const c = r.result.code;
  return c >= 0x1000 ? `0x${c.toString(16)}` : String(c);
}
