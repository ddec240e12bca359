/** CPU time of processes, from Linux's /proc (the figures are undefined where it cannot be read). */
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid and user + system CPU time (µs) of a process, from /proc/<pid>/stat. */
export function procStat(pid: number): { ppid: number; cpuUs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[1]: ppid; fields[11], fields[12]: utime, stime in clock ticks (USER_HZ, 100 on Linux)
    return { ppid: Number(fields[1]), cpuUs: (Number(fields[11]) + Number(fields[12])) * 10_000 };
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants (a cluster's primary and its workers). */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const s = procStat(Number(e));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(e)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/** Total CPU time (µs) of `pids`; undefined when one cannot be read (gone, or no /proc). */
export function cpuOf(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const s = procStat(pid);
    if (!s) return undefined;
    total += s.cpuUs;
  }
  return total;
}
