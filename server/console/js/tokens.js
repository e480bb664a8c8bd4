// API tokens of one organization (SPEC 9): list, create (the secret is shown once, with a copy
// button) and revoke. An ADMIN sees its own organization's; the OPERATOR the one it picked.

import { gql } from "./api.js";
import { clear, field, h, select } from "./dom.js";
import { dateTime, describeErrors } from "./format.js";

/** The secret, shown once: a read-only field and a Copy button. */
export function secretBox(label, secret) {
  const input = h("input", { type: "text", readonly: true, value: secret, class: "secret", "aria-label": label, spellcheck: "false" });
  const feedback = h("span", { class: "copy-feedback", "aria-live": "polite" });
  const copy = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(secret);
          feedback.textContent = "Copied.";
        } catch {
          feedback.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
        }
      },
    },
    "Copy",
  );
  return h("div", { class: "secret-box" }, h("span", { class: "secret-label" }, label), input, copy, feedback);
}

export function tokensPanel(ctx, organizationId) {
  const listBody = h("tbody", {});
  const created = h("div", { class: "created-secret", "aria-live": "polite" });
  const nameInput = h("input", { name: "tokenName", required: true, maxlength: 100, autocomplete: "off" });
  const roleSelect = select([["ADMIN", "ADMIN — manages the organization"], ["READER", "READER — reads only"], ["SYNC", "SYNC — the mobile app's sync"]], { name: "role", value: "READER" });
  const form = h(
    "form",
    { class: "grid-form", method: "post", "aria-label": "Create a token" },
    field("Token name", nameInput),
    field("Role", roleSelect),
    h("div", { class: "field button-field" }, h("button", { type: "submit", class: "primary" }, "Create token")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await gql("ConsoleCreateToken", {
        input: { organizationId, role: roleSelect.value, name: nameInput.value.trim() },
      });
      const payload = data.createToken;
      if (payload.userErrors.length) {
        ctx.notify("error", `The token was not created: ${describeErrors(payload.userErrors)}`);
        return;
      }
      clear(
        created,
        h("p", { class: "warning" }, "⚠ Copy this secret now: it is shown only once."),
        secretBox(`Secret of ${nameInput.value.trim()}`, payload.token),
      );
      form.reset();
      await load();
    } catch (error) {
      ctx.notify("error", `The token was not created: ${error.message}`);
    }
  });

  async function revoke(tokenRow) {
    if (!window.confirm(`Revoke the token ${tokenRow.name}? Clients using it are refused from now on.`)) return;
    try {
      const data = await gql("ConsoleRevokeToken", { id: tokenRow.id });
      if (data.revokeToken.userErrors.length) {
        ctx.notify("error", describeErrors(data.revokeToken.userErrors));
      } else {
        ctx.notify("ok", `Token ${tokenRow.name} revoked.`);
      }
    } catch (error) {
      ctx.notify("error", error.message);
    }
    await load();
  }

  async function load() {
    try {
      const data = await gql("ConsoleTokens", { organizationId });
      clear(
        listBody,
        data.tokens.map((t) =>
          h(
            "tr",
            { dataset: { token: t.id } },
            h("td", {}, t.name),
            h("td", {}, t.role),
            h("td", {}, dateTime(t.createdAt)),
            h("td", {}, t.revokedAt ? `Revoked ${dateTime(t.revokedAt)}` : "Active"),
            h(
              "td",
              {},
              t.revokedAt
                ? ""
                : h("button", { type: "button", class: "danger", "aria-label": `Revoke ${t.name}`, onclick: () => revoke(t) }, "Revoke"),
            ),
          ),
        ),
      );
    } catch (error) {
      clear(listBody, h("tr", {}, h("td", { colspan: 5, class: "error" }, error.message)));
    }
  }
  load();

  return h(
    "section",
    { class: "tokens", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, "Tokens"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Name", "Role", "Created", "Status", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        listBody,
      ),
    ),
    h("h3", {}, "New token"),
    form,
    created,
  );
}
