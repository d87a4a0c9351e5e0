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
import type {
  createDecodeStats,
  DecodeOptions,
  decodePacket,
  parseTypesDb,
  RateTracker,
} from "../../collectd/mod.ts";
import type { ContextRuntime } from "../_context.ts";
import type { FrameCodec } from "../_frames.ts";
import type { ProgressView } from "../_progress.ts";
import { servicesOf } from "./actions.ts";
import type { Glue } from "./enclose.ts";
import { safeString } from "./errors.ts";
import { createLoader } from "./loader.ts";
import { LogBook } from "./logs.ts";
import { type Batch, createRuleSet, type Item, type LoadRequest } from "./rules.ts";

/** The parts the worker is built from (all created before the enclosure). */
export interface WorkerParts {
  glue: Glue;
  runtime: ContextRuntime;
  collectd: CollectdDecoder;
  frames: FrameCodec;
  progressView: (buffer: SharedArrayBuffer) => ProgressView;
}

/** The collectd decoder the worker decodes `packets` requests with (src/collectd/). */
export interface CollectdDecoder {
  decodePacket: typeof decodePacket;
  createDecodeStats: typeof createDecodeStats;
  RateTracker: typeof RateTracker;
  parseTypesDb: typeof parseTypesDb;
}

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
  const freeze = glue.freeze;
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

  glue.setConsoleSink((level, args) => {
    let text = "";
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      text += (i === 0 ? "" : " ") + (typeof a === "string" ? a : display(a));
    }
    logs.console(level, text, rules.current());
  });
  glue.setRejectionSink((reason) => {
    const d = loader.describe(reason);
    logs.glue({
      level: "error",
      msg: `unhandled rejection in a rule: ${d.message}`,
      handler: rules.current(),
      file: d.file,
      line: d.line,
      stack: d.stack,
    });
  });

  // Packets are decoded here, into one reused array (rates from this worker's own tracker, so
  // the first sample after a rule-host restart has null rates). Every item is frozen before a
  // handler sees it: one handler cannot change what the next one sees.
  let rates = new collectd.RateTracker();
  let decoded: Item[] = [];
  const visitor = {
    metric: (m: Item & { values: unknown[]; rates: unknown[]; dstypes: unknown[] }) => {
      freeze(m.values);
      freeze(m.rates);
      freeze(m.dstypes);
      decoded.push(freeze(m));
    },
    notification: (n: Item) => void decoded.push(freeze(n)),
  };
  const decodeOptions: DecodeOptions = {
    typesDb: collectd.parseTypesDb(""),
    rates,
    stats: collectd.createDecodeStats(),
    onUnknownType: (type: string) =>
      logs.glue({
        level: "warn",
        msg: `collectd type "${type}" is not in types.db: its values keep positional names ` +
          "(value, or value0, value1, ...); add it to a TypesDB file",
      }),
  };
  function decode(data: Uint8Array, ends: Uint32Array): Item[] {
    decoded = record ? [] : decoded;
    decoded.length = 0;
    let from = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      collectd.decodePacket(data.subarray(from, end), visitor as never, decodeOptions);
      from = end;
    }
    return decoded;
  }

  /** Items from the agent (`batch`), frozen like decoded ones. */
  function frozen(items: Item[]): Item[] {
    for (const item of items) {
      const m = item as Item & Record<string, unknown>;
      for (const k of ["values", "rates", "dstypes", "dsnames"]) {
        if (Array.isArray(m[k])) freeze(m[k]);
      }
      freeze(item);
    }
    return items;
  }

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
      decodeOptions.typesDb = collectd.parseTypesDb(msg.typesDb);
      decodeOptions.rates = rates = new collectd.RateTracker();
    } else if (msg.t === "load") {
      glue.toHost({ t: "names", rules: Object.keys(msg.modules), handlers: [] });
      const r = await rules.load(msg);
      progress.end();
      const handlers = rules.names;
      glue.toHost({ t: "names", rules: Object.keys(msg.modules), handlers });
      post(frames.toJson({ t: "loaded", results: r.results, handlers, logs: logs.take() }));
    } else if (msg.t === "batch") {
      progress.begin(msg.id, budgetMs);
      await onBatch(msg, frozen(msg.items), glue.now(), false);
    } else if (msg.t === "packets") {
      progress.begin(msg.id, budgetMs);
      const started = glue.now();
      await onBatch(msg, decode(msg.data, msg.ends), started, true);
    }
  }

  /** Reads and answers the agent's requests until stdin ends (or stdout breaks). */
  async function serve() {
    try {
      const reader = frames.reader();
      for await (const chunk of glue.stdin) {
        let requests: unknown[];
        try {
          requests = reader.push(chunk);
        } catch (e) {
          post(
            frames.toJson({ t: "fatal", message: `bad request from the agent: ${safeString(e)}` }),
          );
          break;
        }
        for (const request of requests) await handle(request as Request);
      }
    } finally {
      glue.toHost({ t: "eof" }); // the host exits: no rule host outlives its agent
    }
  }

  glue.toHost({ t: "progress", buffer: glue.progress });
  void serve();
}

const NO_SKIP: ReadonlySet<string> = new Set();

/** A console argument as text (JSON where it is JSON-able). */
function display(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x) ?? safeString(v);
  } catch {
    return safeString(v);
  }
}
