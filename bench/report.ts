/**
 * Turns one benchmark run's raw files (written by bench/run.sh) into the table
 * it prints and the JSON it keeps. Per target and round r:
 *
 *   <target>.r<r>.wrk.txt      wrk's output, ending with the WRK_JSON line of wrk-report.lua
 *   <target>.r<r>.wrk.txt.cpu  wrk's own user and system seconds
 *   <target>.r<r>.meta.json    CPU ticks of the measured process(es), of the backend and of
 *                              the whole machine over that wrk run; VmHWM
 * and per process `<name>.time.txt`, its `/usr/bin/time -v` report.
 *
 *   node dist/bench/report.js --run <dir> --targets "direct nginx haproxy chp berth-proxy berth-serve" --rounds 3 --json <file>
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseWrk, roundOf, targetResult, type Meta, type Round, type TargetResult } from './report-figures.js';
import { berthRatios, render, TARGETS, verdictOf } from './report-render.js';

function arg(argv: string[], name: string, fallback?: string): string {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

function main(argv: string[]): void {
  const run = arg(argv, '--run');
  const targets = arg(argv, '--targets').split(/\s+/).filter(Boolean);
  const roundCount = Number(arg(argv, '--rounds', '1'));
  const results: TargetResult[] = [];
  for (const t of targets) {
    const rounds: Round[] = [];
    let url = '';
    for (let r = 1; r <= roundCount; r++) {
      const base = join(run, `${t}.r${r}`);
      const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as Meta;
      url = meta.url;
      const wrkOf = (file: string) => (existsSync(file) ? parseWrk(readFileSync(file, 'utf8')) : undefined);
      rounds.push(roundOf(parseWrk(readFileSync(`${base}.wrk.txt`, 'utf8')), meta, t === 'direct', wrkOf(`${base}.paced.txt`), wrkOf(`${base}.paced-step.txt`)));
    }
    const timeFile = join(run, `${t}.time.txt`); // none for direct: berth started the container
    results.push(targetResult(t, url, rounds, existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : undefined));
  }
  const byTarget = new Map(results.map((r) => [r.target, r]));
  const ratioList = berthRatios(results);
  const pacedRate = Number(arg(argv, '--paced-rate', '0'));
  const verdict = verdictOf(byTarget, Number(arg(argv, '--connections', '50')), pacedRate);
  const pinned = arg(argv, '--pinned', '0') === '1';
  const setup = {
    cpus: Number(arg(argv, '--cpus', '0')),
    rounds: roundCount,
    duration: arg(argv, '--duration', '?'),
    warmup: arg(argv, '--warmup', '?'),
    connections: Number(arg(argv, '--connections', '0')),
    wrkThreads: Number(arg(argv, '--threads', '0')),
    pinned,
    loadCpu: pinned ? Number(arg(argv, '--load-cpu', '0')) : undefined,
    proxyCpu: pinned ? Number(arg(argv, '--proxy-cpu', '1')) : undefined,
  };
  const setupLine =
    `wrk ${setup.wrkThreads} thread(s), ${setup.connections} connections, ${setup.rounds} round(s) of ${setup.duration} per target ` +
    `after a ${setup.warmup} warm-up` +
    (pacedRate > 0 ? `, each followed by two paced runs at ${pacedRate} req/s (random gaps, then equal gaps); ` : '; ') +
    (pinned ? `proxy on CPU ${setup.proxyCpu}, wrk + app container on CPU ${setup.loadCpu}` : 'not pinned') +
    `; node ${process.version}`;
  process.stdout.write(render(results, ratioList, verdict, setupLine) + '\n');
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    setup,
    targets: TARGETS,
    results,
    berthRatios: ratioList,
    verdict,
  };
  writeFileSync(arg(argv, '--json'), JSON.stringify(json, null, 2) + '\n');
}

main(process.argv.slice(2));
