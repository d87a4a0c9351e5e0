/**
 * Soak harness: starts the real pieces, runs the load and the fault schedule for the asked time,
 * drains, stops everything and returns the checks' rows.
 */
import { checkAlive } from "./checks/alive.ts";
import { checkRemoteAudit, checkRuleAudit } from "./checks/audit.ts";
import { faultSummary } from "./checks/faults.ts";
import { checkFlood } from "./checks/flood.ts";
import {
  checkExactlyOneResult,
  checkExpectedCodes,
  checkRefusedRedeliveries,
} from "./checks/results.ts";
import { checkRss } from "./checks/rss.ts";
import { checkCooldown, checkRuleRecovery } from "./checks/rules.ts";
import { checkNoDoubleRun } from "./checks/runs.ts";
import { AgentHandle, newFaultLog, pause, type SoakContext } from "./context.ts";
import { parseMarks, readAudit, type SoakFacts } from "./facts.ts";
import { killAgentMidCommand } from "./faults/agent.ts";
import { killActiveBroker } from "./faults/broker.ts";
import { badCommands } from "./faults/commands.ts";
import { flood } from "./faults/flood.ts";
import { swapRules } from "./faults/rules.ts";
import { Operator } from "./operator.ts";
import { Brokers, startCollectd } from "./peers.ts";
import type { Proc } from "./proc.ts";
import { type RssSample, sampleRss } from "./rss.ts";
import { healthz, type Scrape, scrape } from "./scrape.ts";
import { createLayout } from "./setup.ts";
import type { Row } from "./table.ts";

/** The fault injectors, by the name `--faults` takes. */
export const FAULTS = ["commands", "flood", "broker", "agent-kill", "rules"] as const;
export type FaultName = typeof FAULTS[number];

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /** Seconds of load and faults (the drain comes on top). */
  seconds: number;
  /** Which injectors run (default all). */
  faults?: readonly FaultName[];
  /** Bad datagrams per second during a flood. Default 2000. */
  floodRate?: number;
  /** Kill the agent in every Nth 60-s cycle (1 = every cycle). Default 1. */
  agentKillEvery?: number;
  /** Highest accepted loss of valid values during floods. Default 0.1. */
  floodLossLimit?: number;
  /** Seconds without a result after which the operator re-sends a command. Default 30. */
  resendAfterS?: number;
  /** Keep the temp dir (logs, state) afterwards. */
  keep?: boolean;
  say?: (msg: string) => void;
}

/** The outcome: one row per check, and where the logs are. */
export interface SoakReport {
  rows: Row[];
  dir: string;
  facts: SoakFacts;
}

const CYCLE_MS = 60_000;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const say = options.say ?? ((m: string) => console.error(`[soak] ${m}`));
  const faults = new Set(options.faults ?? FAULTS);
  const cycles = Math.max(1, Math.ceil((options.seconds * 1000) / CYCLE_MS));
  const layout = await createLayout({
    quickCommands: Math.ceil(options.seconds / 2) + 2 * cycles + 5,
    slowCommands: cycles + 2,
  });
  say(`dir ${layout.dir}`);
  const brokers = new Brokers(layout);
  const agent = new AgentHandle(layout);
  const operator = new Operator(layout, brokers);
  const control = new AbortController();
  const ctx: SoakContext = {
    layout,
    brokers,
    operator,
    agent,
    faults: newFaultLog(),
    say,
    signal: control.signal,
  };
  const rss: RssSample[] = [];
  const scrapes: Scrape[] = [];
  const health: (number | null)[] = [];
  let collectd: Proc | null = null;
  let finalExit: number | null = null;
  const startedAt = Date.now();
  let endedAt = startedAt;
  const resendMs = (options.resendAfterS ?? 30) * 1000;
  try {
    await brokers.start(0);
    await brokers.start(1);
    collectd = await startCollectd(layout);
    await agent.start();
    operator.start();
    const until = Date.now() + 30_000;
    while (brokers.active() === null && Date.now() < until) await pause(100);
    say(`agent on broker ${brokers.active() === null ? "none" : "ab"[brokers.active()!]}`);

    const end = Date.now() + options.seconds * 1000;
    const stopAt = setTimeout(() => control.abort(), options.seconds * 1000);
    const loops = [
      sampler(ctx, rss, scrapes, health),
      commandLoop(ctx, Math.ceil(options.seconds / 2)),
      resendLoop(ctx, control.signal, resendMs),
      faultSchedule(ctx, faults, cycles, end, options),
    ];
    await Promise.all(loops);
    clearTimeout(stopAt);
    endedAt = Date.now();

    say(`draining: ${operator.pending().length} commands without a result`);
    const drainUntil = Date.now() + 90_000;
    while (operator.pending().length > 0 && Date.now() < drainUntil) {
      operator.resendOverdue(resendMs);
      await pause(500);
    }
    // Late duplicates, if any; and time for the rule to fire again after a late fix.
    const lastFix = ctx.faults.ruleFixedAt.at(-1) ?? 0;
    await pause(Math.max(3000, lastFix + 15_000 - Date.now()));
    const last = await scrape(layout.telemetryPort, agent.generation);
    if (last) scrapes.push(last);
    say("stopping the agent (SIGTERM)");
    const status = await agent.stop();
    finalExit = status?.code ?? null;
  } finally {
    control.abort();
    await agent.stop().catch(() => {});
    await operator.stop().catch(() => {});
    await collectd?.stop().catch(() => {});
    await brokers.stop().catch(() => {});
  }
  const facts: SoakFacts = {
    layout,
    startedAt,
    endedAt,
    tasks: [...operator.tasks.values()],
    results: operator.results,
    marks: parseMarks(await Deno.readTextFile(layout.markerFile).catch(() => "")),
    audit: await readAudit(layout.stateDir),
    selfExits: agent.selfExits,
    generations: agent.generation,
    generationStarts: agent.startedAt,
    rss,
    scrapes,
    health,
    faults: ctx.faults,
    peerCrashes: [...brokers.crashed(), ...(collectd?.exitedOnItsOwn ? ["collectd"] : [])],
    finalExit,
    ...(options.floodLossLimit !== undefined ? { floodLossLimit: options.floodLossLimit } : {}),
  };
  const rows = [
    checkExactlyOneResult(facts),
    checkRefusedRedeliveries(facts),
    checkNoDoubleRun(facts),
    checkRuleAudit(facts),
    checkRemoteAudit(facts),
    checkAlive(facts),
    checkRss(facts),
    checkFlood(facts),
    checkExpectedCodes(facts),
    checkCooldown(facts),
    checkRuleRecovery(facts),
    faultSummary(facts),
  ];
  if (options.keep) {
    await Deno.writeTextFile(`${layout.dir}/facts.json`, JSON.stringify({ ...facts, rows }));
  } else await Deno.remove(layout.dir, { recursive: true }).catch(() => {});
  return { rows, dir: layout.dir, facts };
}

