/**
 * Standard error with a test's expected lines held back. A worker that
 * crashes on purpose makes the runtime print `error: Uncaught (in worker "")
 * …` however the pool handles the crash, and in a passing run that line
 * reads as a failure. While a hold is in place, everything written to
 * standard error (by any thread) goes to a file; when it ends, every line
 * but the expected ones is written out again, so nothing else is hidden.
 *
 * @module
 */

const O_WRONLY = 0o1;
const O_APPEND = 0o2000;

/** The runtime's line for the crash that fixtures/crashing_worker.ts makes. */
export const DELIBERATE_CRASH = /^error: Uncaught \(in worker ""\) "deliberate crash \(expected by the test\)"$/;

/**
 * Holds back lines of standard error matching `expected` until disposed.
 * Where libc cannot be loaded, it holds nothing back.
 *
 * @example
 * ```ts
 * using _held = holdBackStderr(DELIBERATE_CRASH);
 * ```
 */
export function holdBackStderr(expected: RegExp): Disposable {
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
      dup: { parameters: ["i32"], result: "i32" },
      dup2: { parameters: ["i32", "i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
    });
  } catch {
    return { [Symbol.dispose]() {} };
  }
  const path = Deno.makeTempFileSync({ prefix: "imgserve-stderr-" });
  const file = libc.symbols.open(new TextEncoder().encode(`${path}\0`), O_WRONLY | O_APPEND, 0);
  const saved = file < 0 ? -1 : libc.symbols.dup(2);
  if (saved >= 0) libc.symbols.dup2(file, 2);
  if (file >= 0) libc.symbols.close(file);
  return {
    [Symbol.dispose]() {
      if (saved >= 0) {
        libc.symbols.dup2(saved, 2);
        libc.symbols.close(saved);
      }
      libc.close();
      const held = Deno.readTextFileSync(path);
      Deno.removeSync(path);
      // deno-lint-ignore no-control-regex
      const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, "");
      const rest = held.split("\n").filter((line) => !expected.test(plain(line))).join("\n");
      if (rest.trim()) Deno.stderr.writeSync(new TextEncoder().encode(rest.endsWith("\n") ? rest : `${rest}\n`));
    },
  };
}
