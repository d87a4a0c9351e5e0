/**
 * A batch still progressing (no handler call stuck) is stopped after this many budgets. Apart from
 * the protocol's schemas so that the rule host, which needs only this number, does not load zod.
 */
export const SLOW_FACTOR = 10;
