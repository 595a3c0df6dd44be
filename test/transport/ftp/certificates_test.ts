/**
 * FTPS certificate checks on the OpenSSL path, against vsftpd: a leaf from
 * an unknown CA, for another name, or expired is refused as the source
 * (SOURCE_REFUSED, 207) and as the destination (DESTINATION_REFUSED, 303),
 * with OpenSSL's reason in the message, before any login is sent.
 */
import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";
import { makeTestCerts, type TestCerts } from "../../fixtures/certs.ts";
import { startVsftpd, VSFTPD, vsftpdLog } from "../../fixtures/ftp/vsftpd.ts";
import { download, optionsFor, rejectsWith, upload } from "../../fixtures/ftp/transfer.ts";
import type { TransferOptions } from "../../../src/transport/mod.ts";
import { skipped } from "../../helpers/requirements.ts";

/** Resolves every name to 127.0.0.1, so a URL can name a host the certificate does not. */
const loopbackGuard = { resolve: () => Promise.resolve("127.0.0.1"), checkAddress: () => {} };

const cases: {
  what: string;
  expired?: boolean;
  host: string;
  trust: (certs: TestCerts) => Partial<TransferOptions>;
  reason: RegExp;
}[] = [
  {
    what: "a certificate from an unknown CA",
    host: "127.0.0.1",
    trust: () => ({ caCerts: [] }),
    reason: /certificate verify failed.*unable to get local issuer certificate/,
  },
  {
    what: "a certificate for another host name",
    host: "elsewhere.test",
    trust: (certs) => ({ caCerts: [certs.caPem], guard: loopbackGuard }),
    reason: /certificate verify failed.*hostname mismatch/,
  },
  {
    what: "an expired certificate",
    expired: true,
    host: "localhost",
    trust: (certs) => ({ caCerts: [certs.caPem], guard: loopbackGuard }),
    reason: /certificate verify failed.*certificate has expired/,
  },
];

for (const { what, expired, host, trust, reason } of cases) {
  Deno.test({
    name: `ftps/ftpes: ${what} is refused, 207 as the source and 303 as the destination, before logging in`,
    ignore: skipped(VSFTPD),
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const certs = await makeTestCerts(dir, { expired });
        const options = optionsFor(undefined, trust(certs));
        for (const implicit of [false, true]) {
          await using server = await startVsftpd({ certs, implicit });
          await Deno.writeFile(`${server.root}/pub/a.bin`, new Uint8Array(10));
          const base = `${implicit ? "ftps" : "ftpes"}://${server.user}:${server.password}@${host}:${server.port}`;
          const read = await rejectsWith(download(`${base}/pub/a.bin`, options), "SOURCE_REFUSED");
          assertEquals(read.code, 207);
          assertMatch(read.message, reason);
          const write = await rejectsWith(upload(`${base}/b.bin`, new Uint8Array(10), options), "DESTINATION_REFUSED");
          assertEquals(write.code, 303);
          assertMatch(write.message, reason);
          const log = await vsftpdLog(server);
          assert(!/"(USER|PASS|RETR|STOR)/.test(log), log);
          assertEquals([...Deno.readDirSync(`${server.root}/home`)], []);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
