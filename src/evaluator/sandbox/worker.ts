/**
 * The rule worker's request loop: reads the agent's requests from the process's stdin
 * (`configure`, `load`, `batch` with decoded items, `packets` with raw collectd packets,
 * decoded here), and writes `loaded` and `result` frames to its stdout itself, through the
 * references {@linkcode enclose} took before any rule existed. The host's main thread watches
 * the budget through the shared progress buffer (see `_progress.ts`), which this side creates
 * and posts to it first, followed by the names of rule files and handlers (for its overrun
 * reports) and, at the end of the input, `eof`.
 * @module
 */
import type { ContextRuntime } from "../_context.ts";
import type { FrameCodec } from "../_frames.ts";
import type { ProgressView } from "../_progress.ts";
import { servicesOf } from "./actions.ts";
import type { Glue } from "./enclose.ts";
import { safeString } from "./errors.ts";
import { type CollectdDecoder, createItemSource } from "./items.ts";
import { createLoader } from "./loader.ts";
import { LogBook } from "./logs.ts";
import { routeRuleOutput } from "./rule_output.ts";
import { type Batch, createRuleSet, type Item, type LoadRequest } from "./rules.ts";

/** The parts the worker is built from (all created before the enclosure). */
export interface WorkerParts {
  glue: Glue;
  runtime: ContextRuntime;
  collectd: CollectdDecoder;
  frames: FrameCodec;
  progressView: (buffer: SharedArrayBuffer) => ProgressView;
}

/** Most bytes one read of stdin takes (a packet batch's frame is at most ~60 KiB). */
const READ_BYTES = 64 * 1024;
/** While requests keep coming, the worker's event loop turns at least this often (ms). */
const TURN_MS = 100;

/** Most series one packet batch's sync carries. */
const SYNC_SERIES = 512;

type Request =
  | {
    t: "configure";
    services: Record<string, string[]>;
    agentPlugin: string;
    record: boolean;
    budgetMs: number;
    loadBudgetMs: number;
    typesDb: string;
  }
  | ({ t: "load" } & LoadRequest)
  | { t: "batch"; id: number; items: Item[]; skip?: string[]; sync?: boolean }
  | {
    t: "packets";
    id: number;
    data: Uint8Array;
    ends: Uint32Array;
    skip?: string[];
    sync?: boolean;
  };

/** Starts serving: posts the progress buffer to the host, then reads requests until stdin ends. */
export function startWorker(parts: WorkerParts): void {
  const { glue, frames, collectd } = parts;
  const progress = parts.progressView(glue.progress);
  const logs = new LogBook();
  const loader = createLoader(glue);
  const rules = createRuleSet({
    glue,
    loader,
    runtime: parts.runtime,
    progress,
    logs,
    toJson: frames.toJson,
  });
  const post = (json: string) => void progress.write(glue.stdout, frames.jsonFrame(json), true);
  let budgetMs = 50;
  let record = false;

  routeRuleOutput(glue, { logs, describe: loader.describe, current: () => rules.current() });
  const source = createItemSource(collectd, glue, logs);

  /** One batch: evaluate, then the bookkeeping, then the reply. */
  async function onBatch(
    msg: { id: number; skip?: string[]; sync?: boolean },
    items: Item[],
    started: number,
    packets: boolean,
  ) {
    const batch: Batch = {
      skip: msg.skip?.length ? new Set(msg.skip) : NO_SKIP,
      events: [],
      evaluations: 0,
      errors: 0,
      errorsBy: undefined,
    };
    rules.evaluate(items, batch);
    if (rules.jobs.pending) await rules.jobs.settle();
    rules.maybeSweep(started);
    const states = rules.changes(msg.sync === true, packets ? SYNC_SERIES : Infinity);
    const busyMs = glue.now() - started;
    progress.end();
    const head = frames.toJson({
      t: "result",
      id: msg.id,
      events: batch.events,
      logs: logs.take(),
      evaluations: batch.evaluations,
      errors: batch.errors,
      errorsBy: batch.errorsBy,
      busyMs,
      ...(record ? { items } : {}),
    });
    post(states === "" ? head : head.slice(0, -1) + ',"states":{' + states + "}}");
  }

  async function handle(msg: Request) {
    if (msg.t === "configure") {
      rules.configure({
        services: servicesOf(msg.services),
        agentPlugin: msg.agentPlugin,
        loadBudgetMs: msg.loadBudgetMs,
      });
      record = msg.record;
      budgetMs = msg.budgetMs;
      source.configure(msg.typesDb);
    } else if (msg.t === "load") {
      glue.toHost({ t: "names", rules: Object.keys(msg.modules), handlers: [] });
      const r = await rules.load(msg);
      progress.end();
      const handlers = rules.names;
      glue.toHost({ t: "names", rules: Object.keys(msg.modules), handlers });
      post(frames.toJson({ t: "loaded", results: r.results, handlers, logs: logs.take() }));
      glue.collectGarbage(); // the load's garbage (sources, transpiled modules, old rules)
    } else if (msg.t === "batch") {
      progress.begin(msg.id, budgetMs);
      await onBatch(msg, source.frozen(msg.items), glue.now(), false);
    } else if (msg.t === "packets") {
      progress.begin(msg.id, budgetMs);
      const started = glue.now();
      await onBatch(msg, source.decode(msg.data, msg.ends, record), started, true);
    }
  }

  /**
   * Reads and answers the agent's requests until stdin ends (or stdout breaks). The read blocks
   * this thread (no hop through the runtime's blocking-I/O threads and back: at 100 k values/s
   * that hop was a quarter of the rule host's CPU), so the event loop turns only when a request
   * awaits something (a load) and, for V8's own tasks, at least every TURN_MS while busy.
   */
  async function serve() {
    try {
      const reader = frames.reader();
      const buffer = new Uint8Array(READ_BYTES);
      let turned = glue.now();
      for (;;) {
        const n = glue.readSync(buffer);
        if (n === null) break;
        let requests: unknown[];
        try {
          requests = reader.push(buffer.slice(0, n));
        } catch (e) {
          post(
            frames.toJson({ t: "fatal", message: `bad request from the agent: ${safeString(e)}` }),
          );
          break;
        }
        for (const request of requests) await handle(request as Request);
        if (glue.now() - turned >= TURN_MS) {
          await glue.nextTurn();
          turned = glue.now();
        }
      }
    } finally {
      glue.toHost({ t: "eof" }); // the host exits: no rule host outlives its agent
    }
  }

  glue.toHost({ t: "progress", buffer: glue.progress });
  void serve();
}

const NO_SKIP: ReadonlySet<string> = new Set();
