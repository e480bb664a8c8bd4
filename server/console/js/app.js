// The console's entry point: sign in with a pasted token, learn the role from `viewer`, then
// route between screens by the URL's fragment (#/users, #/settings, …). The token never appears
// in a URL; it stays in this tab's sessionStorage until Sign out or the tab closes.

import { ApiError, gql, token } from "./api.js";
import { clear, field, h, select } from "./dom.js";
import { dateTime, inTrial } from "./format.js";
import { importScreen } from "./importer.js";
import { auditLogScreen, syncLogScreen } from "./logs.js";
import { organizationScreen, organizationsScreen } from "./operator.js";
import { settingsScreen } from "./settings.js";
import { tokensPanel } from "./tokens.js";
import { usersScreen } from "./users.js";

const header = document.getElementById("top");
const main = document.getElementById("main");
const notice = document.getElementById("notice");

const ROLE_NOTES = {
  ADMIN: "Administrator",
  READER: "Read-only",
  OPERATOR: "Vendor operator",
};
const SYNC_REFUSAL =
  "This token has the SYNC role: it lets the mobile app sync and nothing else, so it cannot open the console. " +
  "Sign in with an ADMIN token (or a READER token to look without changing anything).";

const ctx = {
  viewer: null,
  organization: null, // ADMIN and READER: their organization
  organizations: [], // OPERATOR: every organization, for the picker
  readOnly: true,
  notify,
  pickOrganization,
  reloadOrganizations,
};

