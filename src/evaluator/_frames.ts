import { deserialize, serialize } from "node:v8";

/**
 * Framing of the agent ↔ rule-host protocol: a 4-byte big-endian length, a 1-byte kind, the
 * body. The two hot messages have their own cheap kinds (Deno's node:v8 serializer is written
 * in JavaScript: slow and garbage-heavy for them); everything else is V8-serialized.
 *
 * - `V8`: any message (configure, load, loaded, overrun, ...), bigint and bytes intact.
 * - `JSON`: a `result`, as JSON text the worker wrote; a bigint is `{"$bigint": "123"}`.
 * - `PACKETS`: a `packets` request: id, sync, skip list, packet end offsets, packet bytes.
 */
const V8 = 0, JSON_TEXT = 1, PACKETS = 2;
const HEAD = 5;

/** Largest frame either side accepts (a batch reply with every handler's state). */
export const MAX_FRAME = 256 * 1024 * 1024;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The `packets` request as a frame and as it comes out of {@linkcode readFrames}. */
export interface PacketsMessage {
  t: "packets";
  id: number;
  data: Uint8Array;
  ends: Uint32Array;
  skip: string[];
  sync: boolean;
}

/** Encodes one message as a frame (`packets` in its binary form, anything else V8). */
export function encodeFrame(message: unknown): Uint8Array {
  const m = message as { t?: unknown };
  if (m?.t === "packets") return encodePackets(message as PacketsMessage);
  return frame(V8, serialize(message));
}

/** A frame holding JSON text the rule worker wrote (a `result`). */
export function encodeJsonFrame(text: string): Uint8Array {
  return frame(JSON_TEXT, utf8.encode(text));
}

function frame(kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD + body.length);
  new DataView(out.buffer).setUint32(0, body.length + 1);
  out[4] = kind;
  out.set(body, HEAD);
  return out;
}

function encodePackets(m: PacketsMessage): Uint8Array {
  const skip = m.skip.length === 0 ? new Uint8Array(0) : utf8.encode(JSON.stringify(m.skip));
  const n = m.ends.length;
  const size = 4 + 1 + 4 + skip.length + 4 + 4 * n + m.data.length;
  const out = new Uint8Array(HEAD + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size + 1);
  out[4] = PACKETS;
  let at = HEAD;
  view.setUint32(at, m.id), at += 4;
  out[at++] = m.sync ? 1 : 0;
  view.setUint32(at, skip.length), at += 4;
  out.set(skip, at), at += skip.length;
  view.setUint32(at, n), at += 4;
  for (let i = 0; i < n; i++) view.setUint32(at, m.ends[i]!), at += 4;
  out.set(m.data, at);
  return out;
}

function decodePackets(body: Uint8Array): PacketsMessage {
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
  // its own buffer: the host transfers it to the worker (no copy of the chunk around it)
  return { t: "packets", id, data: body.slice(at), ends, skip, sync };
}

/** Parses JSON text from the worker, turning `{"$bigint": "…"}` back into bigints. */
function parseJson(text: string): unknown {
  if (!text.includes('"$bigint"')) return JSON.parse(text);
  return JSON.parse(text, (_key, value) => {
    if (
      value !== null && typeof value === "object" && typeof value.$bigint === "string" &&
      Object.keys(value).length === 1
    ) return BigInt(value.$bigint);
    return value;
  });
}

/** Splits a byte stream into decoded messages. Throws RangeError on a bad or oversized frame. */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    buf = buf.length === 0 ? chunk : concat(buf, chunk);
    let at = 0;
    while (buf.length - at >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0);
      if (len > MAX_FRAME || len === 0) {
        throw new RangeError(`rule host frame of ${len} bytes is too large or empty`);
      }
      if (buf.length - at - 4 < len) break;
      const kind = buf[at + 4];
      const body = buf.subarray(at + HEAD, at + 4 + len);
      at += 4 + len;
      if (kind === V8) yield deserialize(body);
      else if (kind === JSON_TEXT) yield parseJson(fromUtf8.decode(body));
      else if (kind === PACKETS) yield decodePackets(body);
      else throw new RangeError(`rule host frame of unknown kind ${kind}`);
    }
    buf = at === buf.length ? new Uint8Array(0) : buf.slice(at);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
