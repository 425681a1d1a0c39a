// AWS's event stream framing (application/vnd.amazon.eventstream), as InvokeWithResponseStream
// answers: each message is a prelude (total length, headers length, CRC32 of both), string
// headers, the payload and a CRC32 of all before it. Pure; the SDKs' decoders read it.
import { crc32 } from 'node:zlib';

const STRING_TYPE = 7;

/** One event stream message with string headers. */
export function encodeEventMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(1 + n.length + 1 + 2);
    head.writeUInt8(n.length, 0);
    n.copy(head, 1);
    head.writeUInt8(STRING_TYPE, 1 + n.length);
    head.writeUInt16BE(v.length, 2 + n.length);
    parts.push(head, v);
  }
  const headerBytes = Buffer.concat(parts);
  const total = 12 + headerBytes.length + payload.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  payload.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

/** A `PayloadChunk` event: bytes of the function's streamed response. */
export function payloadChunk(bytes: Buffer): Buffer {
  return encodeEventMessage(
    { ':event-type': 'PayloadChunk', ':content-type': 'application/octet-stream', ':message-type': 'event' },
    bytes,
  );
}

export interface InvokeComplete {
  ErrorCode?: string;
  ErrorDetails?: string;
  /** The end of the invoke's log, base64 (with X-Amz-Log-Type: Tail). */
  LogResult?: string;
}

/** The final `InvokeComplete` event. */
export function invokeComplete(done: InvokeComplete): Buffer {
  return encodeEventMessage(
    { ':event-type': 'InvokeComplete', ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify(done)),
  );
}

/** Splits a payload into PayloadChunk-sized pieces (Lambda sends at most this much per event). */
export const MAX_CHUNK_BYTES = 32 * 1024;
