import type { ConvexClient } from "convex/browser";
import type { FunctionReference } from "convex/server";

/**
 * A live query of an official `ConvexClient`, recorded: every value the
 * client delivered, in order, and a way to wait for the next one that
 * matches. Tests wait on events, never on time.
 */
export interface LiveQuery<T> {
  /** Every value delivered so far (one per `QueryUpdated` the client applied). */
  readonly values: T[];
  /** Errors delivered so far. */
  readonly errors: Error[];
  /** The latest value; throws when none arrived yet. */
  latest(): T;
  /** Resolves with the first value (the latest one included) that satisfies `predicate`. */
  until(predicate: (value: T) => boolean, what?: string): Promise<T>;
  /** Resolves with the first error delivered after the call (or the latest one when `includeLatest`). */
  nextError(includeLatest?: boolean): Promise<Error>;
  unsubscribe(): void;
}

/** Subscribes through `client.onUpdate` and records what arrives. */
export function liveQuery<Q extends FunctionReference<"query">>(
  client: ConvexClient,
  query: Q,
  args: Q["_args"],
): LiveQuery<Q["_returnType"]> {
  type T = Q["_returnType"];
  const values: T[] = [];
  const errors: Error[] = [];
  let waiters: { test: (v: T) => boolean; resolve: (v: T) => void }[] = [];
  let errorWaiters: ((e: Error) => void)[] = [];
  const unsubscribe = client.onUpdate(
    query,
    args,
    (value: T) => {
      values.push(value);
      const ready = waiters.filter((w) => w.test(value));
      waiters = waiters.filter((w) => !w.test(value));
      for (const w of ready) w.resolve(value);
    },
    (error: Error) => {
      errors.push(error);
      const ready = errorWaiters;
      errorWaiters = [];
      for (const resolve of ready) resolve(error);
    },
  );
  return {
    values,
    errors,
    latest() {
      if (values.length === 0) throw new Error("no value yet");
      return values[values.length - 1]!;
    },
    until(predicate) {
      if (values.length > 0 && predicate(values[values.length - 1]!)) return Promise.resolve(values[values.length - 1]!);
      return new Promise((resolve) => waiters.push({ test: predicate, resolve }));
    },
    nextError(includeLatest = false) {
      if (includeLatest && errors.length > 0) return Promise.resolve(errors[errors.length - 1]!);
      return new Promise((resolve) => errorWaiters.push(resolve));
    },
    unsubscribe,
  };
}
