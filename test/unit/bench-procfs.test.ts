import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  busyTicksOfLine,
  dockerProxyHostPort,
  parseListenOverflows,
  parseProcStat,
  parseVmHwmKb,
  processCpuS,
  statCpuTicks,
  statParentPid,
  vmHwmKb,
} from '../../bench/lib/procfs.js';

// A /proc/<pid>/stat line whose comm holds a space and a parenthesis: fields count from the last ')'.
const STAT = '4242 (node (worker) x) S 17 4242 17 0 -1 4194560 12345 0 0 0 150 35 0 0 20 0 11 0 987654 1234567890 45678 18446744073709551615';

test('statCpuTicks: utime + stime, past a comm with spaces and parentheses', () => {
  assert.equal(statCpuTicks(STAT), 150 + 35);
});

test('statParentPid: the field after the state', () => {
  assert.equal(statParentPid(STAT), 17);
});

test('busyTicksOfLine: user nice system irq softirq steal, not idle or iowait', () => {
  //            user nice system idle iowait irq softirq steal guest guest_nice
  assert.equal(busyTicksOfLine('cpu  100 2 30 5000 70 4 5 6 0 0'), 100 + 2 + 30 + 4 + 5 + 6);
  assert.equal(busyTicksOfLine('cpu0 1 0 1'), 2, 'older kernels: fewer fields');
  assert.equal(busyTicksOfLine(''), 0);
});

test('parseProcStat: the whole machine and each CPU; other lines ignored', () => {
  const text = ['cpu  10 0 10 100 0 0 0 0 0 0', 'cpu0 6 0 4 50 0 0 0 0 0 0', 'cpu1 4 0 6 50 0 0 0 0 0 0', 'intr 1 2 3', 'ctxt 99'].join('\n');
  assert.deepEqual(parseProcStat(text), { all: 20, each: [10, 10] });
});

test('parseVmHwmKb: the VmHWM line of /proc/<pid>/status, 0 without one', () => {
  assert.equal(parseVmHwmKb('Name:\tnode\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n'), 51234);
  assert.equal(parseVmHwmKb('Name:\tkthreadd\n'), 0);
});

test('parseListenOverflows: the column named ListenOverflows of the TcpExt lines', () => {
  const netstat = ['TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops', 'TcpExt: 0 0 17 19', 'IpExt: InNoRoutes', 'IpExt: 0'].join('\n');
  assert.equal(parseListenOverflows(netstat), 17);
  assert.equal(parseListenOverflows('TcpExt: SyncookiesSent\nTcpExt: 0\n'), undefined);
  assert.equal(parseListenOverflows(''), undefined);
});

test("dockerProxyHostPort: docker-proxy's -host-port, nothing for other processes", () => {
  const argv = ['/usr/bin/docker-proxy', '-proto', 'tcp', '-host-ip', '127.0.0.1', '-host-port', '32768', '-container-ip', '172.17.0.2', '-container-port', '8080', ''];
  assert.equal(dockerProxyHostPort(argv), '32768');
  assert.equal(dockerProxyHostPort(['node', '-host-port', '1']), undefined);
  assert.equal(dockerProxyHostPort(['/usr/bin/docker-proxy', '-proto', 'tcp']), undefined);
});

test('the readers on this process: some CPU time and a peak RSS; 0 for a pid that does not exist', { skip: process.platform !== 'linux' }, () => {
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += i;
  assert.ok(x > 0);
  assert.ok(processCpuS(process.pid) > 0);
  assert.ok(vmHwmKb(process.pid) > 1000);
  assert.equal(processCpuS(2 ** 30), 0);
  assert.equal(vmHwmKb(2 ** 30), 0);
});
