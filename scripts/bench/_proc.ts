/**
 * What the benchmarks read from /proc about a process tree: CPU-s, memory (three ways, see
 * {@linkcode TreeMemory}), the hypervisor's steal, a UDP socket's kernel drops.
 * @module
 */

const CLK_TCK = 100;
export const MiB = 2 ** 20;

/** One process's figures. */
export interface ProcUsage {
  /** user + system CPU-s. */
  cpu: number;
  /** Resident set (VmRSS). */
  rss: number;
  /** Private memory (heap, stacks, buffers): RssAnon. */
  anon: number;
  /** Mapped program code and libraries (RssFile + RssShmem). */
  file: number;
}

/** `pid`'s figures, or null when it is gone. */
export function usage(pid: number): ProcUsage | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return {
      cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK,
      rss: kb("VmRSS"),
      anon: kb("RssAnon"),
      file: kb("RssFile") + kb("RssShmem"),
    };
  } catch {
    return null;
  }
}

/** Proportional set size (each shared page split among the processes mapping it), or 0. */
export function pss(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** `pid` and its descendants. */
export function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = Deno.readTextFileSync(`/proc/${out[i]}/task/${out[i]}/children`).trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch { /* gone */ }
  }
  return out;
}

/** CPU-s of each process. */
export function treeCpu(pids: number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, usage(p)?.cpu ?? 0]));
}

/**
 * A process tree's memory, three ways:
 * - `privateCode`: every process's private memory (RssAnon) plus the program's mapped code once
 *   (the agent and its rule host map the same runtime, whose pages the kernel holds once);
 * - `pss`: the sum of proportional set sizes (shared pages split among all their mappers; with
 *   a runtime no other process maps, close to `privateCode`);
 * - `rss`: the plain sum of resident sets (counts the shared code once per process).
 */
export interface TreeMemory {
  privateCode: number;
  pss: number;
  rss: number;
  /** Per process: private MiB, and the code MiB counted once. */
  detail: string;
}

export function treeMemory(pids: number[]): TreeMemory {
  let anon = 0, file = 0, rss = 0, sumPss = 0;
  const parts: string[] = [];
  for (const p of pids) {
    const u = usage(p);
    if (!u) continue;
    anon += u.anon;
    file = Math.max(file, u.file);
    rss += u.rss;
    sumPss += pss(p);
    parts.push((u.anon / MiB).toFixed(0));
  }
  return {
    privateCode: anon + file,
    pss: sumPss,
    rss,
    detail: `${parts.join("+")} (+${(file / MiB).toFixed(0)} code)`,
  };
}

/** Samples the tree's memory every `ms` until stopped; returns the peak of each measure. */
export function memorySampler(pids: () => number[], ms = 200) {
  const peak: TreeMemory = { privateCode: 0, pss: 0, rss: 0, detail: "" };
  const timer = setInterval(() => {
    const now = treeMemory(pids());
    if (now.privateCode > peak.privateCode) {
      peak.privateCode = now.privateCode;
      peak.detail = now.detail;
    }
    peak.pss = Math.max(peak.pss, now.pss);
    peak.rss = Math.max(peak.rss, now.rss);
  }, ms);
  return {
    stop(): TreeMemory {
      clearInterval(timer);
      return peak;
    },
  };
}

/** CPU time counters of /proc/stat (all CPUs). */
export function cpuTimes(): number[] {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  return line.trim().split(/\s+/).slice(1).map(Number);
}

/** The hypervisor's steal share between two {@linkcode cpuTimes} readings. */
export function steal(a: number[], b: number[]): number {
  const d = b.map((x, i) => x - a[i]!);
  const total = d.reduce((s, x) => s + x, 0);
  return total > 0 ? (d[7] ?? 0) / total : 0;
}

/** Kernel drops of the UDP socket bound to 127.0.0.1:`port` (/proc/net/udp). */
export function socketDrops(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of Deno.readTextFileSync("/proc/net/udp").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hex}`) return Number(f[12]);
  }
  return 0;
}

const RMEM_DEFAULT = "/proc/sys/net/core/rmem_default";

/** net.core.rmem_default: the receive buffer a new socket gets. */
export function rmemDefault(): number {
  return Number(Deno.readTextFileSync(RMEM_DEFAULT).trim());
}

/** Sets net.core.rmem_default (root); returns the value it had. */
export function setRmemDefault(bytes: number): number {
  const was = rmemDefault();
  Deno.writeTextFileSync(RMEM_DEFAULT, String(bytes));
  return was;
}
