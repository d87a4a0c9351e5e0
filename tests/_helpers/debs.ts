/** Building test .debs and running dpkg/apt for the packaging tests (they install for real). */
import { join } from "node:path";
import { run } from "./run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Builds the bundled-file-layout .deb of `version` into `outDir`; returns its path. Uncompressed
 * unless `compression` says otherwise (faster to build and install; lintian wants gzip).
 */
export async function buildDeb(
  version: string,
  outDir: string,
  compression: "none" | "gzip" = "none",
): Promise<string> {
  const out = await run(join(root, "scripts/package_deb"), [
    "--layout",
    "bundle",
    "--version",
    version,
    "--output-dir",
    outDir,
  ], { env: { EDGE_AGENT_DEB_COMPRESSION: compression } });
  const deb = out.split("\n").find((l) => l.endsWith(".deb"));
  if (!deb) throw new Error(`scripts/package_deb printed no .deb path:\n${out}`);
  return deb;
}

/** dpkg, retried while another dpkg/apt holds the lock (other tests on the machine). */
export async function dpkg(...args: string[]): Promise<string> {
  for (let attempt = 0;; attempt++) {
    try {
      return await run("dpkg", args, { env: { DEBIAN_FRONTEND: "noninteractive" } });
    } catch (e) {
      if (attempt < 60 && /lock/i.test((e as Error).message)) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw e;
    }
  }
}

/** The installed version of edge-agent, or null. */
export async function installedVersion(): Promise<string | null> {
  const out = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f", "${Status} ${Version}", "edge-agent"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return /install ok installed (\S+)/.exec(text)?.[1] ?? null;
}

/**
 * Makes sure no edge-agent is installed before a test installs one. A test version (`~test`)
 * left by an interrupted run is purged; any other installed version is an operator's, and the
 * test fails rather than remove it.
 */
export async function requireNotInstalled(): Promise<void> {
  const v = await installedVersion();
  if (v === null) return;
  if (!v.includes("~test")) {
    throw new Error(
      `edge-agent ${v} is installed on this machine; the packaging tests install and purge ` +
        `test versions and will not touch it: remove it first (dpkg --purge edge-agent)`,
    );
  }
  await dpkg("--purge", "edge-agent");
}

/** Purges edge-agent if a test version is installed (finally blocks). */
export async function purgeTestInstall(): Promise<void> {
  const v = await installedVersion();
  const present = await Deno.stat("/etc/edge-agent").then(() => true, () => false);
  if ((v !== null && v.includes("~test")) || (v === null && present)) {
    await dpkg("--purge", "edge-agent");
  }
}

/** Whether `port` on 127.0.0.1 can be bound for UDP right now. */
export function udpPortFree(port: number): boolean {
  try {
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` holding a machine-wide lock, so two test runs on one machine (e.g. two people running
 * the suite) do not install and purge edge-agent under each other.
 */
export async function withInstallLock<T>(fn: () => Promise<T>): Promise<T> {
  const release = await acquireInstallLock();
  try {
    return await fn();
  } finally {
    release();
  }
}

const RMEM_DEFAULT = "/proc/sys/net/core/rmem_default";

/**
 * Takes the machine-wide lock of {@linkcode withInstallLock}; call the result to release it.
 * Releasing also lowers net.core.rmem_default back to what it was when the lock was taken, if it
 * is higher now (the package's postinst raises it; it never lowers it).
 */
export async function acquireInstallLock(): Promise<() => void> {
  const file = await Deno.open("/tmp/edge-agent-packaging-tests.lock", {
    read: true,
    write: true,
    create: true,
  });
  try {
    await file.lock(true);
  } catch (e) {
    file.close();
    throw e;
  }
  const rmem = Number(Deno.readTextFileSync(RMEM_DEFAULT).trim());
  return () => {
    try {
      if (Number(Deno.readTextFileSync(RMEM_DEFAULT).trim()) > rmem) {
        Deno.writeTextFileSync(RMEM_DEFAULT, String(rmem));
      }
    } finally {
      file.close(); // closing releases the lock
    }
  };
}
