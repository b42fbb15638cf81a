// The Instagram app's components (the rate limiter), unchanged (see README.md in this folder).
export { default } from "../../../../convex/convex.config";
