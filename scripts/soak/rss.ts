/** Soak harness: resident memory of the agent and its child processes, from /proc. */

/** One RSS sample (KiB) of the agent process and of its whole process tree. */
export interface RssSample {
  at: number;
  generation: number;
  agentKiB: number;
  treeKiB: number;
}

/** VmRSS of `pid` in KiB, or null when it is gone. */
export function readRssKiB(pid: number, read = Deno.readTextFileSync): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return null;
  }
}

/** `pid` and every descendant (from the ppid field of /proc/<pid>/stat). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e.name));
      children.set(ppid, list);
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Samples the agent (and its tree); null when the process is gone. */
export function sampleRss(pid: number, generation: number): RssSample | null {
  const agentKiB = readRssKiB(pid);
  if (agentKiB === null) return null;
  let treeKiB = 0;
  for (const p of processTree(pid)) treeKiB += readRssKiB(p) ?? 0;
  return { at: Date.now(), generation, agentKiB, treeKiB };
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than 2 points. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? 0 : (n * sxy - sx * sy) / d;
}
