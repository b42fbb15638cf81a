// The Instagram app's `notifications` module, unchanged (see README.md in this folder).
export * from "../../../../convex/notifications";
