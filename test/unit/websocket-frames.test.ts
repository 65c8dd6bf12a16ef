import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCloseFrame, FrameTracker, serverCloseFrame } from '../../src/proxy/websocket-frames.js';

/** A frame as an endpoint would send it: FIN + opcode, the length in its shortest form, masked when `mask` is given. */
function frame(payloadLength: number, options: { opcode?: number; fin?: boolean; mask?: number[]; lengthForm?: 7 | 16 | 64 } = {}): Buffer {
  const first = (options.fin === false ? 0 : 0x80) | (options.opcode ?? 0x2);
  const form = options.lengthForm ?? (payloadLength < 126 ? 7 : payloadLength < 65536 ? 16 : 64);
  const maskBit = options.mask ? 0x80 : 0;
  const parts: number[] = [first];
  if (form === 7) parts.push(maskBit | payloadLength);
  else if (form === 16) parts.push(maskBit | 126, payloadLength >> 8, payloadLength & 0xff);
  else {
    parts.push(maskBit | 127);
    const big = BigInt(payloadLength);
    for (let i = 7; i >= 0; i--) parts.push(Number((big >> BigInt(i * 8)) & 0xffn));
  }
  if (options.mask) parts.push(...options.mask);
  return Buffer.concat([Buffer.from(parts), Buffer.alloc(payloadLength, 0x61)]);
}

/** Splits `bytes` at the given offsets. */
function split(bytes: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    out.push(bytes.subarray(from, to));
    from = to;
  }
  return out;
}

const cases: { name: string; chunks: Buffer[]; frames: number; atBoundary: boolean }[] = [
  { name: 'one small frame, whole', chunks: [frame(5)], frames: 1, atBoundary: true },
  { name: 'an empty frame (ping with no payload)', chunks: [frame(0, { opcode: 0x9 })], frames: 1, atBoundary: true },
  { name: 'two frames in one chunk', chunks: [Buffer.concat([frame(3), frame(0), frame(125)])], frames: 3, atBoundary: true },
  { name: 'header split after its first byte', chunks: split(frame(10), [1]), frames: 1, atBoundary: true },
  { name: 'a 16-bit length split inside the length', chunks: split(frame(300), [3]), frames: 1, atBoundary: true },
  { name: 'a 16-bit length at its largest', chunks: [frame(65535)], frames: 1, atBoundary: true },
  { name: 'a 64-bit length split byte by byte', chunks: split(frame(70_000), [1, 2, 3, 4, 5, 6, 7, 8, 9]), frames: 1, atBoundary: true },
  { name: 'a 64-bit length used for a small payload', chunks: [frame(4, { lengthForm: 64 })], frames: 1, atBoundary: true },
  { name: 'a masked frame (client to server)', chunks: [frame(20, { mask: [1, 2, 3, 4] })], frames: 1, atBoundary: true },
  { name: 'a masked frame split inside its mask key', chunks: split(frame(20, { mask: [1, 2, 3, 4] }), [4]), frames: 1, atBoundary: true },
  { name: 'a masked 16-bit frame split at every part', chunks: split(frame(200, { mask: [9, 9, 9, 9] }), [2, 4, 8, 100]), frames: 1, atBoundary: true },
  { name: 'fragments (FIN unset) are frames of their own', chunks: [Buffer.concat([frame(3, { fin: false, opcode: 1 }), frame(3, { opcode: 0 })])], frames: 2, atBoundary: true },
  { name: 'stopped inside a payload', chunks: [frame(10).subarray(0, 6)], frames: 0, atBoundary: false },
  { name: 'stopped inside a header', chunks: [frame(300).subarray(0, 3)], frames: 0, atBoundary: false },
  { name: 'a frame and a half', chunks: [Buffer.concat([frame(2), frame(8).subarray(0, 4)])], frames: 1, atBoundary: false },
];

for (const c of cases) {
  test(`frame tracker: ${c.name}`, () => {
    const tracker = new FrameTracker();
    for (const chunk of c.chunks) assert.equal(tracker.consume(chunk), chunk.length);
    assert.equal(tracker.frames, c.frames);
    assert.equal(tracker.atBoundary, c.atBoundary);
    assert.equal(tracker.broken, false);
  });
}

test('frame tracker: stopAtBoundary takes bytes up to the end of the current frame only', () => {
  const tracker = new FrameTracker();
  const bytes = Buffer.concat([frame(4), frame(6), frame(1)]);
  assert.equal(tracker.consume(bytes.subarray(0, 3)), 3); // inside the first frame
  // The rest of frame 1 (3 bytes), then stop: frame 2 is not taken.
  assert.equal(tracker.consume(bytes.subarray(3), true), 3);
  assert.equal(tracker.atBoundary, true);
  assert.equal(tracker.frames, 1);
  assert.equal(tracker.consume(bytes.subarray(6), true), 0);
});

test('frame tracker: stopAtBoundary across chunks that split the header', () => {
  const tracker = new FrameTracker();
  const f = frame(300);
  // At a boundary before anything was seen: nothing is taken.
  assert.equal(tracker.consume(f, true), 0);
  assert.equal(tracker.consume(f.subarray(0, 1)), 1);
  assert.equal(tracker.consume(f.subarray(1, 100), true), 99);
  assert.equal(tracker.consume(Buffer.concat([f.subarray(100), frame(2)]), true), f.length - 100);
  assert.equal(tracker.frames, 1);
});

test('frame tracker: a length past 2^53 marks the stream broken, never at a boundary', () => {
  const tracker = new FrameTracker();
  const header = Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
  assert.equal(tracker.consume(header), header.length);
  assert.equal(tracker.broken, true);
  assert.equal(tracker.atBoundary, false);
});

test('close frames: 1001 unmasked from the server, masked from the client', () => {
  assert.deepEqual([...serverCloseFrame()], [0x88, 0x02, 0x03, 0xe9]);
  const mask = [0x11, 0x22, 0x33, 0x44];
  const masked = clientCloseFrame(Uint8Array.from(mask));
  assert.deepEqual([...masked.subarray(0, 6)], [0x88, 0x82, ...mask]);
  assert.deepEqual([masked[6]! ^ mask[0]!, masked[7]! ^ mask[1]!], [0x03, 0xe9]);
  // Both are one whole frame to the tracker.
  const tracker = new FrameTracker();
  tracker.consume(Buffer.concat([serverCloseFrame(), masked]));
  assert.equal(tracker.frames, 2);
  assert.equal(tracker.atBoundary, true);
});
