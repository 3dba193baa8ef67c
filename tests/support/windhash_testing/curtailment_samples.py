"""A wind curtailment record and a period's snapshot built by hand, for tests that need one or two of them
(the sample dataset and the simulator make whole days). The cashflow follows the domain rule
(`windhash_common.money.cashflow_to_farm_gbp`: volume × price, positive when the farm is paid to switch off).
"""

from datetime import date, datetime
from decimal import Decimal

from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.money import cashflow_to_farm_gbp


def wind_record(
    acceptance_id: int,
    volume_mwh: str = "-10",
    price_gbp_per_mwh: str = "-40",
    *,
    bm_unit: str = "T_A-1",
    created_at: datetime | None = None,
) -> CurtailmentRecord:
    volume, price = Decimal(volume_mwh), Decimal(price_gbp_per_mwh)
    return CurtailmentRecord(
        bm_unit=bm_unit,
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=created_at,
        volume_mwh=volume,
        original_price_gbp_per_mwh=price,
        final_price_gbp_per_mwh=None,
        cashflow_gbp=cashflow_to_farm_gbp(volume, price),
        so_flag=True,
        cadl_flag=None,
    )


def period_snapshot(
    day: date, period: int, fetched_at: datetime, *records: CurtailmentRecord
) -> SettlementPeriodEvent:
    return SettlementPeriodEvent.build(day, period, records, fetched_at, synthetic=True)
