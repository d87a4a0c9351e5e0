/**
 * Soak harness: what the injectors act on and what they record for the checks. The agent is
 * restartable (each start is a new generation); an exit the harness did not cause is recorded.
 */
import type { Operator } from "./operator.ts";
import type { Brokers } from "./peers.ts";
import { agentReady, spawnAgent } from "./peers.ts";
import type { Proc } from "./proc.ts";
import type { SoakLayout } from "./setup.ts";

/** Times (ms since epoch) and counts the injectors record. */
export interface FaultLog {
  floodWindows: [number, number][];
  floodSent: Record<string, number>;
  brokerKills: number;
  agentKills: number;
  /** When the rule file was put back to the good version. */
  ruleFixedAt: number[];
  ruleSwaps: number;
  notes: string[];
}

/** The agent process across restarts. */
export class AgentHandle {
  proc: Proc | null = null;
  generation = 0;
  /** Exits the harness did not cause: `agent#N exited with code X`. */
  readonly selfExits: string[] = [];
  /** Start time of each generation (ms since epoch), for RSS trends. */
  readonly startedAt: number[] = [];
  #l: SoakLayout;
  #restarting = false;

  constructor(l: SoakLayout) {
    this.#l = l;
  }

  /** Starts a new generation and waits until it listens (it is tracked even if it never does). */
  async start(): Promise<void> {
    this.generation++;
    this.startedAt.push(Date.now());
    const p = spawnAgent(this.#l, this.generation);
    this.proc = p;
    p.status.then((s) => {
      if (p.exitedOnItsOwn) {
        this.selfExits.push(`${p.name} exited on its own: code ${s.code} signal ${s.signal}`);
        // keep the soak going so the other checks still mean something
        if (this.proc === p && !this.#restarting) void this.start().catch(() => {});
      }
    });
    await agentReady(p);
  }

  /** SIGKILL (expected), then a new generation after `pauseMs`. */
  async killAndRestart(pauseMs: number): Promise<void> {
    const p = this.proc;
    this.#restarting = true;
    try {
      p?.kill("SIGKILL");
      await p?.status;
      await new Promise((r) => setTimeout(r, pauseMs));
      await this.start();
    } finally {
      this.#restarting = false;
    }
  }

  async stop(): Promise<Deno.CommandStatus | undefined> {
    this.#restarting = true;
    return await this.proc?.stop(40_000);
  }
}

/** Everything an injector may touch. */
export interface SoakContext {
  layout: SoakLayout;
  brokers: Brokers;
  operator: Operator;
  agent: AgentHandle;
  faults: FaultLog;
  /** A progress line (stderr). */
  say(msg: string): void;
  /** Aborted when the soak is over. */
  signal: AbortSignal;
}

export function newFaultLog(): FaultLog {
  return {
    floodWindows: [],
    floodSent: {},
    brokerKills: 0,
    agentKills: 0,
    ruleFixedAt: [],
    ruleSwaps: 0,
    notes: [],
  };
}

/** Sleeps `ms` or until `signal` aborts (resolves either way). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
