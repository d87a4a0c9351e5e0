/**
 * The rule worker's data: handlers, loaded rule files, the items handlers see, what a batch and
 * a load come to.
 * @module
 */
import type { ContextRuntime } from "../_context.ts";
import type { Action } from "./actions.ts";
import type { Exported } from "./exports.ts";

/** A handler's state as the agent keeps a copy of it (see `_context.ts`). */
export interface HandlerState {
  state: unknown;
  series: Record<string, unknown>;
  fired: Record<string, 1>;
}

/** A handler's context (see `_context.ts`). */
export type Context = ReturnType<ContextRuntime["createContext"]>;

/** A loaded handler and its bookkeeping. */
export interface Handler extends Exported {
  index: number;
  c: Context;
  ctx: unknown;
  state: HandlerState;
  warned: Set<string>;
  lastError: number;
  suppressed: number;
  /** Series this handler is fired for, and fired/cleared changes not yet sent. */
  firing: number;
  firedDelta: Record<string, 1 | null>;
}

/** A loaded rule file (its handlers are reused while `sig`, its code and imports', is the same). */
export interface Instance {
  file: string;
  sig: string;
  handlers: Exported[];
}

/** A rule event for the agent. */
export type RuleEvent =
  | { kind: "fired"; handler: string; key: string; actions: Action[]; time: number }
  | { kind: "cleared"; handler: string; key: string; time: number };

/** What the load of a rule file came to (FileResultSchema in `_protocol.ts`). */
export interface FileResult {
  file: string;
  ok: boolean;
  message?: string | undefined;
  line?: number | undefined;
  exportName?: string | undefined;
  member?: string | undefined;
  stack?: string | undefined;
  kept?: boolean;
}

/** A `load` request. */
export interface LoadRequest {
  modules: Record<string, string>;
  rules: string[];
  states?: Record<string, HandlerState>;
  disabled?: string[];
}

/** An item the handlers see (frozen). */
export interface Item {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  severity?: number;
}

/** A batch's bookkeeping. */
export interface Batch {
  skip: ReadonlySet<string>;
  events: RuleEvent[];
  evaluations: number;
  errors: number;
  errorsBy: Record<string, number> | undefined;
}
