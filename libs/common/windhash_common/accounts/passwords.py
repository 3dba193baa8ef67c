"""Passwords: argon2id hashes (argon2-cffi, RFC 9106 parameters) and the OWASP ASVS level 2 rules.

Rules (ASVS 4.0 V2.1): at least 12 characters and at most 128 (2.1.1, 2.1.2), any printable Unicode
including spaces (2.1.4), no composition rules (2.1.9), not one of the common passwords zxcvbn ships (its
offline list of 30,000, 2.1.7), and a zxcvbn strength of at least 3 of 4 counting the email and name as
known words (2.1.8).
Passwords are NFKC-normalised before hashing, so the same characters typed differently verify. A password is
never logged, stored or returned: only its hash is kept, and hashing runs off the event loop (to_thread).
"""

import functools
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_STRENGTH = 3
_HASHER = PasswordHasher()


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, never the password."""


@functools.cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password_rules(password: str, *known_words: str) -> None:
    """Raise PasswordRejected unless `password` keeps the rules; `known_words` (email, name) weaken it."""
    password = normalised(password)
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password may have at most {MAX_LENGTH} characters")
    if any(unicodedata.category(character) in ("Cc", "Cf", "Cs") for character in password):
        raise PasswordRejected("a password may not contain control characters")
    if password.lower() in _common_passwords():
        raise PasswordRejected("that password is one of the most common ones; choose another")
    words = [word for known in known_words for word in (known, *known.replace("@", " ").split()) if word]
    strength = zxcvbn(password[:100], user_inputs=[*words, "windhash"])
    if strength["score"] < MIN_STRENGTH:
        advice = strength["feedback"].get("warning") or "add more words or characters"
        raise PasswordRejected(f"that password is too easy to guess ({advice.rstrip('.').lower()})")


def hash_password(password: str) -> str:
    return _HASHER.hash(normalised(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, normalised(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


@functools.cache
def _unknown_user_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify_for_unknown_user(password: str) -> bool:
    """The same work as a real verification, for an email no account has: the answer and its timing must not
    tell whether the account exists. Always False."""
    verify_password(_unknown_user_hash(), password)
    return False


def one_time_password() -> str:
    """A random password for a new account or a reset, shown once; the account must change it."""
    return secrets.token_urlsafe(18)
