"""SPEC 7: deciding an import: each row matched to its stored user, and the change set.

Pure work on the parsed rows (`csv_parsing`) and the stored users the rows may name (`Known`,
read by `licenses_csv`): no I/O, so that planning runs in slices beside other requests
(`plan_steps`). A row finds its user by Id, else by Email, else creates one; REPLACE releases the
seats of users absent from the file; seats are checked on the final count per type (the rules
are stated in `licenses_csv`'s docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from seatkeeper.domain.records import (
    SEAT_TYPES,
    AuditEntry,
    AuditReason,
    LicenseState,
    LicenseType,
    MobileUser,
    new_id,
)
from seatkeeper.rules import csv_ids, decisions
from seatkeeper.rules.csv_parsing import Cell, ParsedFile, Row
from seatkeeper.rules.csv_report import (
    ERROR,
    WARNING,
    ImportMode,
    ImportProblem,
    ImportSummary,
    ProblemCode,
)
from seatkeeper.storage.protocol import SelectorChange
from seatkeeper.storage.slices import Steps

# Rows between two steps of `plan_steps`.
_STEP_ROWS = 256

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED


@dataclass
class Known:
    """The stored users an import needs: by key, by e-mail key, and (REPLACE) every seat holder."""

    by_key: dict[str, MobileUser]
    by_email: dict[str, MobileUser]
    holders: list[MobileUser] | None


def _selectors_after(
    before: tuple[LicenseState, LicenseState], standard: Cell | None, inspections: Cell | None
) -> tuple[LicenseState, LicenseState]:
    """SPEC 7, Values: Assigned -> ASSIGNED; empty -> an ASSIGNED selector becomes UNASSIGNED, the
    others stay (DISABLED stays DISABLED); Disabled -> DISABLED. Both Assigned: INSPECTIONS, which
    includes STANDARD; the STANDARD selector is then left UNASSIGNED (it was asked for, not blocked)."""

    def target(current: LicenseState, cell: Cell | None) -> LicenseState:
        if cell is Cell.ASSIGN:
            return A
        if cell is Cell.DISABLE:
            return D
        return U if current is A else current

    both = standard is Cell.ASSIGN and inspections is Cell.ASSIGN
    return (U if both else target(before[0], standard), target(before[1], inspections))


@dataclass
class Plan:
    problems: list[ImportProblem]
    summary: ImportSummary
    creates: list[MobileUser] = field(default_factory=list)
    changes: list[SelectorChange] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    gained: dict[LicenseType, int] = field(default_factory=lambda: {t: 0 for t in SEAT_TYPES})

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


class _Planner:
    """Turns the rows and the stored users into the change set of SPEC 7 (no I/O)."""

    def __init__(
        self, organization_id: str, actor: str, now: datetime, summary: ImportSummary
    ) -> None:
        self.organization_id = organization_id
        self.actor = actor
        self.now = now
        self.operation_id = new_id()
        self.plan = Plan([], summary)

    def change(self, user: MobileUser, after: tuple[LicenseState, LicenseState]) -> None:
        """Change a stored user's selectors, expecting them as read (compare-and-set)."""
        self.plan.changes.append(
            SelectorChange(
                user_key=user.key,
                expected=user.selectors,
                standard=after[0],
                inspections=after[1],
                assigned_at=decisions.assigned_at_after(user, after, self.now),
            )
        )
        self._account(user.id, user.selectors, after)

    def create(self, row: Row) -> None:
        after = _selectors_after((U, U), row.standard, row.inspections)
        user = MobileUser(
            organization_id=self.organization_id,
            id=row.user_id,
            full_name=row.full_name,
            email=row.email,
            created_at=self.now,
            standard=after[0],
            inspections=after[1],
            assigned_at=self.now if decisions.held_by(after) else None,
        )
        self.plan.creates.append(user)
        self.plan.summary.created += 1
        self._account(user.id, (U, U), after)

    def _account(
        self,
        user_id: str,
        before: tuple[LicenseState, LicenseState],
        after: tuple[LicenseState, LicenseState],
    ) -> None:
        """Summary counters, seats gained per type and the audit entries of one user's change."""
        summary = self.plan.summary
        for license_type, old, new in zip(SEAT_TYPES, before, after):
            if old is new:
                continue
            summary.assigned += new is A
            summary.unassigned += old is A
            summary.disabled += new is D
            self.plan.audit.append(
                AuditEntry(
                    organization_id=self.organization_id,
                    at=self.now,
                    user_id=user_id,
                    license_type=license_type,
                    from_state=old,
                    to_state=new,
                    actor=self.actor,
                    reason=AuditReason.IMPORT,  # a seat released by a switch too: the import did it
                    operation_id=self.operation_id,
                )
            )
        held_before, held_after = decisions.held_by(before), decisions.held_by(after)
        if held_before is not held_after:
            if held_before is not None:
                self.plan.gained[held_before] -= 1
            if held_after is not None:
                self.plan.gained[held_after] += 1

    def problem(self, line: int | None, code: str, message: str, severity: str = ERROR) -> None:
        self.plan.problems.append(ImportProblem(line, code, message, severity))


