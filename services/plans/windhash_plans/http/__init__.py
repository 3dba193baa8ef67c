"""The plans service's HTTP app (behind the API's /api/v1/plans/...)."""
