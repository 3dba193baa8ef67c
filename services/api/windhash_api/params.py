"""Query and path parameters shared by the routes, declared once so that OpenAPI states their limits."""

from typing import Annotated

from fastapi import Path, Query

from windhash_api.timeframes import EXAMPLES, TimeframeKind

PAGE_SIZE_MAX = 500
OFFSET_MAX = 1_000_000
# Printable text only: control characters (NUL above all) can never name a party, a unit or a model.
_NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_NAME_MAX = 200

TimeframeParam = Annotated[TimeframeKind, Path(description="daily, monthly, yearly or range")]
TimeframeValue = Annotated[
    str,
    Path(
        description="daily: YYYY-MM-DD; monthly: YYYY-MM; yearly: YYYY; range: YYYY-MM-DD..YYYY-MM-DD",
        examples=list(EXAMPLES.values()),
        max_length=40,
    ),
]
DateValue = Annotated[
    str, Path(description="settlement date, YYYY-MM-DD", examples=["2024-03-31"], max_length=40)
]
LeadPartyParam = Annotated[
    str | None,
    Query(
        description="only this lead party (see /api/v1/lead-parties)",
        max_length=_NAME_MAX,
        pattern=_NAME_PATTERN,
    ),
]
BmUnitParam = Annotated[
    str | None,
    Query(
        description="only this Elexon BM unit (see /api/v1/bm-units)",
        max_length=_NAME_MAX,
        pattern=_NAME_PATTERN,
    ),
]
MinerModelParam = Annotated[
    str | None,
    Query(
        description="a miner model name (see /api/v1/miner-models)",
        max_length=_NAME_MAX,
        pattern=_NAME_PATTERN,
    ),
]
SearchParam = Annotated[
    str | None,
    Query(
        description="case-insensitive text in the unit's codes, name or lead party",
        max_length=_NAME_MAX,
        pattern=_NAME_PATTERN,
    ),
]
BmUnitRequired = Annotated[
    str,
    Query(description="the Elexon BM unit (/api/v1/bm-units)", max_length=_NAME_MAX, pattern=_NAME_PATTERN),
]
LeadPartyRequired = Annotated[
    str,
    Query(description="the lead party (/api/v1/lead-parties)", max_length=_NAME_MAX, pattern=_NAME_PATTERN),
]
LimitParam = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description=f"page size, 1 to {PAGE_SIZE_MAX}")]
OffsetParam = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="rows to skip")]
