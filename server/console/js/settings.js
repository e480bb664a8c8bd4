// Settings (SPEC 3) and projects: automatic assignment, freeing up unused licenses, the day
// counts, and each project with its kind.

import { gql } from "./api.js";
import { checkField, clear, field, h, select } from "./dom.js";
import { TYPE_NAMES, describeErrors } from "./format.js";

const KINDS = [["STANDARD", "Standard (Inspections disabled)"], ["INSPECTIONS", "Inspections"], ["EXTERNAL", "External"]];

export function settingsScreen(ctx) {
  const settings = ctx.organization.settings;
  const locked = ctx.readOnly;
  const autoAssign = h("input", { type: "checkbox", name: "autoAssignLicenses", checked: settings.autoAssignLicenses, disabled: locked });
  const autoFreeUp = h("input", { type: "checkbox", name: "autoFreeUpLicenses", checked: settings.autoFreeUpLicenses, disabled: locked });
  const inactivityDays = h("input", { type: "number", name: "inactivityDays", min: 1, max: 3650, required: true, value: settings.inactivityDays, disabled: locked });
  const gracePeriodDays = h("input", { type: "number", name: "gracePeriodDays", min: 0, max: 365, required: true, value: settings.gracePeriodDays, disabled: locked });
  const settingsForm = h(
    "form",
    { class: "settings-form", method: "post", "aria-labelledby": "settings-title" },
    checkField("Assign licenses automatically", autoAssign, "A user who syncs gets a free license of the type its project needs."),
    checkField("Free up unused licenses", autoFreeUp, "When none is free, take the seat of the user inactive the longest."),
    field("Inactive after (days)", inactivityDays, "1 to 3650."),
    field("Temporary license (days)", gracePeriodDays, "0 to 365: how long a user without a license may sync when automatic assignment is off."),
    locked ? null : h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save settings")),
  );
  settingsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = {
      autoAssignLicenses: autoAssign.checked,
      autoFreeUpLicenses: autoFreeUp.checked,
      inactivityDays: Number(inactivityDays.value),
      gracePeriodDays: Number(gracePeriodDays.value),
    };
    try {
      const data = await gql("ConsoleUpdateSettings", { input });
      const errors = data.updateSettings.userErrors;
      if (errors.length) {
        ctx.notify("error", `The settings were not saved: ${describeErrors(errors)}`);
        return;
      }
      ctx.organization.settings = data.updateSettings.settings;
      ctx.notify("ok", "Settings saved.");
    } catch (error) {
      ctx.notify("error", `The settings were not saved: ${error.message}`);
    }
  });

  const projectsBody = h("tbody", {});
  const projectId = h("input", { name: "projectId", required: true, maxlength: 128, autocomplete: "off" });
  const projectName = h("input", { name: "projectName", required: true, maxlength: 256, autocomplete: "off" });
  const projectKind = select(KINDS, { name: "projectKind", value: "STANDARD" });
  const projectForm = h(
    "form",
    { class: "grid-form", method: "post", "aria-label": "Add or change a project" },
    field("Project id", projectId),
    field("Name", projectName),
    field("Kind", projectKind),
    h("div", { class: "field button-field" }, h("button", { type: "submit", class: "primary" }, "Save project")),
  );
  projectForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = { id: projectId.value.trim(), name: projectName.value.trim(), kind: projectKind.value };
    try {
      const data = await gql("ConsoleUpsertProject", { input });
      const errors = data.upsertProject.userErrors;
      if (errors.length) {
        ctx.notify("error", `The project was not saved: ${describeErrors(errors)}`);
        return;
      }
      const saved = data.upsertProject.project;
      const projects = ctx.organization.projects.filter((p) => p.id !== saved.id);
      ctx.organization.projects = [...projects, saved].sort((a, b) => a.id.localeCompare(b.id));
      renderProjects();
      projectForm.reset();
      ctx.notify("ok", `Project ${saved.name} saved.`);
    } catch (error) {
      ctx.notify("error", `The project was not saved: ${error.message}`);
    }
  });

  function renderProjects() {
    clear(
      projectsBody,
      ctx.organization.projects.map((project) =>
        h(
          "tr",
          { dataset: { project: project.id } },
          h("td", {}, project.id),
          h("td", {}, project.name),
          h("td", {}, TYPE_NAMES[project.kind]),
          locked
            ? null
            : h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    "aria-label": `Edit project ${project.name}`,
                    onclick: () => {
                      projectId.value = project.id;
                      projectName.value = project.name;
                      projectKind.value = project.kind;
                      projectName.focus();
                    },
                  },
                  "Edit",
                ),
              ),
        ),
      ),
    );
  }
  renderProjects();

  return h(
    "section",
    { class: "screen narrow" },
    h("h2", { id: "settings-title" }, "Settings"),
    locked ? h("p", { class: "note", role: "note" }, "Your token is read-only: the settings are shown, not changed.") : null,
    settingsForm,
    h("h2", { id: "projects-title" }, "Projects"),
    h(
      "table",
      { class: "projects", "aria-labelledby": "projects-title" },
      h("thead", {}, h("tr", {}, ["Id", "Name", "Kind", locked ? null : "Actions"].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
      projectsBody,
    ),
    locked ? null : projectForm,
  );
}
