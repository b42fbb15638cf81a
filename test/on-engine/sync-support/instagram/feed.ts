// The Instagram app's `feed` module, unchanged (see README.md in this folder).
export * from "../../../../convex/feed";
