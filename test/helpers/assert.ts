/**
 * The few assertions the tests use, on node:assert (JSR's @std/assert is
 * out of reach from our machines), named as @std/assert names them. Every
 * test imports these rather than node:assert itself, so one style reads
 * throughout.
 */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

export function assert_(condition: unknown, message?: string): asserts condition {
  assert.ok(condition, message);
}
export { assert_ as assert };

export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  assert.match(actual, expected, message);
}

export function assertNotMatch(actual: string, expected: RegExp, message?: string): void {
  assert.doesNotMatch(actual, expected, message);
}

export function assertThrows<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected ${type.name}, got ${err}`);
  }
  throw new Error(`expected ${type.name} to be thrown`);
}

export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected ${type.name}, got ${err}`);
  }
  throw new Error(`expected ${type.name} to be thrown`);
}
