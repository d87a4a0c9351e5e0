import type { CounterSample } from "../model/mod.ts";

/** The Content-Type of the Prometheus text exposition format this module writes. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Renders samples in the Prometheus text exposition format 0.0.4: per metric name one `# HELP`
 * and one `# TYPE` line, then every series of that name (series of one name stay together even
 * when registered apart). Names and label names are made valid (`[a-zA-Z_:][a-zA-Z0-9_:]*`, other
 * characters become `_`); help text and label values are escaped. When one name was registered as
 * both counter and gauge, the first kind seen wins.
 */
export function renderPrometheus(samples: readonly CounterSample[]): string {
  const byName = new Map<string, { help: string; kind: string; lines: string[] }>();
  for (const s of samples) {
    const name = metricName(s.name);
    let group = byName.get(name);
    if (!group) {
      group = { help: s.help, kind: s.kind, lines: [] };
      byName.set(name, group);
    }
    group.lines.push(`${name}${renderLabels(s.labels)} ${formatValue(s.value)}`);
  }
  let out = "";
  for (const [name, g] of byName) {
    out += `# HELP ${name} ${escapeHelp(g.help)}\n# TYPE ${name} ${g.kind}\n`;
    out += g.lines.join("\n") + "\n";
  }
  return out;
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    parts.push(`${labelName(k)}="${escapeLabelValue(v)}"`);
  }
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** A valid metric name: invalid characters become `_`, a leading digit gets a `_` prefix. */
export function metricName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(clean) || clean === "" ? `_${clean}` : clean;
}

/** A valid label name (no `:`; names starting with `__` are reserved, so they get a prefix). */
export function labelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, "_");
  if (clean === "" || /^[0-9]/.test(clean)) return `_${clean}`;
  return clean.startsWith("__") ? `label${clean}` : clean;
}

/**
 * Label values: `\` → `\\`, `"` → `\"`, newline → `\n` (the format's only escapes); any other
 * control character (NUL, CR, ESC, …), which the format cannot escape, becomes U+FFFD.
 */
export function escapeLabelValue(v: string): string {
  return noControls(v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n"));
}

/** HELP text: `\` → `\\`, newline → `\n` (quotes stay as they are); other controls → U+FFFD. */
export function escapeHelp(v: string): string {
  return noControls(v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n"));
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f]/g;

function noControls(v: string): string {
  return v.replace(CONTROLS, "\ufffd");
}

/** Go's ParseFloat spellings: `NaN`, `+Inf`, `-Inf`; integers without an exponent. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  return String(v);
}
