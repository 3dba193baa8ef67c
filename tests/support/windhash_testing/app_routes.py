"""Every route an HTTP app serves, as the permission table names them: the authorization-matrix test and the
permission-table test walk the API and each context service's app with it."""

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from windhash_common.access.permissions import route_key

PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route of `app`, in or out of its OpenAPI document; HEAD is folded
    into GET, as the permission table judges it."""
    keys = {
        route_key(method, route.path or "")
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods or ()
    }
    return sorted((key.split(" ", 1)[0], key.split(" ", 1)[1]) for key in keys)


def path_parameters(path: str) -> list[str]:
    """The names of a template's parameters (`{user_id}`, `{path:path}` → `path`)."""
    return PATH_PARAMETER.findall(path)


def filled(path: str, values: dict[str, str]) -> str:
    """The template with each parameter replaced by its value."""
    return PATH_PARAMETER.sub(lambda match: values[match.group(1)], path)
