// The OPERATOR's pages (SPEC 9): every organization, creating one (its first ADMIN and SYNC
// secrets shown once), and for the organization picked: its subscriptions, adding one, and its
// tokens.

import { gql } from "./api.js";
import { clear, field, h, select } from "./dom.js";
import { dateTime, day, describeErrors } from "./format.js";
import { subscriptionCards } from "./subscriptions.js";
import { secretBox, tokensPanel } from "./tokens.js";

export function organizationsScreen(ctx) {
  const listBody = h("tbody", {});
  const created = h("div", { class: "created-secret", "aria-live": "polite" });
  const nameInput = h("input", { name: "organizationName", required: true, maxlength: 200, autocomplete: "off" });
  const trialInput = h("input", { name: "trialDays", type: "number", min: 0, max: 365, value: 0, required: true });
  const form = h(
    "form",
    { class: "grid-form", method: "post", "aria-label": "Create an organization" },
    field("Name", nameInput),
    field("Trial days", trialInput, "0: no trial."),
    h("div", { class: "field button-field" }, h("button", { type: "submit", class: "primary" }, "Create organization")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await gql("ConsoleCreateOrganization", {
        input: { name: nameInput.value.trim(), trialDays: Number(trialInput.value) },
      });
      const payload = data.createOrganization;
      if (payload.userErrors.length) {
        ctx.notify("error", `The organization was not created: ${describeErrors(payload.userErrors)}`);
        return;
      }
      clear(
        created,
        h("p", { class: "warning" }, `⚠ ${payload.organization.name} was created. Copy its secrets now: they are shown only once.`),
        secretBox("ADMIN token", payload.adminToken),
        secretBox("SYNC token", payload.syncToken),
      );
      form.reset();
      await ctx.reloadOrganizations();
      await load();
    } catch (error) {
      ctx.notify("error", `The organization was not created: ${error.message}`);
    }
  });

  async function load() {
    try {
      const data = await gql("ConsoleOrganizations");
      clear(
        listBody,
        data.organizations.map((o) =>
          h(
            "tr",
            { dataset: { organization: o.id } },
            h("td", {}, o.name),
            h("td", {}, h("code", {}, o.id)),
            h("td", {}, day(o.createdAt)),
            h("td", {}, o.trialEndsAt ? dateTime(o.trialEndsAt) : "No trial"),
            h(
              "td",
              {},
              h("button", { type: "button", "aria-label": `Open ${o.name}`, onclick: () => ctx.pickOrganization(o.id) }, "Open"),
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
    { class: "screen" },
    h("h2", { id: "organizations-title" }, "Organizations"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "aria-labelledby": "organizations-title" },
        h("thead", {}, h("tr", {}, ["Name", "Id", "Created", "Trial", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        listBody,
      ),
    ),
    h("h2", {}, "New organization"),
    form,
    created,
  );
}

export function organizationScreen(ctx, organizationId) {
  const cards = h("div", { class: "cards wide" }, h("p", {}, "Loading subscriptions…"));
  const heading = h("h2", {}, "Organization");
  const details = h("p", { class: "muted" });
  const typeSelect = select([["STANDARD", "Standard"], ["INSPECTIONS", "Inspections"], ["EXTERNAL", "External"]], { name: "licenseType", value: "STANDARD" });
  const seatsInput = h("input", { name: "seats", type: "number", min: 1, value: 10 });
  const fromInput = h("input", { name: "validFrom", type: "date" });
  const untilInput = h("input", { name: "validUntil", type: "date", required: true });
  typeSelect.addEventListener("change", () => {
    seatsInput.disabled = typeSelect.value === "EXTERNAL"; // per organization: no seat count
  });
  const form = h(
    "form",
    { class: "grid-form", method: "post", "aria-label": "Add a subscription" },
    field("License", typeSelect),
    field("Seats", seatsInput),
    field("Valid from", fromInput, "Empty: now."),
    field("Valid until", untilInput),
    h("div", { class: "field button-field" }, h("button", { type: "submit", class: "primary" }, "Add subscription")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = {
      organizationId,
      licenseType: typeSelect.value,
      seats: typeSelect.value === "EXTERNAL" ? null : Number(seatsInput.value),
      validFrom: fromInput.value ? `${fromInput.value}T00:00:00Z` : null,
      validUntil: `${untilInput.value}T00:00:00Z`,
    };
    try {
      const data = await gql("ConsoleAddSubscription", { input });
      const payload = data.addSubscription;
      if (payload.userErrors.length) {
        ctx.notify("error", `The subscription was not added: ${describeErrors(payload.userErrors)}`);
        return;
      }
      ctx.notify("ok", "Subscription added.");
      await load();
    } catch (error) {
      ctx.notify("error", `The subscription was not added: ${error.message}`);
    }
  });

  async function load() {
    try {
      const [organization, subscriptions] = await Promise.all([
        gql("ConsoleOrganization", { organizationId }),
        gql("ConsoleSubscriptions", { organizationId }),
      ]);
      const o = organization.organization;
      if (!o) {
        clear(cards, h("p", { class: "error" }, "No such organization."));
        return;
      }
      heading.textContent = o.name;
      details.textContent = `Id ${o.id} · created ${day(o.createdAt)} · ${o.trialEndsAt ? `trial until ${dateTime(o.trialEndsAt)}` : "no trial"}`;
      clear(cards, subscriptionCards(subscriptions.subscriptions));
    } catch (error) {
      clear(cards, h("p", { class: "error" }, error.message));
    }
  }
  load();

  return h(
    "section",
    { class: "screen" },
    heading,
    details,
    h("h2", {}, "Subscriptions"),
    cards,
    h("h3", {}, "Add a subscription"),
    form,
    tokensPanel(ctx, organizationId),
  );
}
