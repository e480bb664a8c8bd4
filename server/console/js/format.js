// How values read on screen: dates in UTC, enums in words, numbers with separators.

export const LICENSE_TYPES = ["STANDARD", "INSPECTIONS", "EXTERNAL"];
export const SEAT_TYPES = ["STANDARD", "INSPECTIONS"];
export const TYPE_NAMES = { STANDARD: "Standard", INSPECTIONS: "Inspections", EXTERNAL: "External" };
export const STATE_NAMES = { ASSIGNED: "Assigned", UNASSIGNED: "Unassigned", DISABLED: "Disabled" };
export const FIELD_OF_TYPE = { STANDARD: "standard", INSPECTIONS: "inspections" };

/** "2025-01-06 09:00 UTC", or a dash for a missing time. */
export function dateTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "2025-01-06", or a dash. */
export function day(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(0, 10);
}

export function count(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

/** True while the organization's trial runs (SPEC 3: now < trialEndsAt). */
export function inTrial(organization) {
  return Boolean(organization?.trialEndsAt) && new Date(organization.trialEndsAt) > new Date();
}

/** A list of user errors as one sentence each. */
export function describeErrors(userErrors) {
  const shown = userErrors.slice(0, 5).map((error) => error.message);
  if (userErrors.length > 5) shown.push(`… and ${userErrors.length - 5} more.`);
  return shown.join(" ");
}
