/**
 * The lifecycle every long-running stage follows. `start` resolves once the stage is ready (e.g.
 * the socket is bound) and rejects if it cannot become ready. `stop` releases everything; it is
 * idempotent, and no other method may be called after it.
 */
export interface Stage {
  start(): Promise<void>;
  stop(): Promise<void>;
}
