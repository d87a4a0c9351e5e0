/**
 * What a handler's return value decides for a series: its actions (read once per field and
 * checked against the configured services, `actions.ts`) fire the condition, no action clears
 * it unless a `sustained` latch still holds it. Each change is an event for the agent and goes
 * into the handler's fired set and the fired delta of the next reply.
 * @module
 */
import { type Action, actionsOf, type Services } from "./actions.ts";
import { safeString } from "./errors.ts";
import type { HandlerLog } from "./handler_log.ts";
import type { Handler, RuleEvent } from "./types.ts";

const NO_ACTIONS: Action[] = [];

/** Options of {@linkcode createDecide}. */
export interface DecideOptions {
  log: HandlerLog;
  /** Handlers whose fired set changed in this batch (each change adds its handler). */
  firedNow: Set<Handler>;
  /** `value` as JSON text (bigints tagged): the protocol's encoder. */
  toJson(value: unknown): string;
}

/** The decisions of one worker; `configure()` sets the services actions are checked against. */
export function createDecide(o: DecideOptions) {
  const { log, firedNow } = o;
  let services: Services = new Map();

  function describeValue(v: unknown): string {
    try {
      return o.toJson(v) ?? safeString(v);
    } catch {
      return safeString(v);
    }
  }

  /** A handler returned something, or is fired for some series: fired/cleared for `key`. */
  function decide(h: Handler, r: unknown, key: string, time: number, events: RuleEvent[]) {
    let actions = NO_ACTIONS;
    if (r !== undefined && r !== null && r !== false) {
      if (typeof r === "object" && typeof (r as { then?: unknown }).then === "function") {
        log.warnOnce(
          h,
          "async",
          "returned a Promise: handlers must be synchronous (the action was not taken)",
        );
      } else {
        actions = actionsOf(r, services, (why) => log.warnOnce(h, why.id, why.msg), describeValue);
      }
    }
    const fired = h.state.fired;
    if (actions.length !== 0) {
      if (fired[key] === undefined) {
        fired[key] = 1;
        h.firing++;
        h.firedDelta[key] = 1;
        firedNow.add(h);
        events.push({ kind: "fired", handler: h.name, key, actions, time });
      }
    } else if (fired[key] !== undefined && !h.c.latched(key)) {
      delete fired[key];
      h.firing--;
      h.firedDelta[key] = null;
      firedNow.add(h);
      events.push({ kind: "cleared", handler: h.name, key, time });
    }
  }

  return {
    configure(s: Services): void {
      services = s;
    },
    decide,
  };
}
