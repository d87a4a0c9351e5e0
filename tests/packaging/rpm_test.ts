/**
 * The .rpm from the same tree and metadata: its contents and config files, and install, upgrade
 * keeping edited config/rules, downgrade and erase with rpm into a temporary root (this Debian
 * machine's own rpm database is not touched; scriptlets need a real RPM system and are not run).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

async function buildRpm(version: string, outDir: string): Promise<string> {
  const out = await run(join(root, "scripts/package_rpm"), [
    "--layout",
    "bundle",
    "--version",
    version,
    "--output-dir",
    outDir,
  ], { env: { EDGE_AGENT_DEB_COMPRESSION: "none" } });
  return out.split("\n").find((l) => l.endsWith(".rpm"))!;
}

Deno.test("the .rpm carries the .deb's files with config.json 0600 as noreplace config and installs, upgrades, downgrades and erases", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-rpm-" });
  const rpmRoot = join(dir, "root");
  const rpm = (...args: string[]) => run("rpm", ["--root", rpmRoot, ...args]);
  try {
    const v1 = await buildRpm("0.1.0~test1-1", dir);
    const v2 = await buildRpm("0.1.0~test2-1", dir);
    const list = await run("rpm", ["-qplv", v1]);
    assert.match(list, /^-rw------- +1 root +root .* \/etc\/edge-agent\/config\.json$/m);
    assert.match(list, /\/usr\/lib\/systemd\/system\/edge-agent\.service$/m);
    assert.match(list, /^drwx------ .* \/var\/lib\/edge-agent$/m);
    const configs = (await run("rpm", ["-qpc", v1])).split("\n");
    assert.ok(configs.includes("/etc/edge-agent/config.json"));
    assert.ok(configs.includes("/etc/edge-agent/rules/memory_free.ts"));
    const scripts = await run("rpm", ["-qp", "--scripts", v1]);
    assert.match(scripts, /systemctl try-restart edge-agent/);
    // the receive buffer: the .deb's sysctl file, not a %config, applied by %post
    assert.match(list, /^-rw-r--r-- .* \/usr\/lib\/sysctl\.d\/60-edge-agent\.conf$/m);
    assert.ok(!configs.includes("/usr/lib/sysctl.d/60-edge-agent.conf"));
    assert.match(scripts, /systemd-sysctl --prefix=\/net\/core\/rmem_default/);
    assert.match(scripts, /-lt 4194304/);

    await Deno.mkdir(rpmRoot);
    await rpm("--initdb");
    await rpm("-i", "--nodeps", "--noscripts", v1);
    const conf = join(rpmRoot, "etc/edge-agent/config.json");
    const edited = (await Deno.readTextFile(conf)).replace('"info"', '"debug"');
    await Deno.writeTextFile(conf, edited);
    await rpm("-U", "--nodeps", "--noscripts", v2);
    assert.match(await rpm("-q", "edge-agent"), /edge-agent-0\.1\.0~test2-1/);
    assert.equal(await Deno.readTextFile(conf), edited); // noreplace: the operator's file stays
    await rpm("-U", "--oldpackage", "--nodeps", "--noscripts", v1); // downgrade
    assert.match(await rpm("-q", "edge-agent"), /edge-agent-0\.1\.0~test1-1/);
    assert.equal(await Deno.readTextFile(conf), edited);
    await rpm("-e", "--nodeps", "--noscripts", "edge-agent");
    await assert.rejects(Deno.stat(join(rpmRoot, "usr/lib/edge-agent/deno")), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${conf}.rpmsave`), edited); // an edited config is kept
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("package_rpm --config builds from lua-collectd-monitor's sample: the launcher, the permissions file and its mapped StateDir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-rpm-" });
  try {
    const out = await run(join(root, "scripts/package_rpm"), [
      "--layout",
      "bundle",
      "--config",
      join(root, "config/lua-collectd-monitor.json"),
      "--version",
      "0.1.0~test1-1",
      "--output-dir",
      dir,
    ], { env: { EDGE_AGENT_DEB_COMPRESSION: "none" } });
    assert.match(
      out,
      /StateDir is not set \(default "state"\): the package uses \/var\/lib\/edge-agent/,
    );
    const rpm = out.split("\n").find((l) => l.endsWith(".rpm"))!;
    const list = await run("rpm", ["-qplv", rpm]);
    assert.match(list, / \/usr\/lib\/edge-agent\/permissions\.json$/m);
    const tree = join(dir, "tree");
    await Deno.mkdir(tree);
    await run("rpm", ["--root", tree, "--initdb"]);
    await run("rpm", ["--root", tree, "-i", "--nodeps", "--noscripts", rpm]);
    const config = JSON.parse(await Deno.readTextFile(join(tree, "etc/edge-agent/config.json")));
    assert.equal(config.StateDir, "/var/lib/edge-agent");
    const launcher = await Deno.readTextFile(join(tree, "usr/bin/edge-agent"));
    assert.match(launcher, /'--allow-run=\/bin\/systemctl,\/bin\/echo,/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
