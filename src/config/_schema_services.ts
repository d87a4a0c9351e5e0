import { z } from "zod";

/**
 * A recovery command: lua-collectd-monitor's string form (`"/bin/systemctl restart nginx 2>&1"`,
 * split with shell quoting, run without a shell) or the explicit argv form.
 */
export const CommandSchema = z.union([
  z.string().min(1),
  z.strictObject({
    Argv: z.array(z.string()).min(1),
  }),
]);

export const ServiceSchema = z.strictObject({
  commands: z.record(z.string().min(1), CommandSchema),
});

/** Settings of the executor stage. */
export const servicesKeys = {
  Services: z.record(z.string().min(1), ServiceSchema).default({}),
};
