"use node";

// The Instagram app's `imaging` module, unchanged (see README.md in this folder).
export * from "../../../../convex/imaging";
