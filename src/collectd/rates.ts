/**
 * Per-second rates of COUNTER and DERIVE values. The implementation lives in the self-contained
 * `decoderRuntime()` (decoder_runtime.ts); this file exports the process's one instance's class.
 */
import { decoder } from "./_decoder.ts";

export type { RateTrackerOptions } from "./decoder_runtime.ts";

/**
 * Per-second rates of COUNTER and DERIVE values, with state per series
 * (host/plugin-plugin_instance/type-type_instance, one slot per data source). Pure: time comes
 * from the metrics themselves. A COUNTER that went down wrapped: at 32 bits when the previous
 * value fit in 32 bits, else at 64 bits (collectd's `counter_diff`). DERIVE may go down (negative
 * rate). The first sample of a series, a sample not newer than the last one, GAUGE and ABSOLUTE
 * values give `null`.
 */
export const RateTracker = decoder.RateTracker;
export type RateTracker = InstanceType<typeof RateTracker>;
