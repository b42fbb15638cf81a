// The Instagram app's schema, unchanged (see README.md in this folder).
export { default } from "../../../../convex/schema";
