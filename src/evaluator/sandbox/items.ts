/**
 * The items handlers see: collectd packets decoded here in the worker (only bytes cross into
 * the sandbox), or items the agent sent decoded (`batch`). Every item is frozen before a
 * handler sees it, with its `values`, `rates`, `dstypes` and `dsnames`: one handler cannot
 * change what the next one sees.
 *
 * The packet path is the hot path: decoded items go into one reused array (a new one per
 * batch only while recording, since the reply then carries them), and the decoder's visitor
 * and options are built once.
 * @module
 */
import type {
  createDecodeStats,
  DecodeOptions,
  decodePacket,
  parseTypesDb,
  RateTracker,
} from "../../collectd/mod.ts";
import type { Glue } from "./enclose.ts";
import type { LogBook } from "./logs.ts";
import type { Item } from "./types.ts";

/** The collectd decoder the worker decodes `packets` requests with (src/collectd/). */
export interface CollectdDecoder {
  decodePacket: typeof decodePacket;
  createDecodeStats: typeof createDecodeStats;
  RateTracker: typeof RateTracker;
  parseTypesDb: typeof parseTypesDb;
}

const ARRAYS = ["values", "rates", "dstypes", "dsnames"];

/** The item source of one worker; unknown collectd types are logged to `logs`. */
export function createItemSource(collectd: CollectdDecoder, glue: Glue, logs: LogBook) {
  const freeze = glue.freeze;
  // Rates come from this worker's own tracker, so the first sample after a rule-host restart
  // has null rates.
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
    rates: new collectd.RateTracker(),
    stats: collectd.createDecodeStats(),
    onUnknownType: (type: string) =>
      logs.glue({
        level: "warn",
        msg: `collectd type "${type}" is not in types.db: its values keep positional names ` +
          "(value, or value0, value1, ...); add it to a TypesDB file",
      }),
  };

  return {
    /** Decodes with `typesDbText` from now on, with fresh rates (a `configure` request). */
    configure(typesDbText: string): void {
      decodeOptions.typesDb = collectd.parseTypesDb(typesDbText);
      decodeOptions.rates = new collectd.RateTracker();
    },
    /**
     * The items of the packets in `data` (each ending at the next offset of `ends`). The array
     * is reused by the next call unless `record` (the reply then carries it).
     */
    decode(data: Uint8Array, ends: Uint32Array, record: boolean): Item[] {
      decoded = record ? [] : decoded;
      decoded.length = 0;
      let from = 0;
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i]!;
        collectd.decodePacket(data.subarray(from, end), visitor as never, decodeOptions);
        from = end;
      }
      return decoded;
    },
    /** Items from the agent (`batch`), frozen like decoded ones. */
    frozen(items: Item[]): Item[] {
      for (const item of items) {
        const m = item as Item & Record<string, unknown>;
        for (const k of ARRAYS) {
          if (Array.isArray(m[k])) freeze(m[k]);
        }
        freeze(item);
      }
      return items;
    },
  };
}
