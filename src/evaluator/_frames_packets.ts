/**
 * The body of a `packets` frame (the agent's raw collectd packets for the rule worker to
 * decode), all numbers 4-byte big-endian: id, sync (1 byte), the skip list's length and its
 * JSON text, the number of packets and each packet's end offset, then the packet bytes.
 *
 * Bundled into the rule worker with `_frames.ts` (`scripts/build_sandbox.ts`): it must stay
 * free of imports. One frame per batch: the writer fills the frame `_frames.ts` allocated, the
 * reader's packet bytes are a view of the frame (no copy).
 */

/** A `packets` request. */
export interface PacketsRequest {
  id: number;
  data: Uint8Array;
  ends: Uint32Array;
  skip: string[];
  sync: boolean;
}

const NO_BYTES = new Uint8Array(0);

/** The skip list's bytes (none when it is empty). */
export function skipBytes(skip: string[], utf8: TextEncoder): Uint8Array {
  return skip.length === 0 ? NO_BYTES : utf8.encode(JSON.stringify(skip));
}

/** Bytes of the body of `m` with its skip list as `skip` (from {@linkcode skipBytes}). */
export function packetsBodySize(m: PacketsRequest, skip: Uint8Array): number {
  return 4 + 1 + 4 + skip.length + 4 + 4 * m.ends.length + m.data.length;
}

/** Writes the body of `m` into `out` (`view` over the same buffer) from offset `at`. */
export function writePacketsBody(
  view: DataView,
  out: Uint8Array,
  at: number,
  m: PacketsRequest,
  skip: Uint8Array,
): void {
  const n = m.ends.length;
  view.setUint32(at, m.id), at += 4;
  out[at++] = m.sync ? 1 : 0;
  view.setUint32(at, skip.length), at += 4;
  out.set(skip, at), at += skip.length;
  view.setUint32(at, n), at += 4;
  for (let i = 0; i < n; i++) view.setUint32(at, m.ends[i]!), at += 4;
  out.set(m.data, at);
}

/** The `packets` request in `body` (its `data` a view of `body`). */
export function readPacketsBody(body: Uint8Array, fromUtf8: TextDecoder) {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const id = view.getUint32(at);
  at += 4;
  const sync = body[at++] === 1;
  const skipLength = view.getUint32(at);
  at += 4;
  const skip = skipLength === 0
    ? []
    : JSON.parse(fromUtf8.decode(body.subarray(at, at + skipLength))) as string[];
  at += skipLength;
  const n = view.getUint32(at);
  at += 4;
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) ends[i] = view.getUint32(at), at += 4;
  return { t: "packets", id, data: body.subarray(at), ends, skip, sync };
}
