// The three-position license selector of the product page, as a labelled radio group:
// left (red) Disabled, centre (grey) Unassigned, right (green) Assigned. The state is also
// written out beside it, so colour is never the only signal; arrow keys move it like any radio group.

import { h, uid } from "./dom.js";
import { STATE_NAMES } from "./format.js";

const POSITIONS = ["DISABLED", "UNASSIGNED", "ASSIGNED"];

/**
 * label: the group's accessible name ("Standard license of Matt Ford");
 * value: the current state, or null when the users it stands for differ ("Mixed");
 * disabled: read-only; onChange(state): called when the user moves it (a promise: the group is
 * disabled until it settles).
 */
export function licenseSelector({ label, value, disabled = false, onChange, emptyText = "Mixed" }) {
  const name = uid("selector");
  const group = h("div", {
    class: "selector",
    role: "radiogroup",
    "aria-label": label,
    "aria-disabled": disabled ? "true" : null,
    dataset: { state: value ?? "MIXED" },
  });
  const track = h("span", { class: "selector-track" });
  const inputs = [];
  for (const state of POSITIONS) {
    const id = uid("position");
    const input = h("input", {
      type: "radio",
      class: "visually-hidden",
      name,
      id,
      value: state,
      checked: state === value,
      disabled,
    });
    input.addEventListener("change", async () => {
      if (!input.checked || !onChange) return;
      inputs.forEach((other) => (other.disabled = true));
      try {
        await onChange(state);
      } finally {
        inputs.forEach((other) => (other.disabled = disabled));
      }
    });
    inputs.push(input);
    track.append(
      input,
      h(
        "label",
        { for: id, class: `position position-${state.toLowerCase()}`, title: STATE_NAMES[state] },
        h("span", { class: "visually-hidden" }, STATE_NAMES[state]),
      ),
    );
  }
  group.append(track, h("span", { class: "selector-text" }, value ? STATE_NAMES[value] : emptyText));
  return group;
}
