"""What a route was asked, parsed once: the span (a timeframe, or one settlement date), the filters and
whether the answer is CSV. Each route takes one of these dependencies instead of repeating the parameters
(the OpenAPI document still lists each parameter, with its limits, from `params`)."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from windhash_api.database import Settings
from windhash_api.models.common import Filters
from windhash_api.params import (
    BmUnitParam,
    DateValue,
    LeadPartyParam,
    MinerModelParam,
    TimeframeParam,
    TimeframeValue,
)
from windhash_api.tabular import FormatParam, wants_csv
from windhash_api.timeframes import Timeframe, parse_day, parse_timeframe


@dataclass(frozen=True)
class SpanAsked:
    span: Timeframe
    filters: Filters
    csv: bool


@dataclass(frozen=True)
class DayAsked:
    day: date
    filters: Filters
    csv: bool


async def _span(settings: Settings, timeframe: TimeframeParam, value: TimeframeValue) -> Timeframe:
    return parse_timeframe(timeframe, value, settings.max_range_days)


async def _csv(request: Request, output_format: FormatParam = None) -> bool:
    return wants_csv(request, output_format)


async def _place(lead_party: LeadPartyParam = None, bm_unit: BmUnitParam = None) -> Filters:
    return Filters(lead_party=lead_party, bm_unit=bm_unit)


async def _place_and_model(
    lead_party: LeadPartyParam = None, bm_unit: BmUnitParam = None, miner_model: MinerModelParam = None
) -> Filters:
    return Filters(lead_party=lead_party, bm_unit=bm_unit, miner_model=miner_model)


async def _party(lead_party: LeadPartyParam = None) -> Filters:
    return Filters(lead_party=lead_party)


async def _none() -> Filters:
    return Filters()


Span = Annotated[Timeframe, Depends(_span)]
Csv = Annotated[bool, Depends(_csv)]
PlaceFilters = Annotated[Filters, Depends(_place)]


async def _curtailment(span: Span, filters: PlaceFilters, csv: Csv) -> SpanAsked:
    return SpanAsked(span, filters, csv)


async def _mining(span: Span, filters: Annotated[Filters, Depends(_place_and_model)], csv: Csv) -> SpanAsked:
    return SpanAsked(span, filters, csv)


async def _by_party(span: Span, filters: Annotated[Filters, Depends(_party)], csv: Csv) -> SpanAsked:
    return SpanAsked(span, filters, csv)


async def _unfiltered(span: Span, filters: Annotated[Filters, Depends(_none)], csv: Csv) -> SpanAsked:
    return SpanAsked(span, filters, csv)


async def _day(
    settlement_date: DateValue, filters: Annotated[Filters, Depends(_place)], csv: Csv
) -> DayAsked:
    return DayAsked(parse_day(settlement_date), filters, csv)


CurtailmentAsked = Annotated[SpanAsked, Depends(_curtailment)]
"""A timeframe, lead_party and bm_unit filters, format."""
MiningAsked = Annotated[SpanAsked, Depends(_mining)]
"""A timeframe, lead_party, bm_unit and miner_model filters, format."""
PartyAsked = Annotated[SpanAsked, Depends(_by_party)]
"""A timeframe, a lead_party filter, format."""
UnfilteredAsked = Annotated[SpanAsked, Depends(_unfiltered)]
"""A timeframe and format."""
DayCurtailmentAsked = Annotated[DayAsked, Depends(_day)]
"""A settlement date, lead_party and bm_unit filters, format."""