/** RSS, /metrics and /healthz every 2 s. */
async function sampler(
  ctx: SoakContext,
  rss: RssSample[],
  scrapes: Scrape[],
  health: (number | null)[],
) {
  while (!ctx.signal.aborted) {
    const p = ctx.agent.proc;
    if (p) {
      const s = sampleRss(p.pid, ctx.agent.generation);
      if (s) rss.push(s);
      const m = await scrape(ctx.layout.telemetryPort, ctx.agent.generation);
      if (m) scrapes.push(m);
      health.push(await healthz(ctx.layout.telemetryPort));
    }
    await pause(2000, ctx.signal);
  }
}

/** A new quick command every 2 s, each with its own command name (so a double run shows). */
async function commandLoop(ctx: SoakContext, count: number) {
  // The quick commands after `count` are kept for the broker faults' in-flight commands.
  for (let i = 0; i < count && !ctx.signal.aborted; i++) {
    ctx.operator.send(`q${i}`, "run", 0);
    await pause(2000, ctx.signal);
  }
}

async function resendLoop(ctx: SoakContext, signal: AbortSignal, overdueMs: number) {
  while (!signal.aborted) {
    await pause(2000, signal);
    const n = ctx.operator.resendOverdue(overdueMs);
    if (n) ctx.say(`operator: re-sent ${n} overdue commands`);
  }
}

/** The faults, in 60-s cycles, each at its offset within the cycle. */
async function faultSchedule(
  ctx: SoakContext,
  faults: Set<FaultName>,
  cycles: number,
  end: number,
  options: SoakOptions,
) {
  let slow = 0;
  for (let c = 0; c < cycles && !ctx.signal.aborted; c++) {
    const t0 = Date.now();
    const at = async (offsetMs: number) => {
      const wait = t0 + offsetMs - Date.now();
      if (wait > 0) await pause(wait, ctx.signal);
      return !ctx.signal.aborted && Date.now() < end;
    };
    const step = async (name: string, fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (e) {
        ctx.faults.notes.push(`${name}: ${(e as Error).message.split("\n")[0]}`);
      }
    };
    if (faults.has("commands") && await at(3_000)) await step("commands", () => badCommands(ctx));
    if (faults.has("flood") && await at(6_000)) {
      await step("flood", () => flood(ctx, { seconds: 6, rate: options.floodRate ?? 2000 }));
    }
    const spare = (n: number) => `q${ctx.layout.quickCommands - 1 - n}`; // the loop's last ones
    const inFlight = () => void ctx.operator.send(spare(c * 2), "run", 0);
    if (faults.has("broker") && await at(16_000)) {
      await step("broker", () => killActiveBroker(ctx, 3000, inFlight));
    }
    if (faults.has("agent-kill") && c % (options.agentKillEvery ?? 1) === 0 && await at(24_000)) {
      await step("agent-kill", () => killAgentMidCommand(ctx, `k${slow++}`));
    }
    if (faults.has("rules") && await at(34_000)) {
      await step("rules", () => swapRules(ctx, 8000, 6000));
    }
    const inFlight2 = () => void ctx.operator.send(spare(c * 2 + 1), "run", 0);
    if (faults.has("broker") && await at(52_000)) {
      await step("broker", () => killActiveBroker(ctx, 3000, inFlight2));
    }
    await at(CYCLE_MS);
  }
}
