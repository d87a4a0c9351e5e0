import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import type { HealthReport } from "../../src/telemetry/health.ts";
import {
  createTelemetryServer,
  parseListenAddress,
  type TelemetryServer,
} from "../../src/telemetry/server.ts";
import { memoryLogger } from "./_logger.ts";

async function withServer(
  health: () => HealthReport,
  fn: (base: string, server: TelemetryServer) => Promise<void>,
  setup?: (c: ReturnType<typeof createCounters>) => void,
) {
  const counters = createCounters();
  setup?.(counters);
  let scrapes = 0;
  const server = createTelemetryServer({
    listen: "127.0.0.1:0",
    counters,
    health,
    logger: memoryLogger().logger,
    beforeScrape: () => void scrapes++,
  });
  await server.start();
  try {
    const a = server.addr!;
    await fn(`http://${a.hostname}:${a.port}`, server);
  } finally {
    await server.stop();
    await server.stop(); // idempotent
  }
  return scrapes;
}

const healthy = (): HealthReport => ({
  ok: true,
  checks: { "listener receiving": { ok: true, detail: "collectd packets: last seen 0.5 s ago" } },
});

Deno.test("GET /metrics over real HTTP answers Prometheus text 0.0.4 of the registry", async () => {
  const scrapes = await withServer(healthy, async (base) => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const body = await res.text();
    assert.match(body, /^# TYPE edge_agent_collectd_packets_total counter$/m);
    assert.match(body, /^edge_agent_collectd_packets_total\{listener="0"\} 42$/m);
  }, (c) => c.counter("edge_agent_collectd_packets_total", "packets", { listener: "0" }).inc(42));
  assert.equal(scrapes, 1, "beforeScrape runs once per scrape");
});

Deno.test("GET /healthz answers 200 with the JSON report when every check passes", async () => {
  await withServer(healthy, async (base) => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), healthy());
  });
});

Deno.test("GET /healthz answers 503 naming the failed check when one fails", async () => {
  const report: HealthReport = {
    ok: false,
    checks: {
      "listener receiving": { ok: true, detail: "ok" },
      "rule workers up": { ok: false, detail: "rule host exited 3 s ago" },
    },
  };
  await withServer(() => report, async (base) => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), report);
  });
});

Deno.test("GET /healthz answers 503 when the health function itself throws", async () => {
  await withServer(() => {
    throw new Error("evaluator state unreadable");
  }, async (base) => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.ok, false);
    assert.equal(body.checks.health.detail, "evaluator state unreadable");
  });
});

Deno.test("the endpoint answers 404 for other paths and 405 for other methods", async () => {
  await withServer(healthy, async (base) => {
    const nf = await fetch(`${base}/`);
    assert.equal(nf.status, 404);
    await nf.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
    const head = await fetch(`${base}/healthz`, { method: "HEAD" });
    assert.equal(head.status, 200);
  });
});

Deno.test("start() rejects naming the address when the port is taken", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    const server = createTelemetryServer({
      listen: `127.0.0.1:${port}`,
      counters: createCounters(),
      health: healthy,
      logger: memoryLogger().logger,
    });
    await assert.rejects(
      server.start(),
      new RegExp(`Cannot listen for telemetry on 127\\.0\\.0\\.1:${port}: .*in use`, "i"),
    );
    await server.stop();
  } finally {
    holder.close();
  }
});

Deno.test("parseListenAddress() takes host:port and [v6]:port and refuses anything else", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:9102"), { hostname: "127.0.0.1", port: 9102 });
  assert.deepEqual(parseListenAddress("[::1]:9102"), { hostname: "::1", port: 9102 });
  assert.deepEqual(parseListenAddress("localhost:0"), { hostname: "localhost", port: 0 });
  for (const bad of ["9102", "::1:9102", "host:", "host:70000", ""]) {
    assert.throws(() => parseListenAddress(bad), RangeError, bad);
  }
});
