/**
 * The .deb for real on this machine: lintian, dpkg -i, upgrade, config preservation, downgrade,
 * removal and purge, and the installed agent started as the unit's ExecStart would. Built in the
 * bundled-file layout (no denort here); every test purges what it installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildDeb,
  dpkg,
  installedVersion,
  purgeTestInstall,
  requireNotInstalled,
  udpPortFree,
  withInstallLock,
} from "../_helpers/debs.ts";
import { notifySocket, run, start } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const V1 = "0.1.0~test1-1";
const V2 = "0.1.0~test2-1";
const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("lintian finds nothing in the package that is not fixed or justified", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const deb = await buildDeb(V1, dir, "gzip"); // as released
    // Exit status 2 with --show-overrides only means overridden errors were shown: read the tags.
    const res = await new Deno.Command("lintian", {
      args: ["--allow-root", "--tag-display-limit", "0", "--show-overrides", deb],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
    const tags = out.split("\n").filter((l) => /^[EWI]: /.test(l));
    assert.deepEqual(tags, [], out);
    assert.match(out, /^O: edge-agent: non-standard-file-perm 0600 != 0644/m); // the override ran
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the package installs, upgrades keeping the operator's config, rules and state, downgrades, removes and purges", async () => {
  await withInstallLock(async () => {
    const dir = await Deno.makeTempDir();
    await requireNotInstalled();
    try {
      const [v1, v2] = [await buildDeb(V1, dir), await buildDeb(V2, dir)];

      await dpkg("-i", v1);
      assert.equal(await installedVersion(), V1);
      assert.match(await run("/usr/bin/edge-agent", ["--version"]), /^edge-agent \d+\.\d+\.\d+/);
      const conf = await Deno.stat("/etc/edge-agent/config.json");
      assert.equal(conf.mode! & 0o777, 0o600);
      assert.equal((await Deno.stat("/var/lib/edge-agent")).mode! & 0o777, 0o700);
      assert.ok(await exists("/etc/edge-agent/rules/memory_free.ts"));
      assert.ok(await exists("/usr/share/edge-agent/types.db"));
      const unit = await Deno.readTextFile("/lib/systemd/system/edge-agent.service");
      for (const line of ["Type=notify", "Restart=on-failure", "StateDirectory=edge-agent"]) {
        assert.ok(unit.split("\n").includes(line), line);
      }
      assert.match(unit, /^WatchdogSec=\d+/m);
      // systemd parses the installed unit without complaint (its ExecStart and man page exist)
      await run("systemd-analyze", ["verify", "/lib/systemd/system/edge-agent.service"]);
      const conffiles = await run("dpkg-query", ["-W", "-f", "${Conffiles}", "edge-agent"]);
      assert.match(conffiles, /\/etc\/edge-agent\/config\.json [0-9a-f]{32}/);
      assert.match(conffiles, /\/etc\/edge-agent\/rules\/memory_free\.ts/);
      // the receive buffer: a package-owned sysctl file (not a conffile), applied by the postinst
      assert.match(
        await Deno.readTextFile("/usr/lib/sysctl.d/60-edge-agent.conf"),
        /^net\.core\.rmem_default = 4194304$/m,
      );
      assert.doesNotMatch(conffiles, /sysctl/);
      const rmem = Number(await Deno.readTextFile("/proc/sys/net/core/rmem_default"));
      assert.ok(rmem >= 4194304, `net.core.rmem_default is ${rmem} after the install`);
      // `check-config` of the packaged default passes under the packaged flags
      assert.match(
        await run("/usr/bin/edge-agent", [
          "check-config",
          "--config",
          "/etc/edge-agent/config.json",
        ]),
        /local-only/,
      );

      // The operator edits the config and a rule, adds a rule; the agent wrote state.
      const edited = (await Deno.readTextFile("/etc/edge-agent/config.json"))
        .replace('"LogLevel": "info"', '"LogLevel": "debug"');
      assert.match(edited, /"debug"/);
      await Deno.writeTextFile("/etc/edge-agent/config.json", edited);
      await Deno.writeTextFile("/etc/edge-agent/rules/memory_free.ts", "// operator's edit\n", {
        append: true,
      });
      await Deno.writeTextFile("/etc/edge-agent/rules/own.ts", "export const metrics = {};\n");
      await Deno.writeTextFile("/var/lib/edge-agent/audit.jsonl", '{"marker":1}\n');

      await dpkg("-i", v2); // upgrade
      assert.equal(await installedVersion(), V2);
      assert.equal(await Deno.readTextFile("/etc/edge-agent/config.json"), edited);
      assert.equal((await Deno.stat("/etc/edge-agent/config.json")).mode! & 0o777, 0o600);
      assert.match(
        await Deno.readTextFile("/etc/edge-agent/rules/memory_free.ts"),
        /operator's edit/,
      );
      assert.ok(await exists("/etc/edge-agent/rules/own.ts"));
      assert.equal(await Deno.readTextFile("/var/lib/edge-agent/audit.jsonl"), '{"marker":1}\n');

      await dpkg("-i", v1); // downgrade
      assert.equal(await installedVersion(), V1);
      assert.equal(await Deno.readTextFile("/etc/edge-agent/config.json"), edited);
      assert.match(await run("/usr/bin/edge-agent", ["--version"]), /^edge-agent /);

      await dpkg("-r", "edge-agent"); // remove: program gone, conffiles and state stay
      assert.equal(await installedVersion(), null);
      assert.ok(!await exists("/usr/bin/edge-agent"));
      assert.ok(!await exists("/usr/lib/edge-agent/deno"));
      assert.ok(!await exists("/usr/lib/sysctl.d/60-edge-agent.conf"));
      assert.equal(await Deno.readTextFile("/etc/edge-agent/config.json"), edited);
      assert.ok(await exists("/var/lib/edge-agent/audit.jsonl"));

      await dpkg("--purge", "edge-agent"); // purge: everything gone but the operator's own file
      assert.ok(!await exists("/etc/edge-agent/config.json"));
      assert.ok(!await exists("/etc/edge-agent/rules/memory_free.ts"));
      assert.ok(await exists("/etc/edge-agent/rules/own.ts")); // not the package's: dpkg keeps it
      assert.ok(!await exists("/var/lib/edge-agent"));
      assert.ok(!await exists("/etc/systemd/system/multi-user.target.wants/edge-agent.service"));
    } finally {
      await purgeTestInstall();
      await Deno.remove("/etc/edge-agent", { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("the installed agent started as the unit's ExecStart runs on the packaged default config and reports READY=1, WATCHDOG=1, RELOADING=1 and STOPPING=1", async () => {
  await withInstallLock(async () => {
    // The packaged flags grant sd_notify to /run/systemd/notify only, so the test socket is there.
    assert.ok(
      !await exists("/run/systemd/system"),
      "systemd is running here: this test would take over its notify socket",
    );
    assert.ok(!await exists("/run/systemd/notify"), "/run/systemd/notify already exists");
    const createdRunSystemd = !await exists("/run/systemd");
    const dir = await Deno.makeTempDir();
    await requireNotInstalled();
    let notify;
    let agent;
    try {
      await dpkg("-i", await buildDeb(V1, dir));
      const unit = await Deno.readTextFile("/lib/systemd/system/edge-agent.service");
      const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(" ");
      assert.deepEqual(execStart, [
        "/usr/bin/edge-agent",
        "run",
        "--config",
        "/etc/edge-agent/config.json",
      ]);
      await Deno.mkdir("/run/systemd", { recursive: true });
      notify = notifySocket("/run/systemd/notify");
      // The packaged default listens on collectd's port 25826 (its flags allow nothing else).
      for (let i = 0; i < 50 && !udpPortFree(25826); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(
        udpPortFree(25826),
        "127.0.0.1:25826 is busy; the packaged default config needs it",
      );

      agent = start(execStart[0]!, execStart.slice(1), {
        clearEnv: true,
        env: {
          PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
          NOTIFY_SOCKET: "/run/systemd/notify",
          WATCHDOG_USEC: "400000", // what systemd sets for WatchdogSec (shortened here)
        },
      });
      await agent.waitFor(/listening for collectd packets addr=127\.0\.0\.1:25826/);
      await agent.waitFor(/started in local-only mode/);
      await notify.waitFor("READY=1");
      await notify.waitFor("WATCHDOG=1", 5000);
      Deno.kill(agent.pid, "SIGHUP"); // systemctl reload
      await notify.waitFor("RELOADING=1", 5000);
      const denied = agent.lines.filter((l) => /NotCapable|Requires .* access/.test(l));
      assert.deepEqual(denied, []);
      const status = await agent.stop();
      assert.equal(status.code, 0, agent.lines.join("\n"));
      await notify.waitFor("STOPPING=1", 2000);
    } finally {
      await agent?.stop();
      await notify?.close();
      await Deno.remove("/run/systemd/notify").catch(() => {});
      if (createdRunSystemd) await Deno.remove("/run/systemd", { recursive: true }).catch(() => {});
      await purgeTestInstall();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("the binary layout packages the two compiled binaries behind the /usr/bin/edge-agent launcher and nothing of the bundle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // No denort here: stand-ins for what `scripts/compile --role daemon|operator` would build.
    const binaries: string[] = [];
    for (const role of ["daemon", "operator"]) {
      const binary = join(dir, `edge-agent-${role}`);
      await Deno.writeTextFile(binary, `#!/bin/sh\necho "edge-agent 0.1.0 (${role})"\n`);
      await Deno.chmod(binary, 0o755);
      binaries.push(binary);
    }
    const out = await run(join(root, "scripts/package_deb"), [
      "--layout",
      "binary",
      "--binary",
      binaries[0]!,
      "--operator-binary",
      binaries[1]!,
      "--version",
      V1,
      "--output-dir",
      dir,
    ], { env: { EDGE_AGENT_DEB_COMPRESSION: "none" } });
    const deb = out.split("\n").find((l) => l.endsWith(".deb"))!;
    const files = await run("dpkg-deb", ["-c", deb]);
    assert.match(files, /-rwxr-xr-x root\/root +\d+ .* \.\/usr\/bin\/edge-agent\n/);
    assert.match(files, /-rwxr-xr-x root\/root .* \.\/usr\/lib\/edge-agent\/edge-agent-daemon\n/);
    assert.match(files, /-rwxr-xr-x root\/root .* \.\/usr\/lib\/edge-agent\/edge-agent-operator\n/);
    assert.match(files, /-rw-r--r-- root\/root .* \.\/usr\/lib\/edge-agent\/permissions\.json\n/);
    assert.match(files, /-rw------- root\/root .* \.\/etc\/edge-agent\/config\.json/);
    assert.doesNotMatch(files, /usr\/lib\/edge-agent\/(deno|edge-agent\.js)/);
    const extract = (path: string) =>
      run("sh", ["-c", `dpkg-deb --fsys-tarfile '${deb}' | tar -xOf - ./${path}`]);
    const launcher = await extract("usr/bin/edge-agent");
    assert.match(
      launcher,
      /check-config\|maintenance\|send-command\|send-config\|status\|test-rule\)\n +exec \/usr\/lib\/edge-agent\/edge-agent-operator "\$@"/,
    );
    assert.match(launcher, /\nexec \/usr\/lib\/edge-agent\/edge-agent-daemon "\$@"\n$/);
    const overrides = await extract("usr/share/lintian/overrides/edge-agent");
    assert.match(overrides, /embedded-library lcms2 \[usr\/lib\/edge-agent\/edge-agent-daemon\]/);
    assert.match(overrides, /embedded-library lcms2 \[usr\/lib\/edge-agent\/edge-agent-operator\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with DENORT_BIN the package is built from the compiled binary and runs; without it the build says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const build = (env: Record<string, string> = {}) =>
      new Deno.Command(join(root, "scripts/package_deb"), {
        args: ["--layout", "binary", "--version", V1, "--output-dir", dir],
        env: { EDGE_AGENT_DEB_COMPRESSION: "none", ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
    if (!Deno.env.get("DENORT_BIN")) {
      // No denort (this machine; a dead proxy makes it so on a connected one too): the binary
      // layout is refused with the compile script's message.
      const out = await build({
        HTTPS_PROXY: "http://127.0.0.1:9",
        https_proxy: "http://127.0.0.1:9",
      });
      assert.notEqual(out.code, 0);
      assert.match(new TextDecoder().decode(out.stderr), /deno compile needs its runtime 'denort'/);
      return;
    }
    const out = await build();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const deb = new TextDecoder().decode(out.stdout).trim();
    await withInstallLock(async () => {
      await requireNotInstalled();
      try {
        await dpkg("-i", deb);
        assert.match(await run("/usr/bin/edge-agent", ["--version"]), /^edge-agent \d/);
        assert.match(
          await run("/usr/bin/edge-agent", ["check-config"]),
          /permissions: the installed/,
        );
        assert.ok(!await exists("/usr/lib/edge-agent/deno"));
      } finally {
        await purgeTestInstall();
        await Deno.remove("/etc/edge-agent", { recursive: true }).catch(() => {});
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
