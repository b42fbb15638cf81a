import { defineApp } from "convex/server";
import rateLimiter from "@convex-dev/rate-limiter/convex.config.js";

// The Instagram app's components, installed as convex/convex.config.ts installs
// them (see README.md in this folder). Not a re-export: the engine reads an
// import of a path naming `convex.config` as a component of the app.
const app = defineApp();
app.use(rateLimiter);
export default app;
