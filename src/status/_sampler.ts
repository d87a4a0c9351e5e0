import type { Counters } from "../model/mod.ts";

/** The figures `agent status` reads from the registry every stage already counts into. */
export interface Totals {
  packets: number;
  values: number;
  /** `intake/<reason>` (edge_agent_collectd_dropped_total) and `rules/queue` → total. */
  drops: Map<string, number>;
  hostRestarts: number;
  spool: number;
}

const NAMES = {
  packets: "edge_agent_collectd_packets_total",
  values: "edge_agent_collectd_values_total",
  intakeDrops: "edge_agent_collectd_dropped_total",
  ruleDrops: "edge_agent_rules_dropped_packets_total",
  hostRestarts: "edge_agent_rules_host_restarts_total",
  spool: "edge_agent_mqtt_spool_entries",
} as const;

/** One pass over the registry: the totals `agent status` shows. */
export function readTotals(counters: Counters): Totals {
  const t: Totals = { packets: 0, values: 0, drops: new Map(), hostRestarts: 0, spool: 0 };
  const add = (key: string, n: number) => t.drops.set(key, (t.drops.get(key) ?? 0) + n);
  for (const s of counters.snapshot()) {
    switch (s.name) {
      case NAMES.packets:
        t.packets += s.value;
        break;
      case NAMES.values:
        t.values += s.value;
        break;
      case NAMES.intakeDrops:
        add(`intake/${s.labels.reason ?? "unknown"}`, s.value);
        break;
      case NAMES.ruleDrops:
        add("rules/queue", s.value);
        break;
      case NAMES.hostRestarts:
        t.hostRestarts += s.value;
        break;
      case NAMES.spool:
        t.spool += s.value;
    }
  }
  return t;
}

/** Rates over the last minute and the last packet's age, from samples of the totals. */
export interface Rates {
  windowS: number;
  packetsPerS: number;
  valuesPerS: number;
  /** Seconds since the packet counter last moved (1-s resolution); null: never since start. */
  lastPacketAgeS: number | null;
  /** Per drop key: how many in the window. */
  dropsInWindow: Map<string, number>;
  now: Totals;
}

/** Options of {@linkcode createSampler}. */
export interface SamplerOptions {
  /** Default Date.now. */
  now?: () => number;
  /** Seconds the rates cover. Default 60. */
  windowS?: number;
}

/**
 * Samples the registry's totals (on a 1-s timer the caller runs): per-second rates come from
 * the difference of two samples, the last packet's time from the sample at which the packet
 * counter last moved. Nothing here runs per packet.
 */
export function createSampler(counters: Counters, options: SamplerOptions = {}) {
  const now = options.now ?? Date.now;
  const windowMs = (options.windowS ?? 60) * 1000;
  const samples: { t: number; totals: Totals }[] = [];
  let lastPacketAt: number | null = null;

  function note(t: number, totals: Totals) {
    const last = samples[samples.length - 1];
    if (totals.packets > (last?.totals.packets ?? 0)) lastPacketAt = t;
  }

  return {
    /** Takes one sample (every second). */
    tick() {
      const t = now();
      const totals = readTotals(counters);
      note(t, totals);
      samples.push({ t, totals });
      // keep one sample at or before the window's start, so the window is full
      while (samples.length > 2 && samples[1]!.t <= t - windowMs) samples.shift();
    },
    /** The rates now: from the oldest sample in the window to a fresh reading. */
    rates(): Rates {
      const t = now();
      const current = readTotals(counters);
      const base = samples[0];
      const last = samples[samples.length - 1];
      const moved = current.packets > (last?.totals.packets ?? 0);
      const age = moved ? 0 : lastPacketAt === null ? null : (t - lastPacketAt) / 1000;
      const dropsInWindow = new Map<string, number>();
      for (const [k, v] of current.drops) {
        dropsInWindow.set(k, v - (base?.totals.drops.get(k) ?? 0));
      }
      const span = base ? (t - base.t) / 1000 : 0;
      const perS = (a: number, b: number) => span > 0 ? Math.max(0, a - b) / span : 0;
      return {
        windowS: Math.round(span * 10) / 10,
        packetsPerS: perS(current.packets, base?.totals.packets ?? 0),
        valuesPerS: perS(current.values, base?.totals.values ?? 0),
        lastPacketAgeS: age === null ? null : Math.round(age * 10) / 10,
        dropsInWindow,
        now: current,
      };
    },
  };
}

export type Sampler = ReturnType<typeof createSampler>;
