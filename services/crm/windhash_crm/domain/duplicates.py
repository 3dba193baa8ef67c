"""Duplicate leads: two leads are one prospect when their normalised emails or normalised companies match.

The keys are stored with each lead (`crm_leads.email_key`, `company_key`) and compared by PostgreSQL across
every owner (`crm_lead_duplicates`, migration 1400). '' means nothing to compare.

- email: trimmed, lower-cased, and without a `+tag` in the local part (`Ann+crm@Acme.example` and
  `ann@acme.example` reach the same inbox);
- company: Unicode-normalised (NFKC) and case-folded, accents dropped, `&` read as `and`, punctuation as
  spaces, and a trailing legal form dropped (`Acme Hosting Ltd.`, `ACME HOSTING LIMITED` and `Acme-Hosting`
  are one company).
"""

import re
import unicodedata

_LEGAL_FORMS = frozenset(
    {
        "ltd",
        "limited",
        "plc",
        "llp",
        "lp",
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "spa",
        "srl",
        "pty",
        "pte",
        "kk",
    }
)
_NOT_WORD = re.compile(r"[^\w]+")


def email_key(email: str | None) -> str:
    if not email:
        return ""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or not domain:
        return email.strip().lower()
    return f"{local.split('+', 1)[0] or local}@{domain}"


def company_key(company: str | None) -> str:
    if not company:
        return ""
    text = unicodedata.normalize("NFKD", company).casefold()
    text = "".join(character for character in text if not unicodedata.combining(character))
    text = text.replace("&", " and ")
    words = [word for word in _NOT_WORD.sub(" ", text).replace("_", " ").split() if word]
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)
