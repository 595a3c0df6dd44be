/**
 * Tests that need what a machine may lack (root, a server package) never
 * pass by being left out. Where the need is missing, such a test runs and
 * fails, saying what it needs; only a run that names it in
 * `IMGSERVE_TEST_SKIP` (comma-separated: `IMGSERVE_TEST_SKIP=vsftpd,proftpd`)
 * ignores it, and says so on stderr.
 *
 * @module
 */

/** Something a group of tests needs. */
export interface Requirement {
  /** The name `IMGSERVE_TEST_SKIP` knows it by: "vsftpd". */
  name: string;
  /** What is missing on this machine, or undefined when the tests can run. */
  missing(): string | undefined;
}

const warned = new Set<string>();

/**
 * For `Deno.test`'s `ignore`: true only when the requirement is missing and
 * the run has asked to skip it.
 *
 * @example
 * ```ts
 * Deno.test({ name: "…", ignore: skipped(VSFTPD), fn: async () => {…} });
 * ```
 */
export function skipped(requirement: Requirement): boolean {
  const why = requirement.missing();
  if (why === undefined) return false;
  const skip = (Deno.env.get("IMGSERVE_TEST_SKIP") ?? "").split(",").map((name) => name.trim());
  if (!skip.includes(requirement.name)) return false;
  if (!warned.has(requirement.name)) {
    warned.add(requirement.name);
    console.error(`%cSKIPPED: the ${requirement.name} tests (${why}; IMGSERVE_TEST_SKIP)`, "color: yellow");
  }
  return true;
}

/** Throws what is missing and how to run the tests, or to skip them knowingly. Fixtures call it first. */
export function assertCanRun(requirement: Requirement): void {
  const why = requirement.missing();
  if (why === undefined) return;
  throw new Error(
    `the ${requirement.name} tests cannot run here: ${why}. Run the tests as root after sh test/setup.sh, ` +
      `or skip these knowingly with IMGSERVE_TEST_SKIP=${requirement.name}`,
  );
}
