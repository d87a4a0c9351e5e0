/**
 * A line the logfile plugin writes: `[2026-11-23 10:00:00] ` (Timestamp true, the default)
 * and/or `[error] ` (PrintSeverity), then the message. Matched anywhere in a line: the config
 * scanner's echo has no newline of its own and may run into the first log line.
 */
const LOG_LINE = /\[(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|error|warning|notice|info|debug)\] .*$/;

/**
 * What a collectd config check printed, fit for a result and the log.
 *
 * stderr is collectd's own error output (where it logs before, or without, a log plugin) and
 * is kept. stdout carries two things: what the `logfile` plugin writes with `File STDOUT` (e.g.
 * `plugin_load: Could not find plugin "x"`), and whatever collectd's config scanner could not
 * match, echoed raw (flex's default rule): single characters such as `"` `@` `=`, but the whole
 * rest of the file after an unterminated multi-line string, secrets included. Both come on the
 * same stream and cannot be told apart by position, so from stdout only collectd log lines are
 * kept (from their `[time]`/`[level]` prefix to the end of the line); the rest is withheld and
 * only its size is said. The parser's quote of the text (`near `...'`) is redacted in both.
 */
export function checkOutputText(stdout: string, stderr: string): string {
  const logged: string[] = [];
  let withheld = 0;
  for (const line of stdout.split("\n")) {
    const m = LOG_LINE.exec(line);
    if (m) logged.push(m[0]);
    withheld += (m ? line.slice(0, m.index) : line).trim().length;
  }
  const parts = [...logged, stderr.trim()].filter((p) => p !== "");
  if (withheld > 0) {
    parts.push(
      `(${withheld} characters of collectd's standard output withheld: not log lines, they ` +
        "may echo config text)",
    );
  }
  return parts.join("\n").replace(/near `[^']*'/g, "near `…'");
}
