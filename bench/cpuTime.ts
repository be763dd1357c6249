/**
 * CPU time of the processes of a running stack, read from /proc (Linux), so a benchmark can
 * say what an order costs in CPU across every process it touches, not only in the API.
 *
 * A component is found by the port it listens on (its listening socket's inode, then the
 * process holding it), and counted with every descendant: Postgres' backends, RabbitMQ's
 * helpers. A process's utime + stime + cutime + cstime summed over the live processes of a
 * tree counts every process of it once, live or exited: an exited process' time has been added
 * to its parent's cutime/cstime when it was reaped (a backend that ended mid-cell included).
 * Sampled synchronously, so a sample is taken at the very moment a measured window opens or
 * closes.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { LoadPhase } from './load/job.js';

/** Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux platform. */
const TICKS_PER_SECOND = 100;
const MICROS_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

interface ProcStat {
  ppid: number;
  /** Own CPU plus that of reaped children, in ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone between the listing and the read
  }
  // The command name (in parentheses) may hold spaces; the fields follow its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i]);
  // After the name: state, ppid, ..., utime (11), stime, cutime, cstime (14).
  return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

const numericEntries = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^\d+$/.test(name))
    .map(Number);

/** Inodes of the sockets listening on each port (IPv4 and IPv6). */
function listeningInodes(ports: number[]): Map<number, number> {
  const wanted = new Set(ports);
  const inodes = new Map<number, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is column 9.
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const port = parseInt(cols[1]!.split(':')[1]!, 16);
      if (wanted.has(port)) inodes.set(Number(cols[9]), port);
    }
  }
  return inodes;
}

/** The process listening on each port, where one does. */
export function listenerPids(ports: number[]): Map<number, number> {
  const inodes = listeningInodes(ports);
  const pids = new Map<number, number>();
  if (inodes.size === 0) return pids;
  for (const pid of numericEntries('/proc')) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      const port = match ? inodes.get(Number(match[1])) : undefined;
      // The first holder found: a forked child may share its parent's listening socket.
      if (port !== undefined && !pids.has(port)) pids.set(port, pid);
    }
  }
  return pids;
}

/** Every live process as its stat, by pid. */
function allStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const pid of numericEntries('/proc')) {
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  return stats;
}

/** The pids of a process tree: the root and every live descendant. */
function treeOf(root: number, stats: Map<number, ProcStat>, children: Map<number, number[]>): number[] {
  const pids: number[] = [];
  const stack = stats.has(root) ? [root] : [];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    pids.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return pids;
}

function snapshot() {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  return { stats, children };
}

/** Every live process of the trees of the processes listening on `ports`. */
export function processesListeningOn(ports: number[]): number[] {
  const { stats, children } = snapshot();
  return [...listenerPids(ports).values()].flatMap((root) => treeOf(root, stats, children));
}

/** CPU microseconds of each root's process tree (0 for a root that is gone). */
export function treeCpuMicros(roots: Map<string, number>): Record<string, number> {
  const { stats, children } = snapshot();
  const out: Record<string, number> = {};
  for (const [name, root] of roots) {
    const ticks = treeOf(root, stats, children).reduce((sum, pid) => sum + (stats.get(pid)?.ticks ?? 0), 0);
    out[name] = ticks * MICROS_PER_TICK;
  }
  return out;
}

/** What a window cost: CPU microseconds per component between two samples. */
export interface CpuWindow {
  byComponent: Record<string, number>;
  total: number;
}

/**
 * A meter over named components, each given by the port it listens on. `start()` resolves the
 * processes (components restarted between windows are found again) and samples; `stop()`
 * samples again and returns the difference. `onPhase` does both as a load job's measured
 * window opens and closes, and `window()` is then what it cost.
 */
export function makeCpuMeter(components: Record<string, number>) {
  let roots = new Map<string, number>();
  let before: Record<string, number> = {};
  let last: CpuWindow | undefined;
  const meter = {
    start(): void {
      const pids = listenerPids(Object.values(components));
      roots = new Map(
        Object.entries(components).flatMap(([name, port]) => {
          const pid = pids.get(port);
          return pid === undefined ? [] : [[name, pid] as const];
        }),
      );
      before = treeCpuMicros(roots);
    },
    stop(): CpuWindow {
      const after = treeCpuMicros(roots);
      const byComponent: Record<string, number> = {};
      let total = 0;
      for (const name of Object.keys(components)) {
        const used = Math.max(0, (after[name] ?? 0) - (before[name] ?? 0));
        byComponent[name] = used;
        total += used;
      }
      return { byComponent, total };
    },
    onPhase(phase: LoadPhase): void {
      if (phase === 'measuring') meter.start();
      else last = meter.stop();
    },
    /** The last window closed through onPhase, if one was. */
    window: (): CpuWindow | undefined => last,
  };
  return meter;
}
