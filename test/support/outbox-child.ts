// A child process holding finished requests in a RecordOutbox over the real IPC
// channel, closing as a proxy worker does (worker-main.ts): OUTBOX_HELD records are
// added at once (more than the channel takes before the control reads), then, told
// `close`, it drains the outbox, says `closed` and disconnects.
import { RecordOutbox } from '../../src/cluster/record-outbox.js';

const held = Number(process.env.OUTBOX_HELD ?? '10000');
const outbox = new RecordOutbox({
  send: (records, written) => {
    if (process.connected) process.send!({ t: 'records', records }, undefined, {}, () => written());
    else written();
  },
});
process.on('message', (message: string) => {
  if (message !== 'close') return;
  void outbox.drain().then(() => {
    process.send!({ t: 'closed' });
    process.disconnect();
  });
});
for (let i = 0; i < held; i++) outbox.add([i, 'web', 'GET', `/r/${i}`, 200, 1, 0, 2, '127.0.0.1', 0, null, null]);
process.send!({ t: 'added', held: outbox.heldCount });
