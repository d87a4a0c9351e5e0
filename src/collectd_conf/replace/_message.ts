import { z } from "zod";

/** Largest collectd.conf accepted over MQTT (bytes of UTF-8). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * A collectd.conf replacement request, lua-collectd-monitor's shape. Other keys (a signature,
 * a target host) belong to the command router's shared checks and are ignored here.
 */
export const ConfigMessageSchema = z.object({
  task_id: z.union([z.number(), z.string().min(1)]),
  /** The request's time; the result carries its own (see resultTimestamp). */
  timestamp: z.string().optional(),
  config: z.string().min(1, "config is empty").refine(
    (text) => new TextEncoder().encode(text).length <= MAX_CONFIG_BYTES,
    `config is larger than ${MAX_CONFIG_BYTES} bytes`,
  ),
});

export type ConfigMessage = z.infer<typeof ConfigMessageSchema>;
