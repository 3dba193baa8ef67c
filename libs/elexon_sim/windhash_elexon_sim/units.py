"""The BM units the synthetic server knows: the 212 real wind units of the packaged reference file, plus a few
real non-wind units whose rows the ingestor must filter out.

Simulation-only assumptions (never used by the ingestor): 32 reference entries have no capacity, so the units
below get a plausible one; and a unit's share of curtailment follows its capacity times a regional weight,
so that, as in 2024, most of the volume comes from a few large Scottish farms behind the B6 boundary.
"""

import hashlib
import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# MW per BM unit for reference entries without `generationCapacity` (public nameplate / number of units).
ASSUMED_CAPACITY_MW: dict[str, float] = {
    "T_SGRWO": 179.0,  # Seagreen, 1,075 MW over 6 units
    "T_MOWEO": 317.0,  # Moray East, 950 MW over 3
    "T_MOWWO": 220.0,  # Moray West, 882 MW over 4
    "T_BEATO": 147.0,  # Beatrice, 588 MW over 4
    "T_VKNGW": 110.0,  # Viking, 443 MW over 4
    "T_DOREW": 88.0,  # Dorenell, 177 MW over 2
    "T_GORDW": 36.0,
    "T_CREAW": 79.0,
    "T_HALSW": 30.0,
}
DEFAULT_ASSUMED_CAPACITY_MW = 20.0

# Units with most of the 2024 curtailment (Scotland, north of the B6 boundary), then the rest of Scotland.
HEAVY_SCOTTISH = (
    "T_SGRWO", "T_MOWEO", "T_MOWWO", "T_VKNGW", "T_SOKYW", "T_BEATO", "T_CLDCW", "T_CLDNW", "T_CLDSW",
    "T_GRIFW", "T_STLGW", "T_DOREW", "T_KLGLW", "T_WHILW", "T_DUNGW", "T_BHLAW",
)  # fmt: skip
OTHER_SCOTTISH = (
    "T_ABRBO", "T_NNGAO", "T_HADHW", "T_ARCHW", "T_FALGW", "T_CRYRW", "T_BEINW", "T_HRSTW", "T_BLLA",
    "T_AKGLW", "T_FARR", "T_CGTHW", "T_LCLTW", "T_CREAW", "T_HALSW", "T_GORDW", "T_AFTOW", "T_KPMRW",
    "T_KYPEW", "T_SAKNW", "T_DRSLW", "T_MKHLW", "T_GLNKW", "T_CRMLW", "T_STRNW", "T_KILBW", "T_MILWW",
    "T_LIMKW", "E_HYWDW", "E_KINCW", "2__PSTAT", "T_EDINW", "T_BDCHW", "T_CRGHW", "T_GLWSW", "T_KENNW",
)  # fmt: skip
HEAVY_WEIGHT = 12.0
SCOTTISH_WEIGHT = 2.5
OTHER_WEIGHT = 0.15


@dataclass(frozen=True)
class SimUnit:
    elexon_bm_unit: str
    capacity_mw: float
    weight: float
    # The unit's usual bid price (£/MWh): negative for subsidised farms, which are paid to stop.
    bid_price: float


@dataclass(frozen=True)
class NonWindUnit:
    elexon_bm_unit: str
    fuel_type: str
    lead_party_name: str
    capacity_mw: float


NON_WIND_UNITS: tuple[NonWindUnit, ...] = (
    NonWindUnit("T_DRAXX-1", "BIOMASS", "Drax Power Ltd", 645.0),
    NonWindUnit("T_DRAXX-2", "BIOMASS", "Drax Power Ltd", 645.0),
    NonWindUnit("T_GRAI-6", "CCGT", "Uniper UK Limited", 455.0),
    NonWindUnit("T_PEHE-1", "CCGT", "RWE Generation UK plc", 794.0),
    NonWindUnit("T_CARR-1", "CCGT", "Carrington Power Limited", 442.0),
    NonWindUnit("T_SEAB-1", "CCGT", "Seabank Power Ltd", 812.0),
    NonWindUnit("T_DINO-1", "PS", "First Hydro Company", 300.0),
    NonWindUnit("T_FOYE-1", "PS", "SSE Generation Ltd", 150.0),
)


