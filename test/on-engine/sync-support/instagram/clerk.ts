// The Instagram app's `clerk` module, unchanged (see README.md in this folder).
export * from "../../../../convex/clerk";
