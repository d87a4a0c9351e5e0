import { z } from "zod";

/**
 * The agent ↔ rule-host protocol over the child's stdin/stdout (framing: `_frames.ts`).
 * Replies come in request order; the agent keeps up to IN_FLIGHT batches in flight, so the
 * next batch is already in the worker when the current one ends.
 *
 * Requests (agent → the rule worker, which reads the host's stdin itself): `configure`, `load`,
 * `batch` (decoded objects), `packets` (raw collectd packets, decoded in the worker). Replies:
 * `ready`, `loaded`, `result` (from the worker), `overrun` (from the host's budget watch),
 * `fatal` (either). Replies come from a process running untrusted code, so the agent parses them
 * with the schemas below.
 */

/** Batches the agent keeps in flight (sent, not yet answered). */
export const IN_FLIGHT = 2;

/**
 * Handler-state changes (series, `ctx.state`) travel to the agent with at most one packet
 * batch per STATE_SYNC_MS, each carrying at most 512 series (every `evaluate()` batch carries
 * them all): cloning them with every small batch, or all at once, would show in the latency.
 * A rule-host restart restores the state as of the last sync (typically under a second old;
 * longer when thousands of series change every second). fired/cleared changes travel with
 * every result, so a restart never fires a series again.
 */
export const STATE_SYNC_MS = 100;

export { SLOW_FACTOR } from "./_slow_factor.ts";

const ActionSchema = z.strictObject({
  service: z.string(),
  command: z.string(),
  host: z.string().optional(),
});

export const RuleEventSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("fired"),
    handler: z.string(),
    key: z.string(),
    actions: z.array(ActionSchema).min(1),
    time: z.number(),
  }),
  z.strictObject({
    kind: z.literal("cleared"),
    handler: z.string(),
    key: z.string(),
    time: z.number(),
  }),
]);

/** A log line produced in the sandbox (a handler's error, console output, a bad action). */
export const RuleLogSchema = z.strictObject({
  level: z.enum(["error", "warn", "info", "debug"]),
  msg: z.string(),
  handler: z.string().optional(),
  file: z.string().optional(),
  line: z.number().optional(),
  stack: z.string().optional(),
});
export type RuleLog = z.infer<typeof RuleLogSchema>;

export const FileResultSchema = z.strictObject({
  file: z.string(),
  ok: z.boolean(),
  message: z.string().optional(),
  line: z.number().optional(),
  exportName: z.string().optional(),
  member: z.string().optional(),
  stack: z.string().optional(),
  kept: z.boolean().optional(),
});
export type FileResult = z.infer<typeof FileResultSchema>;

export const ReplySchema = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("ready") }),
  z.strictObject({
    t: z.literal("loaded"),
    results: z.array(FileResultSchema),
    handlers: z.array(z.string()),
    /** What the rule files logged while loading. */
    logs: z.array(RuleLogSchema).optional(),
  }),
  z.strictObject({
    t: z.literal("result"),
    id: z.number(),
    events: z.array(RuleEventSchema),
    logs: z.array(RuleLogSchema),
    states: z.record(z.string(), z.unknown()).optional(),
    evaluations: z.number(),
    errors: z.number(),
    /** Throws per handler in this batch (only handlers that threw). */
    errorsBy: z.record(z.string(), z.number()).optional(),
    /** Milliseconds the worker spent on the batch (handlers and bookkeeping). */
    busyMs: z.number(),
    /** Decoded items, only when recording is on. */
    items: z.array(z.unknown()).optional(),
  }),
  z.strictObject({
    t: z.literal("overrun"),
    /** The request that ran past its budget (-1: a load). */
    id: z.number(),
    phase: z.enum(["load", "evaluate", "unknown"]),
    /** The rule file (load) or handler (evaluate) that was running. */
    label: z.string(),
    ms: z.number(),
  }),
  z.strictObject({ t: z.literal("fatal"), message: z.string() }),
]);
export type Reply = z.infer<typeof ReplySchema>;

/** What the agent sends. Not parsed by the host beyond `t` (it trusts its parent). */
export type Request =
  | {
    t: "configure";
    services: Record<string, string[]>;
    agentPlugin: string;
    typesDb: string;
    budgetMs: number;
    loadBudgetMs: number;
    record: boolean;
  }
  | {
    t: "load";
    modules: Record<string, string>;
    rules: string[];
    states: Record<string, unknown>;
    disabled: string[];
  }
  | { t: "batch"; id: number; items: readonly unknown[]; skip: string[]; sync: boolean }
  | {
    t: "packets";
    id: number;
    data: Uint8Array;
    ends: Uint32Array;
    skip: string[];
    /** Send the handler-state changes since the last sync with this result (see STATE_SYNC_MS). */
    sync: boolean;
  };
