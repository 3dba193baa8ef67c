"""The lead score (a documented, changeable rule) and the duplicate keys, as pure functions."""

import pytest
from windhash_crm.domain.duplicates import company_key, email_key
from windhash_crm.domain.scoring import LeadFacts, ScoringRule, is_free_mail, lead_score
from windhash_crm.settings import CrmSettings

DEFAULT = ScoringRule()


def facts(**changes: object) -> LeadFacts:
    base: dict[str, object] = {
        "source": "website",
        "status": "new",
        "email": "ann@northwind.example",
        "phone": None,
        "company": None,
    }
    return LeadFacts(**(base | changes))  # type: ignore[arg-type]


def test_a_qualified_referral_from_a_company_address_with_a_phone_scores_the_full_hundred() -> None:
    lead = facts(source="referral", status="qualified", phone="+44 1224 000000", company="Northwind")
    assert lead_score(lead, DEFAULT) == 30 + 15 + 20 + 10 + 25 == 100


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 20 + 20),
        ({"email": "ann@gmail.com"}, 20),
        ({"email": "Ann@GMAIL.com"}, 20),
        ({"email": None, "phone": "01224 000000"}, 20 + 10),
        ({"source": "cold_call", "status": "contacted"}, 10 + 20 + 10),
        ({"source": "event", "company": "Acme"}, 25 + 20 + 15),
        ({"source": "other", "email": "x@yahoo.co.uk"}, 5),
    ],
)
def test_each_fact_adds_its_points(changes: dict[str, object], score: int) -> None:
    assert lead_score(facts(**changes), DEFAULT) == score


def test_converted_and_lost_leads_leave_the_ranking_at_the_ends() -> None:
    assert lead_score(facts(status="converted", email="x@gmail.com"), DEFAULT) == 100
    assert lead_score(facts(status="lost", source="referral", company="Acme"), DEFAULT) == 0


def test_the_rule_can_be_changed_and_the_score_stays_within_0_and_100() -> None:
    harsh = ScoringRule(source_points={"website": -50}, business_email_points=-60)
    assert lead_score(facts(), harsh) == 0
    generous = ScoringRule(source_points={"website": 90}, company_points=90)
    assert lead_score(facts(company="Acme"), generous) == 100
    assert lead_score(facts(source="referral"), harsh) == 0  # a source the rule gives nothing


def test_the_rule_is_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "WINDHASH_CRM_SCORING_RULE", '{"phone_points": 40, "free_mail_domains": ["corp.example"]}'
    )
    rule = CrmSettings().crm_scoring_rule
    assert rule.phone_points == 40 and rule.company_points == 15
    assert is_free_mail("ann@corp.example", rule.free_mail_domains)
    assert lead_score(facts(phone="01224 000000", email="ann@corp.example"), rule) == 20 + 40


def test_an_unknown_source_in_the_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="source_points"):
        ScoringRule(source_points={"billboard": 10})


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Ann@Northwind.example", "ann@northwind.example"),
        ("  ann+crm@northwind.example ", "ann@northwind.example"),
        ("+only@x.example", "+only@x.example"),
        (None, ""),
        ("", ""),
    ],
)
def test_emails_compare_trimmed_lower_case_and_without_a_plus_tag(email: str | None, key: str) -> None:
    assert email_key(email) == key


@pytest.mark.parametrize(
    "company",
    ["Northwind Hosting Ltd.", "NORTHWIND HOSTING LIMITED", "Northwind-Hosting", " northwind  hosting plc "],
)
def test_companies_compare_without_case_punctuation_or_legal_form(company: str) -> None:
    assert company_key(company) == "northwind hosting"


def test_company_keys_keep_what_tells_companies_apart() -> None:
    assert company_key("Ørsted Énergie SA") == "ørsted energie"
    assert company_key("A&B Mining") == company_key("A and B Mining") == "a and b mining"
    assert company_key("Limited") == "limited"  # a legal form alone is the whole name
    assert company_key("Acme Co") != company_key("Acme Corp Holdings")
    assert company_key(None) == ""
