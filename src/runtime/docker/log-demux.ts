import { Transform, type TransformCallback } from 'node:stream';

/** Size of the header Docker puts before each frame of a non-TTY attach or logs stream. */
const HEADER_BYTES = 8;

/**
 * Splits Docker's multiplexed stream format into the plain bytes the container wrote.
 * For containers without a TTY the engine frames stdout and stderr together:
 * `[stream type: 1 byte][3 zero bytes][payload length: uint32 big-endian][payload]`.
 * Frames arrive split across chunks at arbitrary points, so a partial header or
 * payload is kept until the rest arrives.
 */
export class DockerStreamDemuxer extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      // Stream type 0 (stdin) is never in logs; 1 stdout, 2 stderr, 3 engine messages: all are text to show.
      if (size > 0) this.push(this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size));
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    // A stream cut mid-frame (container removed while following) ends with what arrived.
    if (this.pending.length > HEADER_BYTES) this.push(this.pending.subarray(HEADER_BYTES));
    callback();
  }
}