def stable_random(*parts: object) -> random.Random:
    """A generator seeded from text, the same in every process (unlike `hash()`)."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@cache
def wind_reference_rows() -> tuple[dict[str, Any], ...]:
    """The packaged reference file as Elexon published it (`/reference/bmunits/all`, fuelType WIND)."""
    text = resources.files("windhash_common.data").joinpath("wind_bmu_units.json").read_text()
    rows: list[dict[str, Any]] = json.loads(text)
    return tuple(rows)


def _weight(unit: str) -> float:
    if unit.startswith(HEAVY_SCOTTISH):
        return HEAVY_WEIGHT
    if unit.startswith(OTHER_SCOTTISH):
        return SCOTTISH_WEIGHT
    return OTHER_WEIGHT


def _capacity(row: dict[str, Any]) -> float:
    stated = float(row.get("generationCapacity") or 0.0)
    if stated > 0:
        return stated
    unit = str(row["elexonBmUnit"])
    return next(
        (mw for prefix, mw in ASSUMED_CAPACITY_MW.items() if unit.startswith(prefix)),
        DEFAULT_ASSUMED_CAPACITY_MW,
    )


def _bid_price(unit: str, seed: int) -> float:
    rng = stable_random(seed, "price", unit)
    if rng.random() < 0.12:  # a CfD farm that pays a little to be turned down
        return round(rng.uniform(0.0, 15.0), 2)
    return round(-rng.uniform(22.0, 78.0), 2)


@cache
def sim_wind_units(seed: int) -> tuple[SimUnit, ...]:
    units = []
    for row in wind_reference_rows():
        name = str(row["elexonBmUnit"])
        capacity = _capacity(row)
        units.append(SimUnit(name, capacity, capacity * _weight(name), _bid_price(name, seed)))
    return tuple(units)


def wind_unit_ids() -> frozenset[str]:
    return frozenset(str(row["elexonBmUnit"]) for row in wind_reference_rows())


def bm_unit_reference(seed: int) -> list[dict[str, Any]]:
    """`/reference/bmunits/all` in Elexon's `BmUnitData` shape: every wind unit and a few non-wind ones."""
    rows = [_reference_row(row, seed) for row in wind_reference_rows()]
    for unit in NON_WIND_UNITS:
        rows.append(
            _reference_row(
                {
                    "elexonBmUnit": unit.elexon_bm_unit,
                    "nationalGridBmUnit": unit.elexon_bm_unit.removeprefix("T_"),
                    "bmUnitName": unit.elexon_bm_unit,
                    "generationCapacity": f"{unit.capacity_mw:.3f}",
                    "fuelType": unit.fuel_type,
                    "leadPartyName": unit.lead_party_name,
                },
                seed,
            )
        )
    return rows


def _reference_row(row: dict[str, Any], seed: int) -> dict[str, Any]:
    unit = str(row["elexonBmUnit"])
    rng = stable_random(seed, "reference", unit)
    return {
        "nationalGridBmUnit": row.get("nationalGridBmUnit"),
        "elexonBmUnit": unit,
        "eic": f"48W{rng.randrange(10**12):012d}X",
        "fuelType": row.get("fuelType"),
        "leadPartyName": row.get("leadPartyName"),
        "bmUnitType": unit[0],
        "fpnFlag": True,
        "bmUnitName": row.get("bmUnitName"),
        "leadPartyId": (row.get("leadPartyName") or "UNKNOWN")[:5].upper().replace(" ", ""),
        "demandCapacity": "0.000",
        "generationCapacity": row.get("generationCapacity"),
        "productionOrConsumptionFlag": "P",
        "transmissionLossFactor": f"{rng.uniform(-0.02, 0.02):.6f}",
        "workingDayCreditAssessmentImportCapability": "0.000",
        "nonWorkingDayCreditAssessmentImportCapability": "0.000",
        "workingDayCreditAssessmentExportCapability": "0.000",
        "nonWorkingDayCreditAssessmentExportCapability": "0.000",
        "creditQualifyingStatus": False,
        "demandInProductionFlag": False,
        "gspGroupId": "_N" if _weight(unit) > OTHER_WEIGHT else "_B",
        "gspGroupName": "North Scotland" if _weight(unit) > OTHER_WEIGHT else "East Midlands",
        "interconnectorId": None,
    }
