/**
 * The benchmarks' rule file (rules.ts, footprint.ts): five handlers per file (thresholds,
 * `sustained`/`consecutive` latches, counter rates), `i` making each file's names and limits its
 * own; 10 files give the 50 handlers the issues' figures are measured with.
 * @module
 */

/** Steady state: no condition holds (the usual case), so handler state settles and stays. */
export const RULE = (i: number) => `
export const metrics = {
  cpu_busy_${i}(m: any) {
    if (m.plugin === "cpu" && m.type_instance === "idle" && (m.rates[0] ?? 100) < 0) {
      return { service: "s", command: "c" };
    }
  },
  memory_low_${i}(m: any, ctx: any) {
    if (m.plugin !== "memory" || m.type_instance !== "free") return;
    if (ctx.sustained(Number(m.values[0]) < ${
  1000 + i
}, { samples: 3 })) return { service: "s", command: "c" };
  },
  errors_${i}(m: any, ctx: any) {
    if (m.type !== "if_errors") return;
    if (ctx.sustained((m.rates[0] ?? 0) > 1e9, { seconds: 30 })) return { service: "s", command: "c" };
  },
  disk_${i}(m: any) {
    if (m.type === "df_complex" && m.type_instance === "free" && Number(m.values[0]) < 0) {
      return { service: "s", command: "c" };
    }
  },
  load_${i}(m: any, ctx: any) {
    if (m.plugin !== "load") return;
    if (ctx.consecutive(Number(m.values[0]) > 1e6) > 3) return { service: "s", command: "c" };
  },
};
`;
