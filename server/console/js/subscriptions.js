// The Subscriptions pane (SPEC 6): per license type what was bought, what is taken and what is
// free, and each subscription with its dates and status.

import { h } from "./dom.js";
import { TYPE_NAMES, count, day } from "./format.js";

/** One card per license type; `extra(type)` may add controls (the bulk selector) to a card. */
export function subscriptionCards(rows, extra = () => null) {
  return rows.map((row) => {
    const seatRows = row.licenseType === "EXTERNAL"
      ? [["Per organization", row.active ? "covered" : "not covered"], ["Pending", count(row.pending)]]
      : [
          ["Seats", count(row.seats)],
          ["Assigned", count(row.assigned)],
          ["Available", count(row.available)],
          ["Over-allocated", count(row.overAllocated)],
          ["Pending", count(row.pending)],
        ];
    return h(
      "section",
      {
        class: `subscription-card${row.overAllocated ? " over" : ""}`,
        dataset: { type: row.licenseType },
        "aria-label": `${TYPE_NAMES[row.licenseType]} licenses`,
      },
      h(
        "h3",
        {},
        TYPE_NAMES[row.licenseType],
        " ",
        h("span", { class: `badge ${row.active ? "ok" : "muted"}` }, row.active ? "Active" : "No active subscription"),
      ),
      h(
        "dl",
        { class: "figures" },
        seatRows.map(([name, value]) =>
          h("div", { dataset: { figure: name } }, h("dt", {}, name), h("dd", {}, value)),
        ),
      ),
      row.overAllocated
        ? h("p", { class: "warning" }, `⚠ ${count(row.overAllocated)} more users hold this license than were bought: the newest of them cannot sync.`)
        : null,
      row.items.length
        ? h(
            "ul",
            { class: "items" },
            row.items.map((item) =>
              h(
                "li",
                {},
                h("span", { class: `badge status-${item.status.toLowerCase()}` }, item.status.toLowerCase()),
                " ",
                item.seats === null ? "" : `${count(item.seats)} seats, `,
                `${day(item.validFrom)} to ${day(item.validUntil)}`,
              ),
            ),
          )
        : h("p", { class: "muted" }, "No subscription."),
      extra(row.licenseType),
    );
  });
}
