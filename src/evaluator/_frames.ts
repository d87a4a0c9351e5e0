// deno-lint-ignore-file no-explicit-any
/**
 * Framing of the agent ↔ rule-host protocol: a 4-byte big-endian length, a 1-byte kind, the
 * body. Two kinds:
 *
 * - `JSON`: any message, as JSON text; a bigint is `{"$bigint": "123"}` (metric values, rule
 *   state). Rule state is plain JSON-able data by contract (docs/rules.md).
 * - `PACKETS`: a `packets` request: id, sync, skip list, packet end offsets, packet bytes.
 *
 * Both ends run {@linkcode frameCodec}: the agent as a module, the rule worker (which reads
 * its requests from stdin and writes its replies to stdout itself) bundled into its source
 * (`scripts/build_sandbox.ts`): it must stay free of imports (the bundle admits only the
 * sandbox's pure modules).
 */
export function frameCodec() {
  const JSON_TEXT = 1, PACKETS = 2;
  const HEAD = 5;
  /** Largest frame either side accepts (a batch reply with every handler's state). */
  const MAX_FRAME = 256 * 1024 * 1024;
  const utf8 = new TextEncoder();
  const fromUtf8 = new TextDecoder();

  /** `value` as JSON text, bigints tagged. */
  function toJson(value: unknown): string {
    try {
      return JSON.stringify(value);
    } catch {
      return JSON.stringify(
        value,
        (_k, v) => typeof v === "bigint" ? { $bigint: v.toString() } : v,
      );
    }
  }

  /** Parses JSON text, turning `{"$bigint": "…"}` back into bigints. */
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

  function frame(kind: number, body: Uint8Array): Uint8Array {
    const out = new Uint8Array(HEAD + body.length);
    new DataView(out.buffer).setUint32(0, body.length + 1);
    out[4] = kind;
    out.set(body, HEAD);
    return out;
  }

  /** A frame holding `text` (JSON). */
  function jsonFrame(text: string): Uint8Array {
    return frame(JSON_TEXT, utf8.encode(text));
  }

  /** A `packets` request as a frame. */
  function packetsFrame(
    m: { id: number; data: Uint8Array; ends: Uint32Array; skip: string[]; sync: boolean },
  ): Uint8Array {
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

  function packets(body: Uint8Array) {
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

  /**
   * An incremental reader: `push(chunk)` returns the messages completed by it. Throws
   * RangeError on an oversized, empty or unknown frame (the stream is then unusable).
   */
  function reader() {
    let buf: Uint8Array = new Uint8Array(0);
    return {
      push(chunk: Uint8Array): unknown[] {
        buf = buf.length === 0 ? chunk : concat(buf, chunk);
        const out: unknown[] = [];
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
          if (kind === JSON_TEXT) out.push(parseJson(fromUtf8.decode(body)));
          else if (kind === PACKETS) out.push(packets(body));
          else throw new RangeError(`rule host frame of unknown kind ${kind}`);
        }
        buf = at === buf.length ? new Uint8Array(0) : buf.slice(at);
        return out;
      },
    };
  }

  function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  return { toJson, jsonFrame, packetsFrame, reader };
}

/** What {@linkcode frameCodec} returns. */
export type FrameCodec = ReturnType<typeof frameCodec>;

const codec = frameCodec();

/** Encodes one message as a frame (`packets` in its binary form, anything else as JSON). */
export function encodeFrame(message: unknown): Uint8Array {
  const m = message as any;
  if (m?.t === "packets") return codec.packetsFrame(m);
  return codec.jsonFrame(codec.toJson(message));
}

/** Splits a byte stream into decoded messages. Throws RangeError on a bad or oversized frame. */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const r = codec.reader();
  for await (const chunk of stream) yield* r.push(chunk);
}
