/**
 * Tests that crash a worker on purpose leave nothing of the crash in the
 * test output, where it reads as a failure although every test passes.
 */
import { assert } from "./helpers/assert.ts";

Deno.test("a deliberate worker crash in a test prints neither its line nor a stack trace", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--filter", "a crash fails the job sent ahead", "test/pool/slots_test.ts"],
    cwd: new URL("..", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert(code === 0 && /1 passed/.test(out), out);
  const crashLines = out.split("\n").filter((line) => line.includes("deliberate crash"));
  assert(crashLines.length === 0, `no crash line:\n${out}`);
  assert(!/^\s+at /m.test(out), `no stack frames:\n${out}`);
});
