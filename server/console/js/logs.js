// The sync log (errors only, per user) and the audit log (SPEC 8), newest first, a page at a time.

import { gql } from "./api.js";
import { checkField, clear, field, h } from "./dom.js";
import { TYPE_NAMES, STATE_NAMES, dateTime } from "./format.js";

const PAGE = 50;

/** A log screen: a filter form, a table, and Newer / Older buttons over keyset cursors. */
function logScreen({ title, operation, root, filterControls, filterOf, headers, cells, ctx }) {
  const cursors = [null];
  let index = 0;
  let hasNext = false;
  const tbody = h("tbody", {});
  const status = h("p", { class: "status", "aria-live": "polite" });
  const newer = h("button", { type: "button", onclick: () => go(-1) }, "← Newer");
  const older = h("button", { type: "button", onclick: () => go(1) }, "Older →");
  const form = h(
    "form",
    { class: "toolbar", method: "post", role: "search", "aria-label": `Filter the ${title.toLowerCase()}` },
    filterControls,
    h("div", { class: "field button-field" }, h("button", { type: "submit", class: "primary" }, "Show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors.length = 1;
    index = 0;
    load();
  });

  async function load() {
    status.textContent = "Loading…";
    try {
      const data = await gql(operation, { filter: filterOf(), first: PAGE, after: cursors[index] });
      const connection = data[root];
      hasNext = connection.pageInfo.hasNextPage;
      cursors[index + 1] = connection.pageInfo.endCursor;
      const nodes = connection.edges.map((edge) => edge.node);
      clear(
        tbody,
        nodes.length
          ? nodes.map((node) => h("tr", {}, cells(node).map((cell) => h("td", {}, cell))))
          : h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, "No entry.")),
      );
      status.textContent = `${nodes.length} entr${nodes.length === 1 ? "y" : "ies"}, page ${index + 1}`;
      newer.disabled = index === 0;
      older.disabled = !hasNext;
    } catch (error) {
      status.textContent = `The log could not be loaded: ${error.message}`;
      ctx.notify("error", error.message);
    }
  }

  function go(step) {
    if (index + step < 0 || (step > 0 && !hasNext)) return;
    index += step;
    load();
  }

  load();
  return h(
    "section",
    { class: "screen" },
    h("h2", {}, title),
    form,
    status,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "log" },
        h("caption", { class: "visually-hidden" }, title),
        h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
        tbody,
      ),
    ),
    h("nav", { class: "pager", "aria-label": `Pages of the ${title.toLowerCase()}` }, newer, older),
  );
}

export function syncLogScreen(ctx) {
  const userId = h("input", { name: "userId", maxlength: 128, autocomplete: "off" });
  const errorsOnly = h("input", { type: "checkbox", name: "errorsOnly", checked: true });
  return logScreen({
    title: "Sync log",
    operation: "ConsoleSyncLog",
    root: "syncLog",
    ctx,
    filterControls: [field("User id", userId, "Empty: every user."), checkField("Errors only", errorsOnly)],
    filterOf: () => ({ userId: userId.value.trim() || null, errorsOnly: errorsOnly.checked }),
    headers: ["Time", "User", "E-mail", "Project", "Client", "Result", "License", "Temporary"],
    cells: (e) => [
      dateTime(e.at),
      e.userId,
      e.email,
      e.projectId ?? "default",
      e.client,
      e.ok ? "✓ OK" : h("span", { class: "error-text" }, `✕ ${e.errorCode}${e.reason ? ` (${e.reason})` : ""}`),
      e.licenseType ? TYPE_NAMES[e.licenseType] : "—",
      e.temporary ? "Yes" : "No",
    ],
  });
}

export function auditLogScreen(ctx) {
  const userId = h("input", { name: "userId", maxlength: 128, autocomplete: "off" });
  return logScreen({
    title: "Audit log",
    operation: "ConsoleAuditLog",
    root: "auditLog",
    ctx,
    filterControls: [field("User id", userId, "Empty: every user.")],
    filterOf: () => ({ userId: userId.value.trim() || null }),
    headers: ["Time", "User", "License", "From", "To", "Actor", "Reason", "Operation", "For user"],
    cells: (e) => [
      dateTime(e.at),
      e.userId,
      TYPE_NAMES[e.licenseType],
      STATE_NAMES[e.fromState],
      STATE_NAMES[e.toState],
      e.actorRole && e.actorRole !== e.actor ? `${e.actor} (${e.actorRole})` : e.actor,
      e.reason,
      h("code", {}, e.operationId),
      e.beneficiaryUserId ?? "—",
    ],
  });
}
