import { codeText } from "../model/mod.ts";
import { type Block, render, type Tone } from "./_render.ts";
import type { Run, RunningReport, StatusReport, StoppedReport } from "./schema.ts";

/** Options of {@linkcode formatStatus}. */
export interface FormatOptions {
  /** stdout is a terminal: aligned columns, short times. Default false (plain text). */
  tty?: boolean;
  /** ANSI colours (only with `tty`; off under NO_COLOR). Default: `tty`. */
  color?: boolean;
}

/** `agent status` as text: for a terminal (colour, alignment) or plain (one fact a line). */
export function formatStatus(report: StatusReport, options: FormatOptions = {}): string {
  const tty = options.tty ?? false;
  const f = formatters(tty, Date.parse(report.time));
  const blocks = report.running ? runningBlocks(report, f) : stoppedBlocks(report, f);
  return render(blocks, { align: tty, color: tty && (options.color ?? true) });
}

type F = ReturnType<typeof formatters>;

function formatters(tty: boolean, now: number) {
  /** `2026-11-23 12:00:01Z` on a terminal, `2026-11-23T12:00:01Z` otherwise. */
  const time = (iso: string) => {
    const t = iso.replace(/\.\d+Z$/, "Z");
    return tty ? t.replace("T", " ") : t;
  };
  return {
    time,
    /** `12:00:01Z (3 min ago)`. */
    ago: (iso: string) => `${time(iso)} (${span(now - Date.parse(iso))} ago)`,
    until: (iso: string) => `${time(iso)} (in ${span(Date.parse(iso) - now)})`,
    span,
  };
}

