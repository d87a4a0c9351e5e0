import { createLogger, type LogEvent } from "../../src/log/mod.ts";

/** A logger collecting events in an array. */
export function memoryLogger() {
  const events: LogEvent[] = [];
  return { events, logger: createLogger({ level: "debug", sink: (e) => events.push(e) }) };
}
