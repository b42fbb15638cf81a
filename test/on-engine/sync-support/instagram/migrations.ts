// The Instagram app's `migrations` module, unchanged (see README.md in this folder).
export * from "../../../../convex/migrations";
