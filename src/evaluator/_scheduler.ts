/**
 * Scheduling of the rule stage: what goes to the rule host, when. Packets wait in a
 * {@linkcode PacketQueue}; `evaluate()` calls and (re)loads wait as jobs, in order. One pump
 * keeps up to `inFlight` batches in the host and runs loads between batches. A batch that gets
 * no result (a handler ran past the budget, the host crashed) is re-run alone in a new host
 * without the handler to blame, which the offence policy is told about.
 * @module
 */
import type { Logger, RuleEvent } from "../model/mod.ts";
import type { RuleCounters } from "./counters.ts";
import { bisect } from "./_bisect.ts";
import { describeOutcome, type HostProcess, type Outcome } from "./_host_client.ts";
import type { HostKeeper } from "./_host_keeper.ts";
import type { OffencePolicy } from "./_offences.ts";
import { PacketQueue } from "./_packet_queue.ts";
import { type Reply, type Request, type RuleLog, SLOW_FACTOR, STATE_SYNC_MS } from "./_protocol.ts";

/** What one batch (an `evaluate()` call, or packets) decided. */
export interface EvaluateResult {
  events: RuleEvent[];
  logs: RuleLog[];
  evaluations: number;
  /** Milliseconds the sandbox worker spent on the batch. */
  busyMs: number;
}

/** A packet batch done: arrival times (performance.now()) of its packets, for latency figures. */
export interface BatchDone {
  arrivals: Float64Array;
  doneAt: number;
  evaluations: number;
  busyMs: number;
}

/** Options of {@linkcode Scheduler} (defaults: see `EvaluatorOptions`). */
export interface SchedulerOptions {
  keeper: HostKeeper;
  offences: OffencePolicy;
  /** The handlers running now (a crash is bisected over them). */
  handlers(): readonly string[];
  /** Takes a batch's result in (state, counters, logs, events). */
  accept(reply: Extract<Reply, { t: "result" }>): EvaluateResult;
  logger: Logger;
  counters: RuleCounters;
  budgetMs: number;
  maxBatchPackets: number;
  maxBatchBytes: number;
  maxPendingPackets: number;
  maxPendingBytes: number;
  inFlight: number;
  batchDelayMs: number;
  onBatchDone: ((batch: BatchDone) => void) | undefined;
  /** Every decoded item is recorded: packets go to the host even with no handler loaded. */
  recording: boolean;
}

/** A queued `evaluate()` call or (re)load, run in order with the packet batches. */
type Job =
  | { kind: "items"; items: readonly unknown[]; done: (r: EvaluateResult | Error) => void }
  | { kind: "load"; done: () => void };

/** Builds a batch's request (`id`, handlers to `skip`). */
type MakeRequest = (id: number, skip: string[]) => Request;

/** One batch ready to send: how to build its request, and what to do with the outcome. */
interface Batch {
  make: MakeRequest;
  done: (r: EvaluateResult | Error) => void;
}

/** A batch sent to the host, waiting for its outcome. */
interface Flight {
  b: Batch;
  host: HostProcess;
  reply: Promise<Outcome>;
}

