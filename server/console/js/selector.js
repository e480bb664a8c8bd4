// The three-position license selector of the product page, as an ARIA radio group:
// left (red, ✕) Disabled, centre (grey, –) Unassigned, right (green, ✓) Assigned. The state is
// also written out beside it, so colour is never the only signal. Keyboard: Tab reaches the
// chosen position, the arrow keys (and Home/End) move the switch, Space or Enter picks the focused
// position. Plain elements rather than <input type=radio>: a page of 500 users holds 1,000
// selectors, and native radios made that page several times slower to draw.

import { h } from "./dom.js";
import { STATE_NAMES } from "./format.js";

const POSITIONS = ["DISABLED", "UNASSIGNED", "ASSIGNED"];

/**
 * label: the group's accessible name ("Standard license of Matt Ford");
 * value: the current state, or null when the users it stands for differ (`emptyText` is shown);
 * disabled: read-only; onChange(state): called when the user moves it (a promise: the group
 * takes no other change until it settles).
 */
export function licenseSelector({ label, value, disabled = false, onChange, emptyText = "Mixed" }) {
  let current = value ?? null;
  let busy = false;
  const text = h("span", { class: "selector-text" }, current ? STATE_NAMES[current] : emptyText);
  const radios = POSITIONS.map((state) =>
    h(
      "span",
      {
        role: "radio",
        class: `position position-${state.toLowerCase()}`,
        title: STATE_NAMES[state],
        "aria-label": STATE_NAMES[state],
        "aria-checked": String(state === current),
        "aria-disabled": disabled ? "true" : null,
        dataset: { value: state },
      },
    ),
  );
  const group = h(
    "div",
    {
      class: "selector",
      role: "radiogroup",
      "aria-label": label,
      "aria-disabled": disabled ? "true" : null,
      dataset: { state: current ?? "MIXED" },
    },
    h("span", { class: "selector-track" }, radios),
    text,
  );

  function show(state) {
    radios.forEach((radio) => {
      const chosen = radio.dataset.value === state;
      radio.setAttribute("aria-checked", String(chosen));
    });
    group.dataset.state = state ?? "MIXED";
    text.textContent = state ? STATE_NAMES[state] : emptyText;
    setTabStops();
  }

  function setTabStops() {
    // One tab stop per group (the chosen position, else the centre); none while read-only.
    const stop = current ?? "UNASSIGNED";
    radios.forEach((radio) => {
      radio.tabIndex = !disabled && radio.dataset.value === stop ? 0 : -1;
    });
  }

  async function choose(state) {
    if (disabled || busy || state === current || !onChange) return;
    const previous = current;
    current = state;
    show(state);
    busy = true;
    group.setAttribute("aria-busy", "true");
    try {
      const accepted = await onChange(state);
      if (accepted === false) {
        current = previous; // refused: the switch goes back
        show(previous);
      }
    } finally {
      busy = false;
      group.removeAttribute("aria-busy");
    }
  }

  group.addEventListener("click", (event) => {
    const radio = event.target.closest('[role="radio"]');
    if (radio) choose(radio.dataset.value);
  });
  group.addEventListener("keydown", (event) => {
    const radio = event.target.closest('[role="radio"]');
    if (!radio || disabled) return;
    const index = POSITIONS.indexOf(radio.dataset.value);
    let target = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") target = Math.min(2, index + 1);
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") target = Math.max(0, index - 1);
    else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = 2;
    else if (event.key === " " || event.key === "Enter") target = index;
    if (target === null) return;
    event.preventDefault();
    radios[target].focus();
    choose(POSITIONS[target]);
  });

  setTabStops();
  return group;
}
