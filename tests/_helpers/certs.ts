import { join } from "node:path";

/** PEM files of a throw-away CA, a broker certificate and a client certificate. */
export interface TestCerts {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing we use (for "wrong CA" cases). */
  otherCa: string;
}

async function openssl(dir: string, ...args: string[]) {
  const out = await new Deno.Command("/usr/bin/openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Generates the certificates with openssl into `dir` (server name "localhost", IP 127.0.0.1). */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const p = (f: string) => join(dir, f);
  for (const ca of ["ca", "other-ca"]) {
    await openssl(
      dir,
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=edge-agent test ${ca}`,
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.pem`,
    );
  }
  await Deno.writeTextFile(p("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await Deno.writeTextFile(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    await openssl(
      dir,
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      `/CN=${who === "server" ? "localhost" : "edge1"}`,
      "-keyout",
      `${who}.key`,
      "-out",
      `${who}.csr`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${who}.ext`,
      "-out",
      `${who}.pem`,
    );
  }
  return {
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    otherCa: p("other-ca.pem"),
  };
}
