// The Instagram app's `comments` module, unchanged (see README.md in this folder).
export * from "../../../../convex/comments";
