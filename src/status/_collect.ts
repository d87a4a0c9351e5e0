import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import type { RuleActivity, RuleProblem } from "../evaluator/mod.ts";
import type { ExecutorActivity, LoopView, Maintenance } from "../executor/mod.ts";
import { triggerName } from "../reporters/mod.ts";
import { VERSION } from "../version.ts";
import type { Rates } from "./_sampler.ts";
import type { LastRuns } from "./_runs.ts";
import { type RunningReport, STATUS_VERSION } from "./schema.ts";

/** The running stages, as far as `agent status` reads them (read-only accessors only). */
export interface StatusSources {
  config: Config;
  intake: { readonly bound: readonly Deno.NetAddr[] };
  evaluator: {
    readonly handlers: readonly string[];
    readonly problems: readonly RuleProblem[];
    inspect(): RuleActivity;
  };
  executor: {
    inspect(): ExecutorActivity;
    readonly maintenance: { status(): Maintenance | null };
  };
  /** Null in local-only mode. */
  channel: {
    readonly connected: boolean;
    readonly broker: string | null;
    readonly connectedSince: number | null;
    readonly failures: ReadonlyMap<string, string>;
  } | null;
}

/** Everything one report is built from. */
export interface CollectInput {
  sources: StatusSources;
  startedAt: number;
  config: { sha256: string | null; changedOnDisk?: boolean };
  rates: Rates;
  lastRuns: LastRuns;
  now: number;
  pid: number;
}

/** Longest list a report carries; the rest is counted in `omitted`. */
export const MAX_LIST = 100;

const iso = (ms: number) => new Date(Number.isFinite(ms) ? ms : 0).toISOString();

/** Builds the running agent's report (pure: reads the sources, no I/O but the maintenance file). */
export function collectReport(input: CollectInput): RunningReport {
  const { sources: s, rates, now } = input;
  const c = s.config;
  const omitted: Record<string, number> = {};
  const cap = <T>(name: string, list: T[]): T[] => {
    if (list.length > MAX_LIST) omitted[name] = list.length - MAX_LIST;
    return list.slice(0, MAX_LIST);
  };
  const rules = s.evaluator.inspect();
  const activity = s.executor.inspect();
  const loops = (states: LoopView["state"][]) =>
    activity.loops.filter((l) => states.includes(l.state)).map((l) => ({
      handler: l.handler,
      key: l.key,
      service: l.service,
      command: l.command,
      state: l.state,
      attempts: l.attempt,
      since: iso(l.since),
      at: iso(l.at),
    }));
  const m = s.executor.maintenance.status();
  const drops = [...rates.now.drops].filter(([, total]) => total > 0).map(([key, total]) => {
    const [stage, reason] = key.split("/") as ["intake" | "rules", string];
    return { stage, reason, total, last_minute: rates.dropsInWindow.get(key) ?? 0 };
  });
  return {
    version: STATUS_VERSION,
    running: true,
    time: iso(now),
    agent: {
      pid: input.pid,
      version: VERSION,
      started_at: iso(input.startedAt),
      uptime_s: Math.round((now - input.startedAt) / 1000),
      config: {
        file: c.source,
        sha256: input.config.sha256,
        ...(input.config.changedOnDisk !== undefined
          ? { changed_on_disk: input.config.changedOnDisk }
          : {}),
      },
      mode: c.Host === undefined ? "local-only" : "mqtt",
      state_dir: c.StateDir,
    },
    intake: {
      listeners: s.intake.bound.map((a) =>
        a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`
      ),
      window_s: rates.windowS,
      packets_per_s: round(rates.packetsPerS),
      values_per_s: round(rates.valuesPerS),
      packets_total: rates.now.packets,
      values_total: rates.now.values,
      last_packet_age_s: rates.lastPacketAgeS,
      drops,
    },
    rules: {
      dir: c.RulesDir,
      files: rules.files.length,
      handlers: s.evaluator.handlers.length,
      disabled: cap(
        "rules.disabled",
        rules.disabled.map((d) => ({ ...d, enable: enableHint(c.RulesDir, d.name) })),
      ),
      problems: cap(
        "rules.problems",
        s.evaluator.problems.map((p) => ({ file: p.path, line: p.line, message: p.message })),
      ),
      firing: cap(
        "rules.firing",
        rules.firing.sort((a, b) => a.since - b.since).map((f) => ({ ...f, since: iso(f.since) })),
      ),
      host_restarts: rates.now.hostRestarts,
    },
    recovery: {
      last_runs: input.lastRuns.runs,
      running: activity.running.map((r) => ({
        service: r.service,
        command: r.command,
        trigger_name: triggerName(r.trigger),
        since: iso(r.since),
      })),
      held: cap("recovery.held", loops(["cooldown", "busy", "maintenance", "waiting"])),
      verifying: cap("recovery.verifying", loops(["verifying"])),
      escalations: cap("recovery.escalations", loops(["escalated"])),
    },
    maintenance: maintenanceView(m),
    broker: s.channel === null ? null : {
      configured: [c.Host ?? []].flat(),
      connected: s.channel.connected,
      broker: s.channel.broker,
      since: s.channel.connectedSince === null ? null : iso(s.channel.connectedSince),
      spool: rates.now.spool,
      failures: [...s.channel.failures].map(([broker, error]) => ({ broker, error })),
    },
    omitted,
    notes: input.lastRuns.notes,
  };
}

/** How an operator re-enables a disabled handler or file. */
export function enableHint(rulesDir: string, name: string): string {
  const file = join(rulesDir, name.split("::")[0]!);
  return `fix ${file} and save it (a changed file is reloaded), or reload the agent ` +
    "(systemctl reload edge-agent, or SIGHUP): a reload re-enables every disabled rule";
}

/** The maintenance switch as the report carries it. */
export function maintenanceView(m: Maintenance | null): RunningReport["maintenance"] {
  if (!m) return { on: false };
  return {
    on: true,
    since: iso(m.since),
    until: iso(m.until),
    ...(m.reason !== undefined ? { reason: m.reason } : {}),
    ...(m.by !== undefined ? { by: m.by } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
