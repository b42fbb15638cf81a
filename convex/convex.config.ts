import { defineApp } from "convex/server";
import rateLimiter from "@convex-dev/rate-limiter/convex.config.js";

/**
 * The app's components: Convex's official rate limiter (`lib/rate-limits.ts`
 * holds every limit). Deploys to Convex's cloud as is; the engine runs it too.
 */
const app = defineApp();
app.use(rateLimiter);
export default app;
