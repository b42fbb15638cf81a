// The Instagram app's `bookmarks` module, unchanged (see README.md in this folder).
export * from "../../../../convex/bookmarks";
