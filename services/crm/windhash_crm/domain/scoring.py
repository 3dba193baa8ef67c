"""The lead score: how promising a lead is, 0 to 100, from what is known about it.

The rule (the defaults of `ScoringRule`; every number can be changed with `WINDHASH_CRM_SCORING_RULE`, a JSON
object with any of the fields below, and applied to the stored leads with `windhash crm rescore`):

    score = source points                 referral 30, event 25, website 20, cold call 10, other 5
          + company points   15           the lead names its company
          + business email   20           an email at a domain that is not a free mail provider
          + phone points     10           a phone number to call
          + status points                 qualified 25, contacted 10, new 0
    clamped to 0..100.

A converted lead scores 100 (it became a deal) and a lost one 0, whatever the rest says: the score ranks the
leads still to work on. With the defaults a qualified referral from a company address with a phone scores
30 + 15 + 20 + 10 + 25 = 100.
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LeadSource = Literal["website", "referral", "cold_call", "event", "other"]
LeadStatus = Literal["new", "contacted", "qualified", "converted", "lost"]
WorkedStatus = Literal["new", "contacted", "qualified"]
Points = int
_SOURCE_POINTS: dict[LeadSource, Points] = {
    "referral": 30,
    "event": 25,
    "website": 20,
    "cold_call": 10,
    "other": 5,
}
_STATUS_POINTS: dict[WorkedStatus, Points] = {"new": 0, "contacted": 10, "qualified": 25}

_FREE_MAIL = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "mail.com",
)


class ScoringRule(BaseModel):
    """The weights of the lead score (see the module's docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_points: dict[LeadSource, Points] = Field(default_factory=lambda: dict(_SOURCE_POINTS))
    company_points: Points = Field(default=15, ge=-100, le=100)
    business_email_points: Points = Field(default=20, ge=-100, le=100)
    phone_points: Points = Field(default=10, ge=-100, le=100)
    status_points: dict[WorkedStatus, Points] = Field(default_factory=lambda: dict(_STATUS_POINTS))
    free_mail_domains: tuple[str, ...] = _FREE_MAIL


@dataclass(frozen=True)
class LeadFacts:
    """What the score looks at."""

    source: LeadSource
    status: LeadStatus
    email: str | None
    phone: str | None
    company: str | None


def lead_score(lead: LeadFacts, rule: ScoringRule) -> int:
    if lead.status == "converted":
        return 100
    if lead.status == "lost":
        return 0
    score = rule.source_points.get(lead.source, 0)
    if lead.company:
        score += rule.company_points
    if lead.email and not is_free_mail(lead.email, rule.free_mail_domains):
        score += rule.business_email_points
    if lead.phone:
        score += rule.phone_points
    score += rule.status_points.get(lead.status, 0)
    return max(0, min(100, score))


def is_free_mail(email: str, free_mail_domains: tuple[str, ...]) -> bool:
    domain = email.rpartition("@")[2].strip().lower()
    return domain in free_mail_domains
