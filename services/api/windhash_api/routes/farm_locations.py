"""GET /api/v1/farm-locations: the farm reference file (names, capacities, approximate positions)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from windhash_api.database import Settings
from windhash_api.farm_locations import farm_locations
from windhash_api.models.farm_locations import SOURCE, FarmLocations
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import FormatParam, csv_table, wants_csv

router = APIRouter(prefix=API_PREFIX, tags=["registry"])


@router.get(
    "/farm-locations",
    response_model=FarmLocations,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Wind farm names, capacities and approximate positions of the BM units, with their source",
)
async def get_farm_locations(
    request: Request, settings: Settings, output_format: FormatParam = None
) -> FarmLocations | Response:
    path = settings.api_farm_locations_file
    items = farm_locations(path)
    if wants_csv(request, output_format):
        return await csv_table(items, "farm-locations")
    source = SOURCE if path is None else f"This deployment's {path.name} (WINDHASH_API_FARM_LOCATIONS_FILE)"
    return FarmLocations(source=source, items=items)
