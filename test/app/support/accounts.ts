import { api, internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { AppBackend, AppClient } from "../harness";

/** A signed-up user as tests hold it. */
export type TestUser = {
  clerkId: string;
  id: Id<"users">;
  username: string;
  /** A client signed in as this user. */
  client: AppClient;
};

let counter = 0;

/** A Clerk-style user id no other test user has. */
function newClerkId(): string {
  counter += 1;
  return `user_test${counter}`;
}

/**
 * Signs a user up the way the Clerk webhook does (the same internal
 * mutation, through the admin client).
 */
export async function signUp(
  backend: AppBackend,
  profile: { username?: string; email?: string; fullname?: string; image?: string; clerkId?: string } = {},
): Promise<TestUser> {
  const clerkId = profile.clerkId ?? newClerkId();
  const id = await backend.admin().mutation(internal.users.createUser, {
    clerkId,
    email: profile.email ?? `${clerkId}@example.com`,
    username: profile.username ?? clerkId.replace(/^user_/, ""),
    fullname: profile.fullname ?? "Test User",
    image: profile.image ?? "https://img.example.com/avatar.png",
  });
  const client = backend.client(clerkId);
  const me = await client.query(api.users.getCurrentUser);
  if (me === null) throw new Error(`sign-up of ${clerkId} left no account`);
  return { clerkId, id, username: me.username, client };
}

/** Signs up `n` users. */
export async function signUpMany(backend: AppBackend, n: number): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i += 1) users.push(await signUp(backend));
  return users;
}
