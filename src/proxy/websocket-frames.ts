/**
 * Follows the frame boundaries of one direction of a WebSocket stream
 * (RFC 6455 §5.2) without copying payload: it reads only each frame's header
 * (FIN/opcode byte, mask bit and 7-bit length, then a 16- or 64-bit extended
 * length and a 4-byte mask key) and counts the payload bytes that follow.
 *
 * berth relays WebSocket bytes untouched; it needs the boundaries only at
 * shutdown, to insert a close frame between two frames instead of inside one.
 */
export class FrameTracker {
  /** Bytes of the current frame's header seen so far (at most 14). */
  private readonly header = new Uint8Array(MAX_HEADER_BYTES);
  private headerSeen = 0;
  /** Payload bytes of the current frame still to come; -1 while in a header. */
  private payloadLeft = -1;
  /** Frames seen whole so far. */
  frames = 0;
  /** A length past 2^53 was announced: boundaries can no longer be trusted. */
  broken = false;
  /** A close frame's header was seen: this side began (or answered) the closing handshake. */
  closeSeen = false;

  /** Between two frames: a close frame written now would not split one. */
  get atBoundary(): boolean {
    return !this.broken && this.payloadLeft < 0 && this.headerSeen === 0;
  }

  /**
   * Accounts for the bytes of `chunk` and returns how many it took: all of them,
   * or with `stopAtBoundary`, only those up to the first frame boundary (0 when
   * already at one), so the caller can relay exactly up to the end of a frame.
   */
  consume(chunk: Uint8Array, stopAtBoundary = false): number {
    let offset = 0;
    while (offset < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return offset;
      if (this.broken) return chunk.length;
      if (this.payloadLeft < 0) {
        offset = this.readHeader(chunk, offset);
      } else {
        const take = Math.min(this.payloadLeft, chunk.length - offset);
        this.payloadLeft -= take;
        offset += take;
        if (this.payloadLeft === 0) this.endFrame();
      }
    }
    return offset;
  }

  private readHeader(chunk: Uint8Array, offset: number): number {
    while (offset < chunk.length) {
      this.header[this.headerSeen++] = chunk[offset++]!;
      const need = headerLength(this.header, this.headerSeen);
      if (need !== undefined && this.headerSeen === need) {
        const length = payloadLength(this.header);
        if (length === undefined) {
          this.broken = true;
          return offset;
        }
        this.headerSeen = 0;
        if ((this.header[0]! & 0x0f) === CLOSE_OPCODE) this.closeSeen = true;
        this.payloadLeft = length;
        if (length === 0) this.endFrame();
        return offset;
      }
    }
    return offset;
  }

  private endFrame(): void {
    this.payloadLeft = -1;
    this.frames++;
  }
}

const MAX_HEADER_BYTES = 14;
/** RFC 6455 §5.5.1. */
const CLOSE_OPCODE = 0x8;

/** The whole header's length once its first two bytes are known. */
function headerLength(header: Uint8Array, seen: number): number | undefined {
  if (seen < 2) return undefined;
  const second = header[1]!;
  const len7 = second & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const mask = second & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

/** The payload length of a complete header; undefined past what a number holds exactly. */
function payloadLength(header: Uint8Array): number | undefined {
  const len7 = header[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (header[2]! << 8) | header[3]!;
  let length = 0;
  for (let i = 2; i < 10; i++) length = length * 256 + header[i]!;
  return length <= Number.MAX_SAFE_INTEGER ? length : undefined;
}

/** A close frame with code 1001 (Going Away), as a server sends it: unmasked. */
export function serverCloseFrame(code = 1001): Buffer {
  return Buffer.from([0x88, 0x02, code >> 8, code & 0xff]);
}

/** The same close frame as a client must send it (RFC 6455 §5.3): masked with `mask`. */
export function clientCloseFrame(mask: Uint8Array, code = 1001): Buffer {
  const payload = [code >> 8, code & 0xff];
  return Buffer.from([0x88, 0x82, mask[0]!, mask[1]!, mask[2]!, mask[3]!, payload[0]! ^ mask[0]!, payload[1]! ^ mask[1]!]);
}
