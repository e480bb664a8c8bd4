"""Input checks and error builders of SPEC 3's bulk operations (setLicenseState, createUsers,
deleteUsers): every problem is reported, with the field path of the offending entry."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser, user_key
from seatkeeper.rules import decisions
from seatkeeper.rules.fields import FieldPath, InputField
from seatkeeper.rules.outcomes import ErrorCode, UserError
from seatkeeper.storage.protocol import AlreadyExists, SeatShortage

MAX_BULK_USERS = 100_000  # one setLicenseState / createUsers / deleteUsers request
#: SPEC 3: lists of problems hold at most this many entries, then one entry giving the total.
MAX_LISTED_PROBLEMS = 1_000


@dataclass(frozen=True)
class NewUser:
    """A user to pre-provision (SPEC 3) with chosen selector states."""

    id: str
    full_name: str
    email: str
    standard: LicenseState = LicenseState.UNASSIGNED
    inspections: LicenseState = LicenseState.UNASSIGNED


def capped(problems: list[UserError], field: FieldPath) -> list[UserError]:
    """At most MAX_LISTED_PROBLEMS entries, then one giving the total and the counts by code
    (SPEC 3: a bulk request's answer stays small however many of its entries are wrong)."""
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return problems
    counts = Counter(problem.code for problem in problems)
    by_code = ", ".join(f"{count:,} {code}" for code, count in sorted(counts.items()))
    code = next(iter(counts)) if len(counts) == 1 else ErrorCode.INVALID_INPUT
    message = (
        f"{len(problems):,} problems in all ({by_code}); "
        f"the first {MAX_LISTED_PROBLEMS:,} are listed"
    )
    return [*problems[:MAX_LISTED_PROBLEMS], UserError(code, message, field)]


def bulk_problems(user_ids: list[str], field: FieldPath) -> list[UserError]:
    if not user_ids:
        return [UserError(ErrorCode.INVALID_INPUT, "the list of user ids is empty", field)]
    if len(user_ids) > MAX_BULK_USERS:
        return [
            UserError(ErrorCode.INVALID_INPUT, f"at most {MAX_BULK_USERS} users per request", field)
        ]
    problems = [
        UserError(ErrorCode.INVALID_INPUT, problem, (*field, index))
        for index, user_id in enumerate(user_ids)
        if (problem := decisions.user_id_problem(user_id))
    ]
    return capped(problems, field)


def missing_users(
    user_ids: list[str], users: dict[str, MobileUser], field: FieldPath
) -> list[UserError]:
    """SPEC 3: USER_NOT_FOUND for each unknown id, at most MAX_LISTED_PROBLEMS of them, then one
    entry giving the total (100,000 unknown ids answered 12 MB of errors: issue 9)."""
    listed: list[UserError] = []
    total = 0
    for index, user_id in enumerate(user_ids):
        if user_key(user_id) in users:
            continue
        total += 1
        if total <= MAX_LISTED_PROBLEMS:
            listed.append(
                UserError(
                    ErrorCode.USER_NOT_FOUND, f"no user {user_id!r}", (*field, index), user_id
                )
            )
    if total > MAX_LISTED_PROBLEMS:
        message = f"{total:,} user ids name no user (the first {MAX_LISTED_PROBLEMS:,} are listed)"
        listed.append(UserError(ErrorCode.USER_NOT_FOUND, message, field))
    return listed


def shortage_error(
    shortage: SeatShortage, needed: int, limits: dict[LicenseType, int], field: FieldPath
) -> UserError:
    free = max(0, limits.get(shortage.license_type, 0) - shortage.holders)
    return UserError(
        ErrorCode.NOT_ENOUGH_SEATS,
        f"not enough {shortage.license_type.value} seats: {needed} needed, {free} free",
        field,
    )


def new_user_problems(new_users: list[NewUser]) -> list[UserError]:
    if not new_users:
        return [
            UserError(ErrorCode.INVALID_INPUT, "the list of users is empty", (InputField.USERS,))
        ]
    if len(new_users) > MAX_BULK_USERS:
        return [
            UserError(
                ErrorCode.INVALID_INPUT,
                f"at most {MAX_BULK_USERS} users per request",
                (InputField.USERS,),
            )
        ]
    problems = []
    seen_keys: set[str] = set()
    seen_emails: set[str] = set()
    for index, new_user in enumerate(new_users):
        where = (InputField.USERS, index)
        for field_name, problem in (
            (InputField.ID, decisions.user_id_problem(new_user.id)),
            (InputField.FULL_NAME, decisions.name_problem(new_user.full_name, required=True)),
            (InputField.EMAIL, decisions.email_problem(new_user.email)),
        ):
            if problem:
                problems.append(
                    UserError(ErrorCode.INVALID_INPUT, problem, (*where, field_name), new_user.id)
                )
        if (
            new_user.standard is LicenseState.ASSIGNED
            and new_user.inspections is LicenseState.ASSIGNED
        ):
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "a user holds at most one license type",
                    (*where, InputField.INSPECTIONS),
                    new_user.id,
                )
            )
        if isinstance(new_user.id, str):
            key = user_key(new_user.id)
            if key in seen_keys:
                problems.append(
                    UserError(
                        ErrorCode.USER_EXISTS,
                        "this id appears twice in the list",
                        (*where, InputField.ID),
                        new_user.id,
                    )
                )
            seen_keys.add(key)
        if isinstance(new_user.email, str):
            email_key = new_user.email.casefold()
            if email_key in seen_emails:
                problems.append(
                    UserError(
                        ErrorCode.EMAIL_TAKEN,
                        "this email appears twice in the list",
                        (*where, InputField.EMAIL),
                        new_user.id,
                    )
                )
            seen_emails.add(email_key)
    return capped(problems, (InputField.USERS,))


def exists_errors(result: AlreadyExists, new_users: list[NewUser]) -> list[UserError]:
    errors = []
    taken_keys, taken_emails = set(result.user_keys), set(result.emails)
    for index, new_user in enumerate(new_users):
        if user_key(new_user.id) in taken_keys:
            errors.append(
                UserError(
                    ErrorCode.USER_EXISTS,
                    f"a user {new_user.id!r} exists",
                    (InputField.USERS, index, InputField.ID),
                    new_user.id,
                )
            )
        if new_user.email.casefold() in taken_emails:
            errors.append(
                UserError(
                    ErrorCode.EMAIL_TAKEN,
                    "this email belongs to another user",
                    (InputField.USERS, index, InputField.EMAIL),
                    new_user.id,
                )
            )
    return capped(errors, (InputField.USERS,))
