// The Instagram app's HTTP routes, unchanged (see README.md in this folder).
export { default } from "../../../../convex/http";