def plan_steps(
    parsed: ParsedFile,
    known: Known,
    mode: ImportMode,
    organization_id: str,
    actor: str,
    now: datetime,
) -> Steps[Plan]:
    """SPEC 7: match every row to its user (Id, else Email, else create) and decide the changes,
    as steps a few hundred rows long (`seatkeeper.storage.slices`)."""
    planner = _Planner(organization_id, actor, now, ImportSummary(rows=parsed.data_rows))
    matched: dict[str, int] = {}  # user key -> the line that named it
    for count, row in enumerate(parsed.rows):
        if count % _STEP_ROWS == 0:
            yield
        if row.duplicate:
            continue  # reported when read; matched to nobody
        email_key = row.email_key
        user = known.by_key.get(row.key) if row.key else None
        if user is not None:
            owner = (
                known.by_email.get(email_key) if email_key and email_key != user.email_key else None
            )
            if owner is not None and owner.key != user.key:
                planner.problem(
                    row.line,
                    ProblemCode.ID_EMAIL_CONFLICT,
                    f"the Id {row.user_id[:80]!r} is one user's and the Email {row.email[:80]!r} another's "
                    f"(Id {owner.id[:80]!r}){csv_ids.conflict_hint(owner.id, row.user_id)}",
                )
                continue
        elif email_key:
            user = known.by_email.get(email_key)
            if user is not None and row.user_id:
                # An unknown Id on a known user's row: a spreadsheet may have re-formatted it.
                cause = csv_ids.reformat_cause(user.id, row.user_id)
                if cause is not None:
                    message = csv_ids.reformatted_message(user.id, row.user_id, cause)
                    planner.problem(row.line, ProblemCode.ID_REFORMATTED, message, WARNING)
        if user is not None:
            if user.key in matched:
                planner.problem(
                    row.line,
                    ProblemCode.DUPLICATE_ID,
                    f"the row names the user {user.id[:80]!r}, already named on line {matched[user.key]}",
                )
                continue
            matched[user.key] = row.line
            if not row.ok:
                continue
            after = _selectors_after(user.selectors, row.standard, row.inspections)
            if after == user.selectors:
                planner.plan.summary.unchanged += 1
            else:
                planner.change(user, after)
            continue
        # No stored user: the row creates one (how licenses move between environments).
        if not row.user_id and not row.email:
            continue  # reported when read
        missing = [
            name
            for name, value in (
                ("Id", row.user_id),
                ("Email", row.email),
                ("Full Name", row.full_name),
            )
            if not value
        ]
        if missing:
            planner.problem(
                row.line,
                ProblemCode.MISSING_FIELD,
                f"no user has this Id or Email, and a new user needs Id, Email and Full Name: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty",
            )
            continue
        if problem := decisions.name_problem(row.full_name, required=True):
            planner.problem(row.line, ProblemCode.BAD_VALUE, f"Full Name: {problem}")
            continue
        if row.ok:
            if warning := csv_ids.new_id_problem(row.user_id):
                planner.problem(row.line, ProblemCode.ID_REFORMATTED, warning, WARNING)
            planner.create(row)
    if mode is ImportMode.REPLACE and known.holders is not None:
        # A restore: the seats of users absent from the file are released; DISABLED stays.
        for count, user in enumerate(known.holders):
            if count % _STEP_ROWS == 0:
                yield
            if user.key not in matched:
                standard, inspections = user.selectors
                released = (
                    U if standard is A else standard,
                    U if inspections is A else inspections,
                )
                planner.change(user, released)
    return planner.plan


def seat_problems(
    plan: Plan, holders_now: dict[LicenseType, int], limits: dict[LicenseType, int]
) -> list[ImportProblem]:
    """SPEC 7: the final count per seat type against capacity. An error only when the final count
    exceeds capacity and is above today's count: an import never worsens an over-allocation, and
    is never refused for one it does not worsen."""
    problems = []
    for license_type in SEAT_TYPES:
        gained = plan.gained[license_type]
        final = holders_now[license_type] + gained
        if gained > 0 and final > limits[license_type]:
            problems.append(
                not_enough_seats(
                    license_type, final, limits[license_type], holders_now[license_type]
                )
            )
    return problems


def not_enough_seats(
    license_type: LicenseType, final: int, limit: int, now_held: int
) -> ImportProblem:
    """The problem of a seat type the import would over-allocate (also when a sync took a seat
    between planning and applying)."""
    name = license_type.value.title()
    return ImportProblem(
        None,
        ProblemCode.NOT_ENOUGH_SEATS,
        f"not enough {name} seats: after the import {final} user{'' if final == 1 else 's'} would hold one, the subscriptions valid now "
        f"have {limit} ({max(0, limit - now_held)} free, {final - max(limit, now_held)} more needed)",
    )
