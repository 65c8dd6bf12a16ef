/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the
 * most self time, and self time grouped by where the code lives (berth's
 * src/proxy, undici, node:http internals, GC, ...).
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [--top 30]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  selfUs: number;
  share: number;
}

function location(frame: CallFrame): string {
  if (!frame.url) return '';
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : url.replace(/^.*\/dist\//, 'dist/');
  return `${short}:${frame.lineNumber + 1}`;
}

/** Where a frame's code lives, for the grouped view. */
export function area(frame: CallFrame): string {
  const url = frame.url;
  const fn = frame.functionName;
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)') return 'native / V8 (program)';
    if (fn.startsWith('RegExp: ')) return 'regular expressions (header validation)';
    if (/^(writev|write\w*String|writeBuffer|writeUtf8|readStart|readStop|shutdown|close|connect|accept)/.test(fn)) return 'socket syscalls (writev, write*String, ...; includes kernel time)';
    return 'native bindings (other)';
  }
  if (url.includes('/node_modules/undici/') || url.startsWith('wasm://')) return 'undici (incl. llhttp wasm)';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/')) return 'other npm packages';
  if (url.includes('/dist/src/proxy/')) return 'berth src/proxy';
  if (url.includes('/dist/src/')) return 'berth src (other)';
  if (url.includes('/dist/bench/')) return 'bench harness';
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url === 'node:http') return 'node http (server side)';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/net') || url.includes('stream_base_commons')) return 'node net / sockets';
  if (url.startsWith('node:internal/timers') || url.startsWith('node:timers')) return 'node timers';
  if (url.startsWith('node:events') || url.startsWith('node:internal/events')) return 'node events';
  if (url.startsWith('node:internal/process') || url.startsWith('node:internal/async_hooks')) return 'node process / ticks';
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/bootstrap')) return 'module loading / start-up';
  if (url.startsWith('node:')) return 'node (other internals)';
  return 'other';
}

export function summarise(profile: CpuProfile, top: number): { functions: Row[]; areas: Row[]; berth: Row[]; totalUs: number; busyUs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfById) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${frame.functionName || '(anonymous)'} ${location(frame)}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(frame);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  // Inclusive time of berth's own functions: how much of the work flows through them.
  const inclusive = new Map<number, number>();
  const totalOf = (id: number): number => {
    const known = inclusive.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    let t = selfById.get(id) ?? 0;
    for (const child of node.children ?? []) t += totalOf(child);
    inclusive.set(id, t);
    return t;
  };
  const berthTotals = new Map<string, number>();
  for (const node of profile.nodes) {
    if (!node.callFrame.url.includes('/dist/src/')) continue;
    const key = `${node.callFrame.functionName || '(anonymous)'} ${location(node.callFrame)}`;
    berthTotals.set(key, (berthTotals.get(key) ?? 0) + totalOf(node.id));
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .map(([name, selfUs]) => ({ name, selfUs, share: busyUs > 0 ? selfUs / busyUs : 0 }))
      .sort((a, b) => b.selfUs - a.selfUs);
  return { functions: rows(fns).slice(0, top), areas: rows(areas), berth: rows(berthTotals).slice(0, 15), totalUs, busyUs };
}

function main(argv: string[]): void {
  const file = argv[0];
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [--top N]');
  const i = argv.indexOf('--top');
  const top = i >= 0 ? Number(argv[i + 1]) : 30;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { functions, areas, berth, totalUs, busyUs } = summarise(profile, top);
  const pct = (r: Row) => `${(r.share * 100).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [
    `profile ${file}`,
    `sampled ${(totalUs / 1e6).toFixed(1)} s, busy (not idle) ${(busyUs / 1e6).toFixed(1)} s; shares are of busy time`,
    '',
    'self time by area:',
    ...areas.map((r) => `  ${pct(r)} ${ms(r.selfUs)}  ${r.name}`),
    '',
    `top ${top} functions by self time:`,
    ...functions.map((r) => `  ${pct(r)} ${ms(r.selfUs)}  ${r.name}`),
    '',
    "berth's own functions by inclusive time (self + callees; nested ones overlap):",
    ...berth.map((r) => `  ${pct(r)} ${ms(r.selfUs)}  ${r.name}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2));
