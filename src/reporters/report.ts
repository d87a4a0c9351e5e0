import type { Logger, Reporter, RunRecord } from "../model/mod.ts";

/** Options of {@linkcode createReport}. */
export interface ReportOptions {
  /**
   * The audit reporter: it has every record (on disk) before any other reporter sees it, so
   * nothing is published or notified that the audit lacks. None: the others only.
   */
  audit?: Reporter | undefined;
  /** Every other reporter (log, collectd notification, MQTT): handed the record at once. */
  others: readonly Reporter[];
  /** Where a reporter's failure is logged. */
  logger: Logger;
}

/**
 * The one door through which a record reaches the reporters. Each stage that has a record
 * (the executor's runs and refusals, another agent's result in central mode, the result of a
 * remote message that ran nothing here) hands it to a door; no stage fans out by itself.
 */
export interface Report {
  /**
   * Hands `record` to the audit, awaited, then to every other reporter in parallel. Resolves
   * once all of them have it; never rejects: a reporter that throws is logged and never stops
   * the others.
   */
  report(record: RunRecord): Promise<void>;
}

/** Creates the door over `options.audit` and `options.others` (see {@linkcode Report}). */
export function createReport(options: ReportOptions): Report {
  const { audit, others, logger } = options;
  const hand = (r: Reporter, record: RunRecord) =>
    r.report(record).catch((e: unknown) =>
      logger.error(`reporter ${r.name} failed`, { error: (e as Error)?.message ?? String(e) })
    );
  return {
    async report(record) {
      if (audit) await hand(audit, record);
      if (others.length === 1) await hand(others[0]!, record);
      else if (others.length > 1) await Promise.all(others.map((r) => hand(r, record)));
    },
  };
}
