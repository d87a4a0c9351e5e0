/**
 * The pure collectd packet decoder. Its implementation is the self-contained
 * `decoderRuntime()` (decoder_runtime.ts, also shipped as source text to the rule worker); this
 * file exports the members of the process's one instance.
 */
import { decoder } from "./_decoder.ts";

export type { DecodeOptions, DecodeStats, DropReason, PacketVisitor } from "./decoder_runtime.ts";

/** Why (part of) a packet was not turned into metrics/notifications (see `DropReason`). */
export const DROP_REASONS = decoder.DROP_REASONS;

/** A zeroed `DecodeStats`. */
export const createDecodeStats = decoder.createDecodeStats;

/**
 * Decodes one plaintext collectd packet (after the security stage) the way collectd 5.12's
 * `parse_packet` does: parts are applied in order with delta encoding (a part sets a field that
 * later value lists and notifications in the same packet inherit), unknown parts are skipped,
 * signature and encryption parts are stepped over (they were verified/decrypted before; the
 * plaintext they held arrives as a packet of its own). A malformed string, number or values part
 * ends the packet (what came before it stays delivered), like collectd.
 *
 * Pure (no I/O, no Deno APIs); never throws on any input; no work proportional to anything but
 * the packet length.
 */
export const decodePacket = decoder.decodePacket;
