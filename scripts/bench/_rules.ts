/**
 * The benchmarks' rule file (rules.ts, footprint.ts): five handlers per file (thresholds,
 * `sustained`/`consecutive` latches, counter rates), `i` making each file's names and limits its
 * own; 10 files give the 50 handlers the issues' figures are measured with.
 * @module
 */

/** One handler: the plugin (and type) it reads, and its body, which tests them itself too. */
interface BenchHandler {
  name: string;
  plugin: string;
  type?: string;
  body: (i: number) => string;
}

const HANDLERS: BenchHandler[] = [
  {
    name: "cpu_busy",
    plugin: "cpu",
    body: () => `
    if (m.plugin === "cpu" && m.type_instance === "idle" && (m.rates[0] ?? 100) < 0) {
      return { service: "s", command: "c" };
    }`,
  },
  {
    name: "memory_low",
    plugin: "memory",
    body: (i) => `
    if (m.plugin !== "memory" || m.type_instance !== "free") return;
    if (ctx.sustained(Number(m.values[0]) < ${1000 + i}, { samples: 3 })) {
      return { service: "s", command: "c" };
    }`,
  },
  {
    name: "errors",
    plugin: "interface",
    type: "if_errors",
    body: () => `
    if (m.type !== "if_errors") return;
    if (ctx.sustained((m.rates[0] ?? 0) > 1e9, { seconds: 30 })) return { service: "s", command: "c" };`,
  },
  {
    name: "disk",
    plugin: "df",
    body: () => `
    if (m.type === "df_complex" && m.type_instance === "free" && Number(m.values[0]) < 0) {
      return { service: "s", command: "c" };
    }`,
  },
  {
    name: "load",
    plugin: "load",
    body: () => `
    if (m.plugin !== "load") return;
    if (ctx.consecutive(Number(m.values[0]) > 1e6) > 3) return { service: "s", command: "c" };`,
  },
];

/**
 * Rule file `i`. Steady state: no condition holds (the usual case), so handler state settles and
 * stays. `declared`: each handler says the plugin (and type) it reads (`{ plugin, handle }`,
 * docs/rules.md), so the agent calls it only for those items; its body is the same.
 */
export const RULE = (i: number, declared = false) =>
  `export const metrics = {\n${
    HANDLERS.map((h) => {
      const head = `(m: any, ctx: any) {${h.body(i)}\n  }`;
      if (!declared) return `  ${h.name}_${i}${head},\n`;
      const type = h.type === undefined ? "" : ` type: ${JSON.stringify(h.type)},`;
      return `  ${h.name}_${i}: { plugin: ${JSON.stringify(h.plugin)},${type} handle${head} },\n`;
    }).join("")
  }};\n`;
