// The Instagram app's auth providers, unchanged (see README.md in this folder).
export { default } from "../../../../convex/auth.config";
