/**
 * What a client reads when a source or destination cannot be reached or
 * written: one sentence each, no HTTP client's error chain, no OS error
 * numbers, each address named once.
 */
import { assertEquals } from "./helpers/assert.ts";
import { serve, tempDir } from "./helpers/server.ts";
import { resizeJob } from "./helpers/jobs.ts";
import { png, thirds } from "./helpers/images.ts";
import { freePort } from "./helpers/ports.ts";

Deno.test("network and file failures read as one plain sentence each", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 20)));
  await using imgserve = await serve(["--file-root", dir.path]);
  const closed = `127.0.0.1:${freePort()}`;
  const cases: [string, string, number, string][] = [
    [
      `http://${closed}/a.png`,
      `file://${dir.path}/o.png`,
      201,
      `cannot fetch http://${closed}/a.png: the connection was refused`,
    ],
    [
      `file://${dir.path}/a.png`,
      `http://${closed}/o.png`,
      302,
      `cannot upload to http://${closed}/o.png: the connection was refused`,
    ],
    [
      `ftp://${closed}/a.png`,
      `file://${dir.path}/o.png`,
      201,
      `the FTP server ${closed} connecting: the connection was refused`,
    ],
    [
      `file://${dir.path}/a.png`,
      `file://${dir.path}/a.png/b.png`,
      301,
      `cannot write ${dir.path}/a.png/b.png: a part of its folder path is a file, not a folder`,
    ],
  ];
  for (const [src, dst, code, error] of cases) {
    const { json } = await imgserve.post(resizeJob(src, dst, { width: 10 }));
    assertEquals([json.code, json.error], [code, error]);
  }
});
