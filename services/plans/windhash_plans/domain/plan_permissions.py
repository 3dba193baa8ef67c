"""Who may do what to which plan, beyond the permission table's cells (docs/ACCESS.md names this module):

- manual and scheduled plans are proposed by staff (`plans propose`) and approved by an admin or owner
  (`plans approve`); automatic plans are made only by a site's automatic policy, and approved by it: the
  administrator who turned the policy on approved them in advance (they are named on each plan);
- an admin or owner may cancel any plan that is not finished (a running one is ended early, its miners
  woken); other staff may cancel only a plan they proposed, while it is still pending.
"""

from uuid import UUID

from windhash_common.access.roles import Role

PROPOSED_BY_PEOPLE = frozenset({"manual", "scheduled"})


def proposable(plan_type: str) -> bool:
    return plan_type in PROPOSED_BY_PEOPLE


def may_cancel(role: Role | None, status: str, created_by: UUID | None, user_id: UUID | None) -> bool:
    if role in (Role.ADMIN, Role.OWNER):
        return True
    return role is Role.USER and status == "pending" and created_by is not None and created_by == user_id
