/** Soak harness: the agent's own figures, read from its /metrics endpoint. */

/** One scrape: total per metric name (labels summed) and per `name{labels}` series. */
export interface Scrape {
  at: number;
  generation: number;
  totals: Record<string, number>;
  series: Record<string, number>;
}

/** Parses Prometheus text: sample lines only (comments skipped). */
export function parsePrometheus(text: string): Pick<Scrape, "totals" | "series"> {
  const totals: Record<string, number> = {};
  const series: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) continue;
    const v = Number(m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : m[3]);
    totals[m[1]!] = (totals[m[1]!] ?? 0) + v;
    series[m[1]! + (m[2] ?? "")] = v;
  }
  return { totals, series };
}

/** Scrapes `http://127.0.0.1:<port>/metrics`; null when unreachable. */
export async function scrape(port: number, generation: number): Promise<Scrape | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return { at: Date.now(), generation, ...parsePrometheus(await res.text()) };
  } catch {
    return null;
  }
}

/** GET /healthz: the status code, or null when unreachable. */
export async function healthz(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return null;
  }
}
