"""Reading a JSON file that a person hands windhash (`difficulty load`, `prices load`), strictly.

Refused, each with one sentence naming the file: a file larger than `MAX_FILE_BYTES`; bytes that are not
UTF-8 text (binary files); malformed JSON (with line and column); an object with a key given twice (JSON
allows it and `json.loads` would silently keep the last value, so a file that says two things about one day
is refused rather than guessed); nesting deeper than `MAX_DEPTH`; NaN and the infinities, which are not
JSON. Numbers with a fraction are read as exact Decimals.
"""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from windhash_common.input_values import InputRefused

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputRefused(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise InputRefused(f"{name} is not a JSON number")


def _nesting_before_parse(text: str) -> int:
    """The deepest bracket nesting of the raw text (strings skipped), so that a file of a million `[` is
    refused before the parser recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


def parse_json_text(data: bytes, source: str) -> Any:
    """The JSON document in `data`; InputRefused naming `source` when it is not strictly valid."""
    if len(data) > MAX_FILE_BYTES:
        raise InputRefused(f"{source} is larger than the {MAX_FILE_BYTES} bytes a JSON file may hold")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        where = error.start + 1
        raise InputRefused(f"{source} is not UTF-8 text (byte {where}): is it a JSON file?") from None
    if "\x00" in text:
        raise InputRefused(f"{source} holds a NUL character: it is binary, not JSON")
    if _nesting_before_parse(text) > MAX_DEPTH:
        raise InputRefused(f"{source} nests arrays or objects more than {MAX_DEPTH} deep")
    try:
        document = json.loads(
            text, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_no_duplicates
        )
    except InputRefused as error:
        raise InputRefused(f"{source}: {error}") from None
    except json.JSONDecodeError as error:
        raise InputRefused(
            f"{source} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    return document


def read_json_file(path: Path) -> Any:
    """`parse_json_text` of a file, read at most `MAX_FILE_BYTES` + 1 bytes."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputRefused(f"{path.name} cannot be read: {error.strerror or error}") from None
    return parse_json_text(data, path.name)
