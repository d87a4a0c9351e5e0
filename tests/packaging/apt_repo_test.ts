/**
 * scripts/apt_repo for real: a signed repository from a folder of .debs, seen by apt-get through a
 * `file:` source (its own sources.list and lists folder, so the machine's apt state is untouched),
 * installed from, and a newer .deb added later is picked up by `apt-get upgrade`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildDeb,
  installedVersion,
  purgeTestInstall,
  requireNotInstalled,
  withInstallLock,
} from "../_helpers/debs.ts";
import { run } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const V1 = "0.1.0~test1-1";
const V2 = "0.1.0~test2-1";

Deno.test("apt-get installs the agent from a signed apt_repo repository and upgrade picks up a newer one", async () => {
  await withInstallLock(async () => {
    const tmp = await Deno.makeTempDir({ prefix: "edge-agent-apt-" });
    await requireNotInstalled();
    const [debs, repo, gnupg, lists] = [
      join(tmp, "debs"),
      join(tmp, "repo"),
      join(tmp, "gnupg"),
      join(tmp, "lists"),
    ];
    try {
      for (const d of [debs, gnupg, join(lists, "partial"), join(tmp, "parts")]) {
        await Deno.mkdir(d, { recursive: true, mode: 0o700 });
      }
      // The operator's signing key (a throw-away one here).
      await run("gpg", [
        "--batch",
        "--homedir",
        gnupg,
        "--passphrase",
        "",
        "--quick-gen-key",
        "edge-agent test <edge-agent-test@example.org>",
        "ed25519",
        "sign",
        "1d",
      ]);
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(
        await run("gpg", ["--batch", "--homedir", gnupg, "--with-colons", "--list-keys"]),
      )![1]!;
      const publish = () =>
        run(join(root, "scripts/apt_repo"), [
          "--debs",
          debs,
          "--output",
          repo,
          "--sign-key",
          fpr,
          "--gpg-homedir",
          gnupg,
        ]);
      await buildDeb(V1, debs);
      await publish();
      for (const f of ["dists/stable/InRelease", "dists/stable/Release.gpg", "edge-agent.gpg"]) {
        await Deno.stat(join(repo, f));
      }

      await Deno.writeTextFile(
        join(tmp, "sources.list"),
        `deb [signed-by=${repo}/edge-agent.gpg] file:${repo} stable main\n`,
      );
      const apt = (cmd: string, ...args: string[]) =>
        run(cmd, [
          "-o",
          `Dir::Etc::sourcelist=${join(tmp, "sources.list")}`,
          "-o",
          `Dir::Etc::sourceparts=${join(tmp, "parts")}`,
          "-o",
          `Dir::State::Lists=${lists}`,
          "-o",
          "Dir::Cache::pkgcache=",
          "-o",
          "Dir::Cache::srcpkgcache=",
          "-o",
          "DPkg::Lock::Timeout=120",
          ...args,
        ], { env: { DEBIAN_FRONTEND: "noninteractive" } });

      await apt("apt-get", "update");
      assert.match(await apt("apt-cache", "policy", "edge-agent"), new RegExp(`Candidate: ${V1}`));
      await apt("apt-get", "install", "-y", "--no-install-recommends", "edge-agent");
      assert.equal(await installedVersion(), V1);

      await buildDeb(V2, debs); // a new release lands in the folder
      await publish();
      await apt("apt-get", "update");
      const upgrade = await apt("apt-get", "upgrade", "-y");
      assert.match(upgrade, /1 upgraded/);
      assert.equal(await installedVersion(), V2);

      // A repository whose Release was changed after signing is refused.
      const release = join(repo, "dists/stable/InRelease");
      await Deno.writeTextFile(
        release,
        (await Deno.readTextFile(release)).replace("Origin: edge-agent", "Origin: mallory"),
      );
      await assert.rejects(
        apt("apt-get", "update", "-o", "APT::Update::Error-Mode=any"),
        /BADSIG|signatures were invalid/,
      );
    } finally {
      await purgeTestInstall();
      await Deno.remove(tmp, { recursive: true });
    }
  });
});
