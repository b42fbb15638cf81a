// The Instagram app's `uploads` module, unchanged (see README.md in this folder).
export * from "../../../../convex/uploads";
