// The Instagram app's `images` module, unchanged (see README.md in this folder).
export * from "../../../../convex/images";
