/**
 * Clerk is the identity provider: Convex verifies Clerk-issued JWTs (template
 * "convex") against this issuer. The JWT subject is the Clerk user id, which
 * `users.clerkId` stores.
 */
export default {
  providers: [
    {
      domain: process.env.CLERK_JWT_ISSUER_DOMAIN,
      applicationID: "convex",
    },
  ],
};
