import { ConvexError } from "convex/values";
import { expect } from "vitest";
import type { ErrorCode } from "../../../convex/lib/errors";

/**
 * Awaits `promise`, expecting it to reject with the app's
 * `ConvexError({ code, message })` of `code`. Returns the message so a test
 * can check it says something useful.
 */
export async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a ${code} error, but the call succeeded`).toBeDefined();
  expect(thrown).toBeInstanceOf(ConvexError);
  const data = (thrown as ConvexError<{ code: string; message: string }>).data;
  expect(data.code).toBe(code);
  expect(typeof data.message).toBe("string");
  expect(data.message.length).toBeGreaterThan(10);
  return data.message;
}

/** Awaits `promise`, expecting any rejection (e.g. argument validation). */
export async function expectRejection(promise: Promise<unknown>): Promise<Error> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected the call to fail, but it succeeded").toBeInstanceOf(Error);
  return thrown as Error;
}
