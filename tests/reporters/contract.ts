/**
 * The contract every reporter passes (log, audit, collectd, MQTT). Use it from a reporter's test:
 *
 * ```ts
 * reporterContract("createMqttReporter()", {
 *   make: async () => ({ reporter, delivered: () => countSeenByBroker(), cleanup }),
 *   makeBroken: async () => ({ reporter: reporterWhoseBrokerIsDown, cleanup }),
 * });
 * ```
 * @module
 */
import assert from "node:assert/strict";
import type { Reporter, RunRecord } from "../../src/model/mod.ts";

/** A reporter under test and how to look at its destination. */
export interface ReporterFixture {
  reporter: Reporter;
  /** How many records the destination has received so far (when it can be observed). */
  delivered?: () => Promise<number>;
  /** Stops whatever the fixture started (peers, temp dirs); close() is the suite's job. */
  cleanup?: () => Promise<void>;
}

/** Options of {@linkcode reporterContract}. */
export interface ReporterContractOptions {
  /** A reporter with a working destination. */
  make(): Promise<ReporterFixture>;
  /** A reporter whose destination is down or unreachable (it must not throw, nor hang). */
  makeBroken(): Promise<ReporterFixture>;
  /** Bound on one report() call against a broken destination. Default 5000 ms. */
  brokenBoundMs?: number;
}

/** Records covering every trigger kind and outcome a reporter must take. */
export function sampleRecords(): RunRecord[] {
  const base = {
    service: "nginx",
    command: "restart",
    argv: ["/bin/systemctl", "restart", "nginx"],
    durationMs: 12.5,
    outputBytes: 0,
    truncated: false,
    timedOut: false,
  };
  const t = "2026-11-23T12:00:00.000Z";
  return [
    {
      ...base,
      result: { task_id: 1, timestamp: t, message: "", code: 0 },
      trigger: { kind: "rule", handler: "nginx.ts::metric::down" },
    },
    {
      ...base,
      result: { task_id: "a-7", timestamp: t, message: "Job failed\n", code: 1 },
      trigger: { kind: "remote", task_id: "a-7", sender: "ops" },
      outputBytes: 11,
    },
    {
      ...base,
      argv: [],
      durationMs: 0,
      result: { task_id: 3, timestamp: t, message: 'no such service: "x"', code: 0x1002 },
      trigger: { kind: "cli" },
      service: "x",
    },
    {
      ...base,
      result: {
        task_id: 4,
        timestamp: t,
        message: "é✓🙂\u0000\n".repeat(20_000) + "\n[edge-agent: output truncated]",
        code: 0x1010,
      },
      trigger: { kind: "rule", handler: "h".repeat(400) },
      outputBytes: 1_000_000,
      truncated: true,
      timedOut: true,
    },
  ];
}

/** Registers the contract's Deno tests for one reporter implementation. */
export function reporterContract(label: string, options: ReporterContractOptions): void {
  const bound = options.brokenBoundMs ?? 5000;

  async function withFixture(
    make: () => Promise<ReporterFixture>,
    body: (f: ReporterFixture) => Promise<void>,
  ) {
    const f = await make();
    try {
      await body(f);
    } finally {
      await f.reporter.close?.();
      await f.cleanup?.();
    }
  }

  Deno.test(`${label} has a non-empty name and takes every kind of record`, async () => {
    await withFixture(options.make, async (f) => {
      assert.equal(typeof f.reporter.name, "string");
      assert.ok(f.reporter.name.length > 0);
      const records = sampleRecords();
      for (const r of records) await f.reporter.report(r);
      if (f.delivered) {
        await waitFor(async () => (await f.delivered!()) >= records.length, 5000);
        assert.equal(await f.delivered(), records.length);
      }
    });
  });

  Deno.test(`${label} does not change the records it is given`, async () => {
    await withFixture(options.make, async (f) => {
      const records = sampleRecords();
      const copies = structuredClone(records);
      for (const r of records) await f.reporter.report(r);
      assert.deepEqual(records, copies);
    });
  });

  Deno.test(`${label} takes concurrent reports`, async () => {
    await withFixture(options.make, async (f) => {
      const records = Array.from({ length: 20 }, (_, i) => ({
        ...sampleRecords()[0]!,
        result: { ...sampleRecords()[0]!.result, task_id: i },
      }));
      await Promise.all(records.map((r) => f.reporter.report(r)));
      if (f.delivered) {
        await waitFor(async () => (await f.delivered!()) >= records.length, 5000);
        assert.equal(await f.delivered(), records.length);
      }
    });
  });

  Deno.test(`${label} neither throws nor hangs when its destination is down`, async () => {
    await withFixture(options.makeBroken, async (f) => {
      for (const r of sampleRecords()) {
        const started = performance.now();
        await f.reporter.report(r);
        const took = performance.now() - started;
        assert.ok(took < bound, `report() took ${took} ms against a broken destination`);
      }
    });
  });

  Deno.test(`${label} close() can be called twice`, async () => {
    const f = await options.make();
    try {
      await f.reporter.report(sampleRecords()[0]!);
      await f.reporter.close?.();
      await f.reporter.close?.();
    } finally {
      await f.cleanup?.();
    }
  });
}

/** Polls `ok` until it holds or `ms` passed (then fails). */
export async function waitFor(ok: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!(await ok())) {
    if (performance.now() > end) assert.fail(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
