/**
 * Readers of /proc (and the cgroup CPU counters under /sys/fs/cgroup) for the
 * benchmarks: CPU time and peak RSS of a process, its children, how busy each
 * CPU is, docker-proxy processes, the kernel's listen-queue overflows. The
 * parsing is pure (exported for tests); the readers answer 0 or undefined
 * when a process is gone or a file is unreadable.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's tick counts (getconf CLK_TCK; 100 when it can't be asked). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after "pid (comm) " (comm may hold spaces and parentheses): state is field 0. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime, in ticks, from the text of /proc/<pid>/stat. */
export function statCpuTicks(stat: string): number {
  const f = statFields(stat);
  return Number(f[11]) + Number(f[12]);
}

/** The parent pid, from the text of /proc/<pid>/stat. */
export function statParentPid(stat: string): number {
  return Number(statFields(stat)[1]);
}

/** Busy ticks (user nice system irq softirq steal) of one `cpu…` line of /proc/stat. */
export function busyTicksOfLine(line: string): number {
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
}

/** Busy ticks of the whole machine and of each CPU, from the text of /proc/stat. */
export function parseProcStat(text: string): { all: number; each: number[] } {
  const lines = text.split('\n').filter((l) => l.startsWith('cpu'));
  return { all: busyTicksOfLine(lines[0] ?? ''), each: lines.slice(1).map(busyTicksOfLine) };
}

/** VmHWM (peak RSS) in kB from the text of /proc/<pid>/status; 0 without one. */
export function parseVmHwmKb(status: string): number {
  return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/** TcpExt ListenOverflows from the text of /proc/net/netstat, or undefined without it. */
export function parseListenOverflows(netstat: string): number | undefined {
  const lines = netstat.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf('ListenOverflows');
  return i > 0 ? Number(values[i]) : undefined;
}

/** The host port a docker-proxy forwards, from its NUL-split command line; undefined for other processes. */
export function dockerProxyHostPort(argv: readonly string[]): string | undefined {
  if (!argv[0]?.endsWith('docker-proxy')) return undefined;
  const i = argv.indexOf('-host-port');
  return i >= 0 ? argv[i + 1] : undefined;
}

/** utime + stime of a process (all its threads), in seconds; 0 when it is gone. */
export function processCpuS(pid: number): number {
  try {
    return statCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // No CONFIG_PROC_CHILDREN: scan for the parent pid.
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (statParentPid(readFileSync(`/proc/${d}/stat`, 'utf8')) === pid) out.push(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  }
}

export function vmHwmKb(pid: number): number {
  try {
    return parseVmHwmKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return 0;
  }
}

/** Busy ticks (user nice system irq softirq steal) of the whole machine and of each CPU. */
export function cpuBusyTicks(): { all: number; each: number[] } {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

/** TcpExt ListenOverflows of a network namespace (the host's by default), or undefined where unreadable. */
export function listenOverflows(netstat = '/proc/net/netstat'): number | undefined {
  try {
    return parseListenOverflows(readFileSync(netstat, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The docker-proxy processes forwarding the given host ports (one or more per port). */
export function dockerProxyPids(ports: readonly number[]): Map<number, number[]> {
  const wanted = new Set(ports.map(String));
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const port = dockerProxyHostPort(argv);
    if (port && wanted.has(port)) out.set(Number(port), [...(out.get(Number(port)) ?? []), Number(d)]);
  }
  return out;
}

/** A container's CPU usage counter (ns) from its cgroup, found through its main process. */
export function cgroupCpuReader(pid: number, id: string): () => number {
  const candidates: Array<{ file: string; v2: boolean }> = [];
  try {
    for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers === undefined || path === undefined) continue;
      if (controllers.split(',').includes('cpuacct')) {
        candidates.push({ file: `/sys/fs/cgroup/cpuacct${path}/cpuacct.usage`, v2: false }, { file: `/sys/fs/cgroup/cpu,cpuacct${path}/cpuacct.usage`, v2: false });
      } else if (controllers === '' && line.startsWith('0::')) {
        candidates.push({ file: `/sys/fs/cgroup${path}/cpu.stat`, v2: true });
      }
    }
  } catch {
    // fall back to docker's usual cgroupfs paths
  }
  candidates.push({ file: `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, v2: false }, { file: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, v2: true });
  for (const c of candidates) {
    try {
      readFileSync(c.file, 'utf8');
    } catch {
      continue;
    }
    return () => {
      try {
        const text = readFileSync(c.file, 'utf8');
        if (!c.v2) return Number(text.trim());
        return Number(/^usage_usec (\d+)/m.exec(text)?.[1] ?? 0) * 1000;
      } catch {
        return 0;
      }
    };
  }
  throw new Error(`no readable cgroup CPU counter for container ${id.slice(0, 12)} (pid ${pid})`);
}