/**
 * The rule stage's scheduler (see the module comment). After `stop()`, `submit()` drops
 * packets, queued jobs end (evaluate() calls reject, loads resolve) and nothing is sent.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  /** The host answers within SLOW_FACTOR budgets (then it reports an overrun); plus slack. */
  readonly #replyTimeoutMs: number;
  readonly #queue: PacketQueue;
  readonly #jobs: Job[] = [];
  #running = false;
  #scheduled = false;
  #stopped = false;
  /** A load has run: the handlers (possibly none) are known. */
  #loaded = false;
  #batchId = 0;
  /**
   * Whether a load was asked for: until then packets only wait in the queue (the intake may
   * open before the rules are read; a packet sent to a host with no rule loaded would be lost).
   */
  #loadAsked = false;
  /** When handler-state changes last travelled with a packet batch (see STATE_SYNC_MS). */
  #lastSync = 0;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#replyTimeoutMs = options.budgetMs * SLOW_FACTOR + 2000;
    this.#queue = new PacketQueue(options.onBatchDone !== undefined);
  }

  /**
   * Queues one plaintext collectd packet (copied); dropped and counted when the queue is full.
   * Packets queued before the first `load()` wait for it, and are evaluated once it ran. After
   * that, with no handler loaded (and nothing recorded) a packet has no reader: it is not shipped
   * to the rule host at all.
   */
  submit(packet: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#loaded && !this.#o.recording && this.#o.handlers().length === 0) return;
    if (
      this.#queue.count >= this.#o.maxPendingPackets ||
      this.#queue.bytes + packet.length > this.#o.maxPendingBytes
    ) {
      this.#o.counters.dropped.inc();
      return;
    }
    this.#queue.push(packet);
    if (this.#loadAsked) this.#schedule();
  }

  /** Evaluates decoded items, in order with everything queued before. */
  evaluate(items: readonly unknown[]): Promise<EvaluateResult> {
    const { promise, resolve, reject } = Promise.withResolvers<EvaluateResult>();
    this.#jobs.push({
      kind: "items",
      items,
      done: (r) => r instanceof Error ? reject(r) : resolve(r),
    });
    this.#schedule();
    return promise;
  }

  /** Reloads the rules once the batches in flight have come back; resolves when it ran. */
  load(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#loadAsked = true;
    this.#jobs.push({ kind: "load", done: resolve });
    this.#schedule();
    return promise;
  }

  /** Ends every queued job and sends nothing more. */
  stop(): void {
    this.#stopped = true;
    for (const j of this.#jobs.splice(0)) {
      if (j.kind === "items") j.done(new Error("the rule stage stopped"));
      else j.done();
    }
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      void this.#pump();
    };
    if (this.#o.batchDelayMs) setTimeout(go, this.#o.batchDelayMs);
    else queueMicrotask(go);
  }

  #syncDue(): boolean {
    const now = performance.now();
    if (now - this.#lastSync < STATE_SYNC_MS) return false;
    this.#lastSync = now;
    return true;
  }

  /** The next batch: a queued evaluate() call, else pending packets; null before a load. */
  #nextBatch(): Batch | null {
    const job = this.#jobs[0];
    if (job?.kind === "items") {
      this.#jobs.shift();
      return {
        make: (id, skip) => ({ t: "batch", id, items: job.items, skip, sync: true }),
        done: job.done,
      };
    }
    if (job?.kind === "load") return null;
    const packets = this.#queue.take(this.#o.maxBatchPackets, this.#o.maxBatchBytes);
    if (packets === null) return null;
    const { data, ends, arrivals } = packets;
    return {
      make: (id, skip) => ({ t: "packets", id, data, ends, skip, sync: this.#syncDue() }),
      done: (r) => {
        if (r instanceof Error) this.#o.counters.dropped.inc(ends.length);
        else {
          this.#o.onBatchDone?.({
            arrivals,
            doneAt: performance.now(),
            evaluations: r.evaluations,
            busyMs: r.busyMs,
          });
        }
      },
    };
  }

  /**
   * Keeps up to `inFlight` batches in the host (a new one goes out as soon as one comes back,
   * so the worker never waits for the agent); loads run between batches, after the batches in
   * flight have come back. A batch that did not get a result (overrun, crash) is re-run alone
   * by #runBatch().
   */
  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const flights: Flight[] = [];
    try {
      while (!this.#stopped) {
        const job = this.#jobs[0];
        if (job?.kind === "load") {
          while (flights.length !== 0) await this.#land(flights.shift()!);
          this.#jobs.shift();
          await this.#o.keeper.reload();
          this.#loaded = true;
          job.done();
          continue;
        }
        while (flights.length < this.#o.inFlight) {
          const b = this.#nextBatch();
          if (b === null) break;
          const h = await this.#o.keeper.ensure();
          if (h === null) {
            b.done(new Error("the rule host is not running"));
            continue;
          }
          const request = b.make(++this.#batchId, []);
          flights.push({ b, host: h, reply: h.request(request, 2 * this.#replyTimeoutMs) });
        }
        const next = flights.shift();
        if (next === undefined) break;
        await this.#land(next);
      }
      while (flights.length !== 0) await this.#land(flights.shift()!);
    } finally {
      this.#running = false;
    }
    if (!this.#stopped && (this.#jobs.length !== 0 || this.#queue.count !== 0)) this.#schedule();
  }

  /**
   * Takes the outcome of a batch in flight. Without a result, the host is restarted (the
   * batches still in flight share the outcome: an overrun or a crash ends them all) and the
   * batch is re-run alone, without the handler that overran.
   */
  async #land(f: Flight): Promise<void> {
    const outcome = await f.reply;
    if (outcome.t === "result") {
      f.b.done(this.#o.accept(outcome));
      return;
    }
    if (this.#stopped) {
      f.b.done(new Error("the rule stage stopped"));
      return;
    }
    const { keeper, offences } = this.#o;
    const overran = outcome.t === "overrun" && outcome.phase === "evaluate";
    const skip: string[] = [];
    if (keeper.host === f.host) {
      await keeper.kill();
      // The first batch to land with the outcome counts the offence (once per overrun).
      if (overran) offences.offend(outcome.label, this.#overrunWhat(outcome.ms));
      else if (outcome.t !== "overrun" || outcome.phase === "unknown") {
        this.#o.logger.error("the rule host stopped during a batch; restarting it", {
          error: describeOutcome(outcome),
        });
      }
    }
    // A handler disabled meanwhile is not loaded by the new host; one that overran but is not
    // disabled yet is skipped for the batches that were in flight with it.
    if (overran && !offences.isDisabled(outcome.label)) skip.push(outcome.label);
    try {
      f.b.done(await this.#runBatch(f.b.make, skip));
    } catch (e) {
      f.b.done(e as Error);
    }
  }

  /**
   * Runs one batch alone, restarting the host and retrying without the culprit of an overrun.
   * When the host dies on the batch (not a budget: a crash, e.g. out of memory), the culprit is
   * found by bisection over the handlers before the batch is re-run without it.
   */
  async #runBatch(make: MakeRequest, skip: string[] = []): Promise<EvaluateResult> {
    const { keeper, offences } = this.#o;
    for (let attempt = 0; attempt < 4; attempt++) {
      const h = await keeper.ensure();
      if (h === null) throw new Error("the rule host is not running");
      const id = ++this.#batchId;
      const reply = await h.request(make(id, skip), this.#replyTimeoutMs);
      if (reply.t === "result") return this.#o.accept(reply);
      await keeper.kill();
      if (reply.t === "overrun" && reply.phase === "evaluate" && reply.id === id) {
        offences.offend(reply.label, this.#overrunWhat(reply.ms));
        skip.push(reply.label);
        continue;
      }
      this.#o.logger.error("the rule host stopped during a batch; restarting it", {
        error: describeOutcome(reply),
      });
      if (reply.t === "died") {
        const culprit = await this.#findCrasher(make, skip);
        if (culprit !== null) {
          offences.offend(culprit, `crashed the rule host (${reply.message})`);
          skip.push(culprit);
          continue;
        }
      }
      throw new Error("batch lost");
    }
    throw new Error("batch abandoned after repeated budget overruns");
  }

  /**
   * The one handler that makes the host fail on a batch, by bisection (each probe runs the
   * batch in a fresh host with part of the handlers, and its results are discarded); null when
   * the failure does not follow one handler.
   */
  async #findCrasher(make: MakeRequest, skip: string[]): Promise<string | null> {
    const { keeper } = this.#o;
    const fails = async (only: string[]): Promise<boolean | null> => {
      const h = await keeper.ensure();
      if (h === null) return null;
      // (a probe's host loads the rule set anew: the handlers as loaded now)
      const others = this.#o.handlers().filter((n) => !only.includes(n));
      const reply = await h.request(make(++this.#batchId, others), this.#replyTimeoutMs);
      await keeper.kill(); // a probe's state changes are never kept
      return reply.t !== "result";
    };
    return await bisect(this.#o.handlers().filter((n) => !skip.includes(n)), fails);
  }

  #overrunWhat(ms: number): string {
    return `ran past the ${this.#o.budgetMs} ms budget (stopped after ${ms} ms)`;
  }
}
