// The Instagram app's `cascades` module, unchanged (see README.md in this folder).
export * from "../../../../convex/cascades";
