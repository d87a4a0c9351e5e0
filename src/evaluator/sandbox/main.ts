/**
 * The rule worker's entry, bundled with everything it imports (SES included) into one
 * JavaScript source at build time (`scripts/build_sandbox`, checked in as
 * `../_sandbox_source.ts`; a test fails when it is out of date). The rule host starts it from a
 * `data:` URL in a Worker with `permissions: "none"`.
 *
 * Order matters: the parts below are built (and SES captures the intrinsics) while the realm
 * is still the runtime's own; {@linkcode enclose} then takes the glue's references and closes
 * the realm; only then does the worker read its first request, and only a `load` request makes
 * rule code exist.
 * @module
 */
import { createDecodeStats, decodePacket } from "../../collectd/decode.ts";
import { RateTracker } from "../../collectd/rates.ts";
import { parseTypesDb } from "../../collectd/types_db.ts";
import { contextRuntime } from "../_context.ts";
import { frameCodec } from "../_frames.ts";
import { progressView } from "../_progress.ts";
import { enclose } from "./enclose.ts";
import { startWorker } from "./worker.ts";

const collectd = { decodePacket, createDecodeStats, RateTracker, parseTypesDb };
const runtime = contextRuntime();
const frames = frameCodec();
const stdout = Deno.stdout;
try {
  startWorker({ glue: enclose(), runtime, collectd, frames, progressView });
} catch (e) {
  // The agent reports it (the host is not started in a half-closed sandbox).
  const message = `the rule sandbox could not be set up: ${(e as Error)?.stack ?? e}`;
  stdout.writeSync(frames.jsonFrame(frames.toJson({ t: "fatal", message })));
  throw e;
}
