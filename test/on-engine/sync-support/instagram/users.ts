// The Instagram app's `users` module, unchanged (see README.md in this folder).
export * from "../../../../convex/users";
