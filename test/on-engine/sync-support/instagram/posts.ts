// The Instagram app's `posts` module, unchanged (see README.md in this folder).
export * from "../../../../convex/posts";
