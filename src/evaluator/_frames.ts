// deno-lint-ignore-file no-explicit-any
/**
 * Framing of the agent ↔ rule-host protocol: a 4-byte big-endian length, a 1-byte kind, the
 * body. Two kinds:
 *
 * - `JSON`: any message, as JSON text with bigints tagged (`_frames_json.ts`).
 * - `PACKETS`: a `packets` request: id, sync, skip list, packet end offsets, packet bytes
 *   (`_frames_packets.ts`).
 *
 * Both ends run {@linkcode frameCodec}: the agent as a module, the rule worker (which reads
 * its requests from stdin and writes its replies to stdout itself) bundled into its source
 * (`scripts/build_sandbox.ts`): it may import only its two pure siblings (the bundle admits
 * only the sandbox's pure modules).
 */
import { parseJson, toJson } from "./_frames_json.ts";
import {
  packetsBodySize,
  type PacketsRequest,
  readPacketsBody,
  skipBytes,
  writePacketsBody,
} from "./_frames_packets.ts";

export function frameCodec() {
  const JSON_TEXT = 1, PACKETS = 2;
  const HEAD = 5;
  /** Largest frame either side accepts (a batch reply with every handler's state). */
  const MAX_FRAME = 256 * 1024 * 1024;
  const utf8 = new TextEncoder();
  const fromUtf8 = new TextDecoder();

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

  /** A `packets` request as a frame (one allocation: the body is written in place). */
  function packetsFrame(m: PacketsRequest): Uint8Array {
    const skip = skipBytes(m.skip, utf8);
    const size = packetsBodySize(m, skip);
    const out = new Uint8Array(HEAD + size);
    const view = new DataView(out.buffer);
    view.setUint32(0, size + 1);
    out[4] = PACKETS;
    writePacketsBody(view, out, HEAD, m, skip);
    return out;
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
          else if (kind === PACKETS) out.push(readPacketsBody(body, fromUtf8));
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