/** Say something to the user: "ok" in a status region, "error" in an alert region. */
function notify(kind, text) {
  clear(
    notice,
    h(
      "div",
      { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
      h("span", {}, kind === "error" ? "✕ " : "✓ ", text),
      h("button", { type: "button", class: "close", "aria-label": "Dismiss", onclick: () => clear(notice) }, "×"),
    ),
  );
}

// ---------------------------------------------------------------------- sign in
function showSignIn(message) {
  ctx.viewer = null;
  clear(header, h("h1", {}, "Seatkeeper"));
  clear(notice);
  const input = h("input", {
    type: "password",
    name: "token",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-hint",
  });
  const form = h(
    "form",
    { class: "sign-in", method: "post", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    field("Access token", input),
    h(
      "p",
      { class: "hint", id: "token-hint" },
      "Paste an ADMIN or READER token of your organization (or the operator token). ",
      "It is kept in this browser tab only, until you sign out or close the tab.",
    ),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const secret = input.value.trim();
    if (!secret) return;
    token.set(secret);
    await start();
  });
  clear(main, form);
  input.focus();
}

function signOut() {
  token.clear();
  history.replaceState(null, "", "/console/");
  showSignIn();
}

async function start() {
  if (!token.get()) {
    showSignIn();
    return;
  }
  try {
    ctx.viewer = (await gql("ConsoleViewer")).viewer;
  } catch (error) {
    token.clear();
    showSignIn(
      error instanceof ApiError && error.code === "UNAUTHENTICATED"
        ? "This token is not valid (unknown or revoked). Check it and try again."
        : `Sign-in failed: ${error.message}`,
    );
    return;
  }
  const role = ctx.viewer.role;
  if (role === "SYNC") {
    token.clear();
    showSignIn(SYNC_REFUSAL);
    return;
  }
  ctx.readOnly = role !== "ADMIN";
  if (role === "OPERATOR") {
    await reloadOrganizations();
  } else {
    ctx.organization = (await gql("ConsoleOrganization", {})).organization;
  }
  renderHeader();
  route();
}

// ---------------------------------------------------------------------- shell
const SCREENS = {
  ADMIN: [
    ["users", "Mobile users"],
    ["import", "Import"],
    ["settings", "Settings"],
    ["sync-log", "Sync log"],
    ["audit-log", "Audit log"],
    ["tokens", "Tokens"],
  ],
  READER: [
    ["users", "Mobile users"],
    ["settings", "Settings"],
    ["sync-log", "Sync log"],
    ["audit-log", "Audit log"],
  ],
  OPERATOR: [
    ["organizations", "Organizations"],
    ["organization", "Organization"],
  ],
};

function renderHeader() {
  const viewer = ctx.viewer;
  const role = viewer.role;
  const who = h(
    "p",
    { class: "who" },
    h("span", { class: `badge role role-${role.toLowerCase()}`, id: "role" }, role),
    " ",
    ROLE_NOTES[role],
    viewer.tokenName ? ` · ${viewer.tokenName}` : "",
  );
  let place;
  if (role === "OPERATOR") {
    const picker = select(
      [["", "Choose an organization…"], ...ctx.organizations.map((o) => [o.id, o.name])],
      { id: "organization-picker", value: ctx.organizationId ?? "" },
    );
    picker.addEventListener("change", () => {
      if (picker.value) pickOrganization(picker.value);
    });
    place = h("div", { class: "picker" }, h("label", { for: picker.id }, "Organization"), picker);
  } else {
    const o = ctx.organization;
    place = h(
      "p",
      { class: "organization-name" },
      o.name,
      inTrial(o) ? h("span", { class: "badge trial" }, `Trial until ${dateTime(o.trialEndsAt)}`) : null,
    );
  }
  const nav = h(
    "nav",
    { class: "main-nav", "aria-label": "Screens" },
    h(
      "ul",
      {},
      SCREENS[role].map(([name, label]) =>
        h("li", {}, h("a", { href: `#/${name}`, dataset: { screen: name } }, label)),
      ),
    ),
  );
  clear(
    header,
    h("div", { class: "brand" }, h("h1", {}, "Seatkeeper"), place),
    h("div", { class: "session" }, who, h("button", { type: "button", onclick: signOut }, "Sign out")),
    nav,
  );
}

async function reloadOrganizations() {
  ctx.organizations = (await gql("ConsoleOrganizations")).organizations;
  if (ctx.viewer) renderHeader();
}

function pickOrganization(id) {
  ctx.organizationId = id;
  renderHeader();
  if (location.hash === "#/organization") route();
  else location.hash = "#/organization";
}

// ---------------------------------------------------------------------- routing
function route() {
  if (!ctx.viewer) return;
  const role = ctx.viewer.role;
  const names = SCREENS[role].map(([name]) => name);
  let name = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  if (!names.includes(name)) {
    if (location.hash && !location.hash.startsWith("#/")) return; // an in-page link such as #main
    name = names[0];
  }
  for (const link of header.querySelectorAll(".main-nav a")) {
    if (link.dataset.screen === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clear(notice);
  let screen;
  switch (name) {
    case "users":
      screen = usersScreen(ctx);
      break;
    case "import":
      screen = importScreen(ctx);
      break;
    case "settings":
      screen = settingsScreen(ctx);
      break;
    case "sync-log":
      screen = syncLogScreen(ctx);
      break;
    case "audit-log":
      screen = auditLogScreen(ctx);
      break;
    case "tokens":
      screen = h("div", { class: "screen narrow" }, tokensPanel(ctx, ctx.organization.id));
      break;
    case "organizations":
      screen = organizationsScreen(ctx);
      break;
    case "organization":
      screen = ctx.organizationId
        ? organizationScreen(ctx, ctx.organizationId)
        : h("section", { class: "screen" }, h("h2", {}, "Organization"), h("p", {}, "Choose an organization in the picker above, or open one from the list of organizations."));
      break;
  }
  clear(main, screen);
  document.title = `${SCREENS[role].find(([n]) => n === name)[1]} · Seatkeeper`;
}

window.addEventListener("hashchange", route);
window.addEventListener("seatkeeper:unauthenticated", () => {
  token.clear();
  showSignIn("Your session has ended (the token is no longer valid). Sign in again.");
});

start();
