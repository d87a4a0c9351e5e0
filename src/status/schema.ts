/**
 * What `agent status --json` prints and what the running agent answers on its status socket:
 * one JSON object, `version` 1. Fields are only ever added within a version; a renamed, removed
 * or retyped field makes version 2. docs/status.md documents every field.
 * @module
 */
import { z } from "zod";

/** The version of the report this program writes and reads. */
export const STATUS_VERSION = 1;

/** The socket's name in StateDir. */
export const STATUS_SOCKET = "status.sock";

/** The one request the socket answers (anything else gets an error reply). */
export const STATUS_REQUEST = "status 1\n";

/** An ISO 8601 time (`2026-11-23T12:00:00.000Z`). */
const Time = z.iso.datetime();
const Count = z.number().int().min(0);

/** One recovery run (or refused request), as the audit file records it. */
export const RunSchema = z.strictObject({
  time: Time,
  task_id: z.union([z.number(), z.string()]),
  trigger: z.enum(["rule", "remote", "cli"]),
  /** The rule handler, `remote:<task_id>[@sender]` or `cli`. */
  trigger_name: z.string(),
  service: z.string(),
  command: z.string(),
  code: z.number().int(),
  duration_ms: z.number().min(0),
  /** The result message's first line, at most 200 characters. */
  message: z.string(),
  /** Central mode: the agent that ran it. */
  host: z.string().optional(),
});
export type Run = z.infer<typeof RunSchema>;

const MaintenanceSchema = z.strictObject({
  on: z.boolean(),
  since: Time.optional(),
  until: Time.optional(),
  reason: z.string().optional(),
  by: z.string().optional(),
});

const ConfigSchema = z.strictObject({
  /** The config file, or null for the built-in default. */
  file: z.string().nullable(),
  /** sha256 (hex) of the file's bytes as the agent loaded them (running) or as on disk now. */
  sha256: z.string().nullable(),
  /** Running only: whether the file on disk now differs from what the agent loaded. */
  changed_on_disk: z.boolean().optional(),
});

/** A rule-triggered repair the closed loop holds (see src/executor/_rule_path.ts LoopView). */
const LoopSchema = z.strictObject({
  handler: z.string(),
  key: z.string(),
  service: z.string(),
  command: z.string(),
  state: z.enum(["cooldown", "busy", "maintenance", "waiting", "verifying", "escalated"]),
  /** Runs made for this condition so far. */
  attempts: Count,
  /** The trigger (or the first run). */
  since: Time,
  /** Held, waiting or verifying until; escalated at. */
  at: Time,
});

const RunningReportSchema = z.strictObject({
  version: z.literal(STATUS_VERSION),
  running: z.literal(true),
  /** When the agent built this report. */
  time: Time,
  agent: z.strictObject({
    pid: z.number().int(),
    version: z.string(),
    started_at: Time,
    uptime_s: z.number().min(0),
    config: ConfigSchema,
    mode: z.enum(["local-only", "mqtt"]),
    state_dir: z.string(),
  }),
  intake: z.strictObject({
    /** Bound addresses, `host:port`. */
    listeners: z.array(z.string()),
    /** Seconds the rates cover: 60 once the agent has run a minute, less before. */
    window_s: z.number().min(0),
    packets_per_s: z.number().min(0),
    values_per_s: z.number().min(0),
    packets_total: Count,
    values_total: Count,
    /** Seconds since the last packet arrived (1-s resolution); null: none since the start. */
    last_packet_age_s: z.number().min(0).nullable(),
    /** Every reason with drops since the start: `intake` (security, malformed), `rules`. */
    drops: z.array(z.strictObject({
      stage: z.enum(["intake", "rules"]),
      reason: z.string(),
      total: Count,
      last_minute: Count,
    })),
  }),
  rules: z.strictObject({
    dir: z.string(),
    files: Count,
    handlers: Count,
    /** Handlers and files the agent disabled, why, and how to re-enable them. */
    disabled: z.array(z.strictObject({
      name: z.string(),
      kind: z.enum(["handler", "file"]),
      reason: z.string(),
      enable: z.string(),
    })),
    /** Rule files (or the rules directory) that do not load. */
    problems: z.array(z.strictObject({ file: z.string(), line: Count, message: z.string() })),
    /** Conditions fired now (not cleared yet). */
    firing: z.array(z.strictObject({ handler: z.string(), key: z.string(), since: Time })),
    host_restarts: Count,
  }),
  recovery: z.strictObject({
    /** The last 10, oldest first. */
    last_runs: z.array(RunSchema),
    running: z.array(z.strictObject({
      service: z.string(),
      command: z.string(),
      trigger_name: z.string(),
      since: Time,
    })),
    /** Held back (cooldown, busy, maintenance) or waiting for a retry. */
    held: z.array(LoopSchema),
    /** Ran; waiting for the condition to clear. */
    verifying: z.array(LoopSchema),
    escalations: z.array(LoopSchema),
  }),
  maintenance: MaintenanceSchema,
  /** Null in local-only mode. */
  broker: z.strictObject({
    configured: z.array(z.string()),
    connected: z.boolean(),
    /** `host:port` in use. */
    broker: z.string().nullable(),
    since: Time.nullable(),
    /** Results waiting in the spool for the broker's acknowledgement. */
    spool: Count,
    /** Why the latest attempt on each broker failed. */
    failures: z.array(z.strictObject({ broker: z.string(), error: z.string() })),
  }).nullable(),
  /** Lists cut at 100 entries: `{"rules.firing": 250}` = 250 more were left out. */
  omitted: z.record(z.string(), Count),
  /** What could not be read (skipped audit lines, an unreadable file). */
  notes: z.array(z.string()),
});
export type RunningReport = z.infer<typeof RunningReportSchema>;

const StoppedReportSchema = z.strictObject({
  version: z.literal(STATUS_VERSION),
  running: z.literal(false),
  time: Time,
  /** Why the agent counts as not running (no socket, nobody listening on it). */
  reason: z.string(),
  state_dir: z.string(),
  config: ConfigSchema,
  /** From the state files: the last 10 runs of audit.jsonl and maintenance.json. */
  recovery: z.strictObject({ last_runs: z.array(RunSchema) }),
  maintenance: MaintenanceSchema,
  /** What could not be read (skipped audit lines, an unreadable file). */
  notes: z.array(z.string()),
});
export type StoppedReport = z.infer<typeof StoppedReportSchema>;

/** `agent status --json`: the running agent's report, or what the state files hold. */
export const StatusReportSchema = z.discriminatedUnion("running", [
  RunningReportSchema,
  StoppedReportSchema,
]);
export type StatusReport = z.infer<typeof StatusReportSchema>;

/** What the socket answers instead of a report (a bad request, the agent between stages). */
export const StatusErrorSchema = z.strictObject({
  version: z.literal(STATUS_VERSION),
  error: z.string(),
});
export type StatusError = z.infer<typeof StatusErrorSchema>;

/** The socket's answer: a running report or an error. */
export const StatusReplySchema = z.union([RunningReportSchema, StatusErrorSchema]);

export { RunningReportSchema, StoppedReportSchema };
