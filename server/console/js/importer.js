// Import licenses (SPEC 7): pick a file, choose merge or replace, check it with a dry run that
// lists every problem with its line and what would change, then apply it.

import { gql } from "./api.js";
import { clear, h, uid } from "./dom.js";
import { count, dateTime, describeErrors, inTrial } from "./format.js";

/** Read a file as spreadsheets write it: UTF-16 when it starts with a UTF-16 BOM, else UTF-8.
 * Bytes that are not UTF-8 become U+FFFD, which the server refuses whole with NOT_UTF8. */
export async function readCsvFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let encoding = "utf-8";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = "utf-16le";
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = "utf-16be";
  return new TextDecoder(encoding).decode(bytes);
}

export function importScreen(ctx) {
  const trial = inTrial(ctx.organization);
  const locked = ctx.readOnly || trial;
  const fileInput = h("input", { type: "file", id: uid("file"), accept: ".csv,text/csv,text/plain", disabled: locked });
  const modeName = uid("mode");
  const mode = (value, label, hint) => {
    const id = uid("mode");
    return h(
      "div",
      { class: "field check" },
      h("input", { type: "radio", name: modeName, id, value, checked: value === "MERGE", disabled: locked }),
      h("label", { for: id }, label),
      h("small", { class: "hint" }, hint),
    );
  };
  const dryRunButton = h("button", { type: "submit", class: "primary", disabled: locked }, "Check file (dry run)");
  const applyButton = h("button", { type: "button", disabled: true, onclick: () => run(false) }, "Apply");
  const result = h("section", { class: "import-result", "aria-live": "polite", "aria-label": "Import result" });
  const form = h(
    "form",
    { class: "import-form", method: "post" },
    h("div", { class: "field" }, h("label", { for: fileInput.id }, "Licenses file (CSV)"), fileInput),
    h(
      "fieldset",
      {},
      h("legend", {}, "Mode"),
      mode("MERGE", "Merge", "Users missing from the file keep their licenses."),
      mode("REPLACE", "Replace", "Users missing from the file lose their seats (a restore)."),
    ),
    h("div", { class: "buttons" }, dryRunButton, applyButton),
  );
  let checked = null; // { csv, mode } of the last clean dry run: what Apply sends

  const invalidate = () => {
    checked = null;
    applyButton.disabled = true;
  };
  fileInput.addEventListener("change", invalidate);
  form.addEventListener("change", invalidate);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(true);
  });

  async function run(dryRun) {
    const file = fileInput.files[0];
    if (dryRun && !file) {
      clear(result, h("p", { class: "error", role: "alert" }, "Choose a file first."));
      return;
    }
    const modeValue = form.querySelector(`input[name="${modeName}"]:checked`).value;
    const csv = dryRun ? await readCsvFile(file) : checked.csv;
    dryRunButton.disabled = true;
    applyButton.disabled = true;
    clear(result, h("p", {}, dryRun ? "Checking…" : "Applying…"));
    try {
      const data = await gql("ConsoleImportLicenses", {
        input: { csv, mode: dryRun ? modeValue : checked.mode, dryRun },
      });
      const report = data.importLicenses;
      renderReport(report, dryRun, file?.name ?? "the file");
      const errors = report.problems.filter((p) => p.severity === "ERROR").length + report.userErrors.length;
      if (dryRun && errors === 0) {
        checked = { csv, mode: modeValue };
        applyButton.disabled = false;
      } else {
        checked = null;
      }
      if (!dryRun && report.applied) ctx.notify("ok", "The licenses file was applied.");
    } catch (error) {
      clear(result, h("p", { class: "error", role: "alert" }, `The file could not be checked: ${error.message}`));
    } finally {
      dryRunButton.disabled = locked;
    }
  }

  function renderReport(report, dryRun, name) {
    const s = report.summary;
    const problems = report.problems;
    const errors = problems.filter((p) => p.severity === "ERROR");
    const headline = report.applied
      ? `Applied ${name}.`
      : errors.length || report.userErrors.length
        ? `${name} has ${count(errors.length || report.userErrors.length)} error(s): nothing was changed.`
        : dryRun
          ? `${name} is ready to apply. Nothing has changed yet.`
          : "Nothing was applied.";
    const verb = report.applied ? "" : "would be ";
    clear(
      result,
      h("h3", { class: report.applied || (!errors.length && !report.userErrors.length) ? "ok-text" : "error-text" }, headline),
      report.userErrors.length && !problems.length
        ? h("p", { class: "error", role: "alert" }, describeErrors(report.userErrors))
        : null,
      h(
        "dl",
        { class: "figures summary" },
        [
          ["Rows read", s.rows],
          [`Seats ${verb}assigned`, s.assigned],
          [`Seats ${verb}released`, s.unassigned],
          [`Selectors ${verb}disabled`, s.disabled],
          [`Users ${verb}created`, s.created],
          ["Rows changing nothing", s.unchanged],
        ].map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, count(value)))),
      ),
      report.problemTotal > problems.length
        ? h(
            "p",
            { class: "warning", id: "problem-total" },
            `The file has ${count(report.problemTotal)} problems; the first ${count(problems.length)} are listed. By code: `,
            report.problemCounts.map((c) => `${c.code} ${count(c.count)}`).join(", "),
            ".",
          )
        : null,
      problems.length
        ? h(
            "table",
            { class: "problems" },
            h("caption", {}, `${count(problems.length)} problem(s), in line order`),
            h("thead", {}, h("tr", {}, ["Line", "Severity", "Code", "Message"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              problems.map((p) =>
                h(
                  "tr",
                  { class: p.severity === "ERROR" ? "problem-error" : "problem-warning" },
                  h("td", {}, p.line === null ? "whole file" : String(p.line)),
                  h("td", {}, p.severity === "ERROR" ? "✕ Error" : "⚠ Warning"),
                  h("td", {}, p.code),
                  h("td", {}, p.message),
                ),
              ),
            ),
          )
        : h("p", {}, "No problem found."),
    );
  }

  return h(
    "section",
    { class: "screen narrow", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import licenses"),
    h(
      "p",
      {},
      "The file has the columns Id, Full Name, Email, Standard and Inspections, as Export writes them. ",
      "Rows find their user by Id, else by e-mail; a row matching nobody creates the user. ",
      "Check the file first: nothing changes until you apply it, and the whole file is applied or nothing.",
    ),
    trial
      ? h("p", { class: "trial-note", role: "note" }, `Import is not available during the trial (it ends on ${dateTime(ctx.organization.trialEndsAt)}).`)
      : ctx.readOnly
        ? h("p", { class: "note", role: "note" }, "Your token is read-only: it cannot import.")
        : null,
    form,
    result,
    h("p", {}, h("a", { href: "#/users" }, "Back to the mobile users")),
  );
}
