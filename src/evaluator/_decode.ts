import { decodePacket, type PacketVisitor, parseTypesDb, RateTracker } from "../collectd/mod.ts";
import type { Metric, Notification } from "../model/mod.ts";

/**
 * Decoding collectd packets inside the rule host: a decoder built once from the types.db text
 * appends every metric and notification of a packet to `out` (rates filled from the host's own
 * rate tracker, so the first sample after a host restart has null rates).
 */
export type PacketDecoder = (bytes: Uint8Array, out: unknown[]) => void;
export type PacketDecoderFactory = (typesDbText: string) => PacketDecoder;

/** The collectd decoder (src/collectd). */
export const createPacketDecoder: PacketDecoderFactory = (typesDbText) => {
  const typesDb = parseTypesDb(typesDbText);
  const rates = new RateTracker();
  let sink: unknown[] = [];
  const visitor: PacketVisitor = {
    metric: (m: Metric) => void sink.push(m),
    notification: (n: Notification) => void sink.push(n),
  };
  const options = { typesDb, rates };
  return (bytes, out) => {
    sink = out;
    decodePacket(bytes, visitor, options);
  };
};
