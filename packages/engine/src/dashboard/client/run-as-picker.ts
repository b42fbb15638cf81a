import type { ActingIdentity, AdminClient, ConvexDocument } from "./admin-client.js";
import { h, setChildren } from "./element-builder.js";
import { formField } from "./form-field.js";
import { errorText } from "./view.js";

/** Chooses who a function runs as: nobody, a user of the `users` table, or any subject. */
export interface RunAsPicker {
  readonly element: HTMLElement;
  /** The chosen identity, null for none, or an error text when the choice is incomplete. */
  identity(): ActingIdentity | null | { error: string };
  /** A short description of the choice for the result line (`"as @ada"`). */
  describe(): string;
}

/** Fields that hold an identity's subject in common user tables (Clerk's id first). */
const SUBJECT_FIELDS = ["clerkId", "subject", "externalId", "userId"];
const MAX_USERS = 200;

/**
 * Builds the picker. Users are the newest of a `users` table whose documents
 * carry a subject field; the issuer defaults to the app's first auth
 * provider (or the dev issuer), which is what real tokens would carry.
 */
export function createRunAsPicker(api: AdminClient, onError: (message: string) => void): RunAsPicker {
  const users: { doc: ConvexDocument; subject: string }[] = [];
  const select = h("select", { id: "run-as", class: "input", onChange: () => syncFields() }, h("option", { value: "none" }, "Nobody (no identity)"));
  const subject = h("input", { id: "run-as-subject", class: "input mono", type: "text", placeholder: "user_2abc…", spellcheck: "false" });
  const issuer = h("input", { id: "run-as-issuer", class: "input mono", type: "text", spellcheck: "false" });
  const fields = h(
    "div",
    { class: "run-as-fields", hidden: true },
    formField("Subject", subject),
    formField("Issuer", issuer, { grow: true }),
  );
  const element = h(
    "div",
    { class: "run-as" },
    formField("Run as", select),
    fields,
  );

  /** The user of the `users` table chosen in the select, if one is. */
  function chosenUser(): { doc: ConvexDocument; subject: string } | undefined {
    return select.value.startsWith("user:") ? users[Number(select.value.slice(5))] : undefined;
  }

  function syncFields(): void {
    fields.hidden = select.value === "none";
    const user = chosenUser();
    if (user !== undefined) subject.value = user.subject;
    if (select.value === "custom") subject.focus();
  }

  async function load(): Promise<void> {
    try {
      const [issuers, tables] = await Promise.all([api.authIssuers(), api.tables()]);
      issuer.value = issuers[0] ?? "";
      const options: HTMLOptionElement[] = [];
      if (tables.some((t) => t.name === "users")) {
        const page = await api.documents("users", { cursor: null, order: "desc", limit: MAX_USERS });
        for (const doc of page.documents) {
          const field = SUBJECT_FIELDS.find((f) => typeof doc[f] === "string");
          if (field === undefined) continue;
          users.push({ doc, subject: doc[field] as string });
          options.push(h("option", { value: `user:${users.length - 1}` }, userLabel(doc, doc[field] as string)));
        }
      }
      const chosen = select.value;
      setChildren(
        select,
        h("option", { value: "none" }, "Nobody (no identity)"),
        options.length > 0 ? h("optgroup", { label: "Users" }, options) : null,
        h("option", { value: "custom" }, "Someone else (type a subject)…"),
      );
      select.value = chosen;
    } catch (e) {
      onError(errorText(e));
    }
  }

  void load();
  return {
    element,
    identity() {
      if (select.value === "none") return null;
      if (subject.value.trim() === "") return { error: "Type the subject (the user's id at the identity provider) to run as." };
      if (issuer.value.trim() === "") return { error: "Type the issuer (the identity provider's URL) to run as." };
      const identity: ActingIdentity = { subject: subject.value.trim(), issuer: issuer.value.trim() };
      const user = chosenUser();
      if (user !== undefined) {
        if (typeof user.doc.fullname === "string") identity.name = user.doc.fullname;
        if (typeof user.doc.email === "string") identity.email = user.doc.email;
      }
      return identity;
    },
    describe() {
      if (select.value === "none") return "with no identity";
      const user = chosenUser();
      return user !== undefined && typeof user.doc.username === "string" ? `as @${user.doc.username}` : `as ${subject.value.trim()}`;
    },
  };
}

function userLabel(doc: ConvexDocument, subject: string): string {
  const name = typeof doc.username === "string" ? `@${doc.username}` : typeof doc.name === "string" ? doc.name : doc._id;
  const full = typeof doc.fullname === "string" && doc.fullname !== doc.username ? ` · ${doc.fullname}` : "";
  return `${name}${full} (${subject})`;
}