/** `0.4 s`, `42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`. */
export function span(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${Math.round(s * 10) / 10} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

function runningBlocks(r: RunningReport, f: F): Block[] {
  const a = r.agent;
  const out: Block[] = [
    {
      t: "title",
      text: `edge-agent ${a.version}: running since ${f.ago(a.started_at)}, pid ${a.pid}`,
      tone: "ok",
    },
    configField(a.config),
    field("mode", a.mode === "mqtt" ? "MQTT" : "local-only (no broker configured)"),
    field("state", a.state_dir),
    maintenanceField(r.maintenance, f),
    { t: "title", text: "collectd intake" },
    field("listening", r.intake.listeners.join(", ") || "nothing"),
    field(
      "packets/s",
      `${r.intake.packets_per_s} (last ${r.intake.window_s} s; ` +
        `${r.intake.packets_total} since the start)`,
    ),
    field("values/s", `${r.intake.values_per_s} (${r.intake.values_total} since the start)`),
    field(
      "last packet",
      r.intake.last_packet_age_s === null
        ? "none since the agent started"
        : `${f.span(r.intake.last_packet_age_s * 1000)} ago`,
      r.intake.last_packet_age_s === null || r.intake.last_packet_age_s > 60 ? "warn" : "none",
    ),
    {
      t: "table",
      label: "drops",
      head: ["STAGE", "REASON", "TOTAL", "LAST MINUTE"],
      rows: r.intake.drops.map((d) => ({
        cells: [d.stage, d.reason, String(d.total), `${d.last_minute} in the last minute`],
        tone: d.last_minute > 0 ? "warn" : "none",
      })),
      empty: "none",
    },
    ...ruleBlocks(r, f),
    ...recoveryBlocks(r, f),
  ];
  if (r.broker) out.push(...brokerBlocks(r.broker, f));
  out.push(...notesBlocks(r.notes, r.omitted));
  return out;
}

function ruleBlocks(r: RunningReport, f: F): Block[] {
  const rules = r.rules;
  const disabled: Block = rules.disabled.length === 0 ? field("disabled", "none", "dim") : {
    t: "field",
    label: "disabled",
    tone: "bad",
    lines: rules.disabled.flatMap((d) => [`${d.name} (${d.kind}): ${d.reason}`, `  → ${d.enable}`]),
  };
  return [
    { t: "title", text: `rules (${rules.dir})` },
    field("loaded", `${rules.files} file(s), ${rules.handlers} handler(s)`),
    disabled,
    {
      t: "table",
      label: "problems",
      head: ["FILE", "PROBLEM"],
      rows: rules.problems.map((p) => ({ cells: [`${p.file}:${p.line}`, p.message], tone: "bad" })),
      empty: "none",
    },
    {
      t: "table",
      label: "firing now",
      head: ["SINCE", "HANDLER", "SERIES"],
      rows: rules.firing.map((c) => ({ cells: [f.ago(c.since), c.handler, c.key], tone: "warn" })),
      empty: "no condition fired",
    },
    field("host restarts", String(rules.host_restarts), rules.host_restarts > 0 ? "warn" : "none"),
  ];
}

function recoveryBlocks(r: RunningReport, f: F): Block[] {
  const rec = r.recovery;
  const loopRows = (list: RunningReport["recovery"]["held"], tone: Tone) =>
    list.map((l) => ({
      cells: [`${l.service}/${l.command}`, l.state, f.until(l.at), l.handler, l.key],
      tone,
    }));
  const head = ["SERVICE/COMMAND", "STATE", "UNTIL", "HANDLER", "SERIES"];
  return [
    { t: "title", text: "recovery" },
    runsTable(rec.last_runs, f),
    {
      t: "table",
      label: "running now",
      head: ["SINCE", "SERVICE/COMMAND", "TRIGGER"],
      rows: rec.running.map((c) => ({
        cells: [f.ago(c.since), `${c.service}/${c.command}`, c.trigger_name],
      })),
      empty: "nothing",
    },
    { t: "table", label: "held back", head, rows: loopRows(rec.held, "warn"), empty: "nothing" },
    {
      t: "table",
      label: "verifying",
      head,
      rows: loopRows(rec.verifying, "none"),
      empty: "nothing",
    },
    {
      t: "table",
      label: "escalations",
      head: ["SERVICE/COMMAND", "RUNS", "GAVE UP", "HANDLER", "SERIES"],
      rows: rec.escalations.map((e) => ({
        cells: [`${e.service}/${e.command}`, String(e.attempts), f.ago(e.at), e.handler, e.key],
        tone: "bad",
      })),
      empty: "none",
    },
  ];
}

function runsTable(runs: Run[], f: F): Block {
  return {
    t: "table",
    label: "last runs",
    head: ["TIME", "TRIGGER", "SERVICE/COMMAND", "CODE", "DURATION", "MESSAGE"],
    rows: runs.map((run) => ({
      cells: [
        f.time(run.time),
        run.trigger === "rule" ? `rule ${run.trigger_name}` : run.trigger_name,
        `${run.service}/${run.command}${run.host ? `@${run.host}` : ""}`,
        `code ${codeText(run.code)}`,
        `${Math.round(run.duration_ms)} ms`,
        run.code === 0 ? "" : run.message,
      ],
      tone: run.code === 0 ? "none" : "bad",
    })),
    empty: "none recorded",
  };
}

function brokerBlocks(b: NonNullable<RunningReport["broker"]>, f: F): Block[] {
  const failures = b.failures.map((x) => `${x.broker}: ${x.error}`);
  return [
    { t: "title", text: "broker" },
    b.connected && b.broker
      ? field(
        "connected",
        `to ${b.broker} since ${f.ago(b.since ?? new Date(0).toISOString())}`,
        "ok",
      )
      : field("connected", "no: not connected to any broker", "bad"),
    field("configured", b.configured.join(", ")),
    field("spool", `${b.spool} result(s) waiting for the broker`, b.spool > 0 ? "warn" : "none"),
    ...(failures.length
      ? [{ t: "field", label: "last errors", lines: failures, tone: "warn" } as const]
      : []),
  ];
}

function stoppedBlocks(r: StoppedReport, f: F): Block[] {
  return [
    { t: "title", text: `edge-agent: NOT RUNNING (${r.reason})`, tone: "bad" },
    configField(r.config),
    field("state", r.state_dir),
    maintenanceField(r.maintenance, f),
    { t: "title", text: "from the state files" },
    runsTable(r.recovery.last_runs, f),
    ...notesBlocks(r.notes, {}),
  ];
}

function configField(c: RunningReport["agent"]["config"]): Block {
  if (c.file === null) return field("config", "built-in default (no config file)");
  const hash = c.sha256 ? `sha256 ${c.sha256.slice(0, 16)}` : "sha256 unknown (unreadable)";
  if (c.changed_on_disk) {
    return {
      t: "field",
      label: "config",
      lines: [`${c.file}  ${hash}`, "the file changed since the agent loaded it: reload to apply"],
      tone: "warn",
    };
  }
  return field("config", `${c.file}  ${hash}`);
}

function maintenanceField(m: RunningReport["maintenance"], f: F): Block {
  if (!m.on || !m.until) return field("maintenance", "off");
  const extra = `${m.reason ? `, reason: ${m.reason}` : ""}${m.by ? `, by ${m.by}` : ""}`;
  return {
    t: "field",
    label: "maintenance",
    lines: [`ON until ${f.until(m.until)}${extra}`, "rule-triggered repairs are held back"],
    tone: "warn",
  };
}

function notesBlocks(notes: string[], omitted: Record<string, number>): Block[] {
  const lines = [
    ...notes,
    ...Object.entries(omitted).map(([list, n]) => `${n} more entries of ${list} left out`),
  ];
  return lines.length ? [{ t: "title", text: "notes" }, { t: "field", label: "note", lines }] : [];
}

function field(label: string, value: string, tone: Tone = "none"): Block {
  return { t: "field", label, lines: [value], tone };
}
