import { createLogger, type LogEvent } from "../../src/log/mod.ts";

/** A logger that keeps its events (tests of any folder). */
export function memoryLogger() {
  const events: LogEvent[] = [];
  const logger = createLogger({ level: "debug", sink: (e) => events.push(e) });
  return { logger, events };
}
