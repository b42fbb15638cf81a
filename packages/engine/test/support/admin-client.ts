import { ConvexHttpClient } from "convex/browser";
import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";

/** A `ConvexHttpClient` with the admin key: it may call internal functions, as operators do. */
export interface AdminClient {
  query<Q extends FunctionReference<"query", "public" | "internal">>(ref: Q, args: FunctionArgs<Q>): Promise<FunctionReturnType<Q>>;
  mutation<M extends FunctionReference<"mutation", "public" | "internal">>(ref: M, args: FunctionArgs<M>): Promise<FunctionReturnType<M>>;
  action<A extends FunctionReference<"action", "public" | "internal">>(ref: A, args: FunctionArgs<A>): Promise<FunctionReturnType<A>>;
}

/**
 * The official client authenticated with `setAdminAuth` (typed `@internal` in
 * the package, hence the cast); its typings only admit public references.
 */
export function adminClient(url: string, adminKey: string): AdminClient {
  const client = new ConvexHttpClient(url, { logger: false });
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(adminKey);
  type Loose = (ref: unknown, args: unknown) => Promise<never>;
  const loose = client as unknown as { query: Loose; mutation: Loose; action: Loose };
  return {
    query: (ref, args) => loose.query(ref, args),
    mutation: (ref, args) => loose.mutation(ref, args),
    action: (ref, args) => loose.action(ref, args),
  };
}
