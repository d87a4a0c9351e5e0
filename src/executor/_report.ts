import type { Logger, Reporter, RunRecord } from "../model/mod.ts";

/**
 * Hands one record to every reporter: the one named "audit" first, awaited, then the others in
 * parallel. A reporter that throws is logged and never stops the others.
 */
export async function reportAll(
  record: RunRecord,
  reporters: readonly Reporter[],
  logger: Logger,
): Promise<void> {
  const fail = (r: Reporter) => (e: unknown) =>
    logger.error(`reporter ${r.name} failed`, { error: (e as Error).message ?? String(e) });
  for (const r of reporters) {
    if (r.name === "audit") await r.report(record).catch(fail(r));
  }
  await Promise.all(
    reporters.filter((r) => r.name !== "audit").map((r) => r.report(record).catch(fail(r))),
  );
}
