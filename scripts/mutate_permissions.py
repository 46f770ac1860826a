#!/usr/bin/env python
"""Prove the access tests catch rule changes: break one permission rule at a time and see tests/access fail.

Usage (from anywhere):
    /work/main/.venv/bin/python scripts/mutate_permissions.py [--only NAME ...] [--markdown FILE] [--keep]

What it does:
1. copies the project (without .venv, .git, media, databases, caches) to a temporary directory;
2. checks that every mutation's pattern occurs exactly once in its file, and stops loudly if one does not
   (the rule was rewritten: update the mutation, do not let it silently test nothing);
3. runs tests/access once unmutated. Tests that already fail there (known app bugs, reported separately) are
   deselected in the mutation runs, so a mutation counts as caught only if a *passing* test starts failing;
4. for each mutation: applies it, runs ``pytest tests/access -x -q -p no:cacheprovider -n 2`` in the copy with
   the project's virtualenv, records caught (tests failed) / NOT CAUGHT (tests passed), restores the file;
5. prints a table and exits 1 if any mutation survived (2 if the script itself could not run).

DATABASE_URL and other settings variables pass through, so ``DATABASE_URL=postgres://... scripts/...`` runs
the check against PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path("/work/main/.venv/bin/python")
PYTEST_ARGS = ["-m", "pytest", "tests/access", "-x", "-q", "-p", "no:cacheprovider", "-n", "2"]
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "media",
    "staticfiles",
    "*.sqlite3",
    "*.sqlite3-journal",
    "*.db",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "node_modules",
    "*.egg-info",
)
SPACES = "spaces/permissions.py"
SPACES_SQL = "spaces/permissions_sql.py"
COMMUNITIES = "communities/permissions.py"
RUN_TIMEOUT = 1800


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    rule: str


MUTATIONS = [
    # --- Seeing and reading ---------------------------------------------------------------------------------
    Mutation(
        "see-closed-flipped",
        SPACES,
        "return space.visibility != Visibility.CLOSED or space_role(user, space) is not None",
        "return space.visibility == Visibility.CLOSED or space_role(user, space) is not None",
        "can_see_space: closed spaces exist only for role holders (`!=` flipped to `==`)",
    ),
    Mutation(
        "read-open-needs-role",
        SPACES,
        "return space.visibility == Visibility.OPEN or space_role(user, space) is not None",
        "return space_role(user, space) is not None",
        "can_read_space: open spaces are readable by anyone (OPEN dropped)",
    ),
    Mutation(
        "invisible-answers-403",
        SPACES,
        "    if not can_see_space(user, space):\n        raise Http404",
        "    if not can_see_space(user, space):\n        raise PermissionDenied",
        "get_space_for_user: an invisible space answers 404 like a missing one (404 turned into 403)",
    ),
    # --- Joining --------------------------------------------------------------------------------------------
    Mutation(
        "join-ignores-ban",
        SPACES,
        "        and space.visibility == Visibility.OPEN\n        and not space.is_archived\n"
        "        and not is_banned(user, space)\n",
        "        and space.visibility == Visibility.OPEN\n        and not space.is_archived\n",
        "can_join_space: banned people are not offered a join (`not is_banned` dropped)",
    ),
    Mutation(
        "request-ignores-ban",
        SPACES,
        "        and space.visibility == Visibility.PRIVATE\n        and not space.is_archived\n"
        "        and not is_banned(user, space)\n",
        "        and space.visibility == Visibility.PRIVATE\n        and not space.is_archived\n",
        "can_request_to_join: banned people cannot ask to join (`not is_banned` dropped)",
    ),
    Mutation(
        "request-on-open-spaces",
        SPACES,
        "        and space.visibility == Visibility.PRIVATE\n",
        "        and space.visibility != Visibility.CLOSED\n",
        "can_request_to_join: requests are only for private spaces (PRIVATE widened to not CLOSED)",
    ),
    Mutation(
        "is-banned-always-false",
        SPACES,
        "    return user.is_authenticated and not user.is_staff and space.pk in access_context(user).banned_spaces",
        "    return False",
        "is_banned: a ban is remembered (always False)",
    ),
    # --- Roles ----------------------------------------------------------------------------------------------
    Mutation(
        "moderate-at-editor",
        SPACES,
        "return has_space_role(user, space, SpaceRole.MODERATOR)",
        "return has_space_role(user, space, SpaceRole.EDITOR)",
        "can_moderate_space: needs moderator (MODERATOR changed to EDITOR)",
    ),
    Mutation(
        "administer-at-moderator",
        SPACES,
        "return has_space_role(user, space, SpaceRole.ADMIN)",
        "return has_space_role(user, space, SpaceRole.MODERATOR)",
        "can_administer_space: needs admin (ADMIN changed to MODERATOR)",
    ),
    Mutation(
        "staff-only-moderator",
        SPACES,
        "    if user.is_staff:\n        return SpaceRole.ADMIN",
        "    if user.is_staff:\n        return SpaceRole.MODERATOR",
        "space_role: site staff act as admin everywhere (ADMIN changed to MODERATOR)",
    ),
    Mutation(
        "space-role-ignores-ban",
        SPACES,
        "    if space.pk in ctx.banned_spaces:\n        return None\n",
        "",
        "space_role: a ban takes away every role (ban check removed)",
    ),
    Mutation(
        "space-role-ignores-grants",
        SPACES,
        "        ctx.grant_roles.get(space.pk, 0),\n",
        "",
        "space_role: individual guardian grants give a role (grants ignored)",
    ),
    Mutation(
        "community-moderator-as-editor",
        SPACES,
        "    CommunityRole.MODERATOR: SpaceRole.MODERATOR,",
        "    CommunityRole.MODERATOR: SpaceRole.EDITOR,",
        "COMMUNITY_ROLE_IN_SPACES: community moderators are moderators in every space (mapped to EDITOR)",
    ),
    Mutation(
        "assignable-moderator-gives-moderator",
        SPACES,
        "        return [SpaceRole.VIEWER, SpaceRole.EDITOR]\n    return []",
        "        return [SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR]\n    return []",
        "assignable_roles: moderators give viewer/editor only (MODERATOR added)",
    ),
    Mutation(
        "manage-ignores-target-role",
        SPACES,
        "return can_moderate_space(actor, space) and (target_role is None or target_role <= SpaceRole.EDITOR)",
        "return can_moderate_space(actor, space)",
        "can_manage_member: moderators manage members up to editor (target_role ignored)",
    ),
    Mutation(
        "manage-below-editor-only",
        SPACES,
        "target_role <= SpaceRole.EDITOR",
        "target_role < SpaceRole.EDITOR",
        "can_manage_member: moderators manage editors too (`<=` changed to `<`)",
    ),
    Mutation(
        "ban-staff-allowed",
        SPACES,
        "return target.pk == actor.pk or target.is_staff",
        "return target.pk == actor.pk",
        "can_ban: site staff cannot be banned (staff check removed)",
    ),
    Mutation(
        "ban-community-leaders-allowed",
        SPACES,
        "if _never_banned(actor, target) or community_role in COMMUNITY_ROLE_IN_SPACES:",
        "if _never_banned(actor, target):",
        "can_ban: community moderators/admins cannot be banned from their community's spaces (check removed)",
    ),
    # --- Query filters (lists) ------------------------------------------------------------------------------
    Mutation(
        "role-holder-q-ignores-ban",
        SPACES,
        "return held & ~_ids_q(space_ref, ctx.banned_spaces)",
        "return held",
        "_role_holder_q: banned people hold no role in lists (ban exclusion removed)",
    ),
    Mutation(
        "role-holder-q-gt",
        SPACES,
        "space_ids = {space for space, role in ctx.space_roles.items() if role >= min_role}",
        "space_ids = {space for space, role in ctx.space_roles.items() if role > min_role}",
        "_role_holder_q: membership role at least min_role (`>=` changed to `>`)",
    ),
    Mutation(
        "role-holder-q-no-community-roles",
        SPACES,
        "space_ids |= {space for space, role in ctx.grant_roles.items() if role >= min_role}\n"
        "    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]",
        "space_ids |= {space for space, role in ctx.grant_roles.items() if role >= min_role}\n    community_roles = []",
        "_role_holder_q: community moderators/admins hold roles in lists (community roles dropped)",
    ),
    Mutation(
        "item-rule-no-community-roles",
        SPACES,
        "    ctx = access_context(user)\n"
        "    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]\n"
        "    held = ",
        "    ctx = access_context(user)\n    community_roles = []\n    held = ",
        "visible_items_q: community moderators/admins see their spaces' items (community roles dropped)",
    ),
    Mutation(
        "role-holder-q-no-grants",
        SPACES,
        "space_ids |= {space for space, role in ctx.grant_roles.items() if role >= min_role}",
        "",
        "_role_holder_q: guardian grants count in lists (grants dropped)",
    ),
    Mutation(
        "listed-q-everything",
        SPACES,
        '    """Spaces that show in lists and open for the user."""\n',
        '    """Spaces that show in lists and open for the user."""\n    return Q()\n',
        "listed_spaces_q: closed spaces are listed only for role holders (returns Q())",
    ),
    Mutation(
        "readable-q-no-open",
        SPACES,
        "    public = Q(visibility=Visibility.OPEN)\n",
        "    public = Q(pk__in=[])\n",
        "readable_spaces_q: open spaces are readable by everyone (Visibility.OPEN dropped)",
    ),
    Mutation(
        "member-spaces-q-everything",
        SPACES,
        '    """Spaces where the user holds a role (the "my spaces" list)."""\n'
        "    if not user.is_authenticated:\n        return Q(pk__in=[])\n"
        "    return _role_holder_q(user, SpaceRole.VIEWER)",
        '    """Spaces where the user holds a role (the "my spaces" list)."""\n'
        "    if not user.is_authenticated:\n        return Q(pk__in=[])\n    return Q()",
        'member_spaces_q: "my spaces" lists only spaces with a role (returns Q())',
    ),
    Mutation(
        "items-ignore-readable",
        SPACES_SQL,
        "        return all_of(live, readable, shown, unrestricted)",
        "        return all_of(live, shown, unrestricted)",
        "visible_items_q: items only in spaces the user may read (readable dropped)",
    ),
    # --- Communities ----------------------------------------------------------------------------------------
    Mutation(
        "create-community-anyone",
        COMMUNITIES,
        "return user.is_authenticated and user.is_active and user.is_staff",
        "return user.is_authenticated and user.is_active",
        "can_create_community: site staff only (is_staff dropped)",
    ),
    Mutation(
        "administer-community-moderators",
        COMMUNITIES,
        "community_role(user, community) == CommunityRole.ADMIN",
        "community_role(user, community) in (CommunityRole.MODERATOR, CommunityRole.ADMIN)",
        "can_administer_community: community admins only (moderators let in)",
    ),
    Mutation(
        "moderate-community-admins-only",
        COMMUNITIES,
        "community_role(user, community) in (CommunityRole.MODERATOR, CommunityRole.ADMIN)",
        "community_role(user, community) in (CommunityRole.ADMIN,)",
        "can_moderate_community: community moderators moderate (MODERATOR dropped)",
    ),
    Mutation(
        "create-space-community-moderators",
        COMMUNITIES,
        "def can_create_space(user, community: Community) -> bool:\n"
        "    return can_administer_community(user, community)",
        "def can_create_space(user, community: Community) -> bool:\n    return can_moderate_community(user, community)",
        "can_create_space: community admins create spaces (moderators let in)",
    ),
]


def copy_project(dest: Path) -> Path:
    target = dest / "copapp"
    shutil.copytree(ROOT, target, ignore=IGNORE, symlinks=True)
    return target


def check_patterns(copy: Path, mutations: list[Mutation]) -> list[str]:
    problems = []
    for m in mutations:
        text = (copy / m.path).read_text()
        count = text.count(m.old)
        if count != 1:
            problems.append(f"{m.name}: pattern found {count} times in {m.path} (must be exactly once):\n{m.old!r}")
    return problems


def run_pytest(copy: Path, extra: list[str], *, stop_at_first: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"}}
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [str(PYTHON), *[a for a in PYTEST_ARGS if stop_at_first or a != "-x"], *extra],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def failing_node_ids(output: str) -> list[str]:
    """Failing tests in the order pytest reported them (deduplicated)."""
    return list(dict.fromkeys(re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)))


def ensure_copy_is_imported(copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    out = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            str(PYTHON),
            "-c",
            "from importlib.util import find_spec as f;"
            " print(f('spaces.permissions').origin, f('communities.permissions').origin)",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for path in out:
        if not Path(path).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"the copy imports {path}, not its own code: mutations would test nothing")


def markdown_table(rows: list[tuple[Mutation, str, float]], deselected: list[str], when: str) -> str:
    lines = [
        f"Run on {when} (`scripts/mutate_permissions.py`, {len(rows)} mutations).",
        "",
        "| # | mutation | rule broken | result |",
        "|---|---|---|---|",
    ]
    for i, (m, result, _secs) in enumerate(rows, 1):
        lines.append(f"| {i} | `{m.name}` ({m.path}) | {m.rule} | {result} |")
    if deselected:
        lines += [
            "",
            "Tests already failing before any mutation (app bugs), deselected in the mutation runs:",
            "",
        ]
        lines += [f"- `{node}`" for node in deselected]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="run only these mutations (by name)")
    parser.add_argument("--markdown", type=Path, help="also write the result table as Markdown to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args()

    mutations = MUTATIONS
    if args.list:
        for m in mutations:
            print(f"{m.name:40} {m.path:28} {m.rule}")
        return 0
    if args.only:
        unknown = set(args.only) - {m.name for m in MUTATIONS}
        if unknown:
            print(f"unknown mutations: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        mutations = [m for m in MUTATIONS if m.name in args.only]
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names)), "mutation names must be unique"

    tmp = Path(tempfile.mkdtemp(prefix="copapp-mutations-"))
    try:
        copy = copy_project(tmp)
        print(f"copied {ROOT} to {copy}", flush=True)
        problems = check_patterns(copy, mutations)
        if problems:
            print(
                "MUTATION PATTERNS DO NOT MATCH - the rules were rewritten; update scripts/mutate_permissions.py:",
                file=sys.stderr,
            )
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 2
        ensure_copy_is_imported(copy)

        started = time.monotonic()
        baseline = run_pytest(copy, [], stop_at_first=False)
        deselected = failing_node_ids(baseline.stdout)
        summary = (baseline.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"baseline (unmutated), without -x: {summary} [{time.monotonic() - started:.0f}s]", flush=True)
        if baseline.returncode not in (0, 1) or (baseline.returncode == 1 and not deselected):
            print(baseline.stdout[-5000:], baseline.stderr[-5000:], sep="\n", file=sys.stderr)
            print("the unmutated suite could not run; stopping", file=sys.stderr)
            return 2
        for node in deselected:
            print(f"  already failing, deselected below: {node}")
        deselect_args = [arg for node in deselected for arg in ("--deselect", node)]

        rows: list[tuple[Mutation, str, float]] = []
        for m in mutations:
            path = copy / m.path
            original = path.read_text()
            path.write_text(original.replace(m.old, m.new, 1))
            started = time.monotonic()
            try:
                result = run_pytest(copy, deselect_args)
            finally:
                path.write_text(original)
            secs = time.monotonic() - started
            first = failing_node_ids(result.stdout)
            # Under xdist, -x makes pytest exit 2 ("interrupted"): a failing test is what counts.
            if result.returncode in (1, 2) and first:
                verdict = f"caught by `{first[0].split('::', 1)[-1]}`"
            elif result.returncode == 0:
                verdict = "NOT CAUGHT"
            else:
                verdict = f"ERROR (pytest exit {result.returncode})"
                print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
            rows.append((m, verdict, secs))
            print(f"{m.name:40} {verdict} [{secs:.0f}s]", flush=True)

        width = max(len(m.name) for m in mutations)
        print()
        print(f"{'mutation':{width}}  result")
        print(f"{'-' * width}  {'-' * 10}")
        for m, verdict, _secs in rows:
            print(f"{m.name:{width}}  {verdict}")
        survived = [m.name for m, verdict, _ in rows if verdict == "NOT CAUGHT"]
        errors = [m.name for m, verdict, _ in rows if verdict.startswith("ERROR")]
        print()
        caught = len(rows) - len(survived) - len(errors)
        print(f"{caught} caught, {len(survived)} NOT CAUGHT, {len(errors)} errors")
        if args.markdown:
            args.markdown.write_text(markdown_table(rows, deselected, dt.date.today().isoformat()))
            print(f"wrote {args.markdown}")
        if errors:
            return 2
        return 1 if survived else 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
