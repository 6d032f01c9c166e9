"""Reading Stripe-style request parameters (form-encoded ``a[b][0]=c`` or JSON) and listing pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web
from localstripe.server import get_post_data, unflatten_data

from dev.fake_stripe.errors import invalid_param, missing_param, stripe_error, unknown_param

MAX_METADATA_KEYS = 50


async def read_params(request: web.Request) -> dict[str, Any]:
    """The request's parameters: the body for POST, the query string otherwise."""
    if request.method == "POST":
        data = await get_post_data(request)
        params = dict(data) if data else {}
        params.update(unflatten_data(request.query) if request.query else {})
        return params
    return dict(unflatten_data(request.query)) if request.query else {}


def reject_unknown(params: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise unknown_param(unknown[0])


def to_int(value: Any, param: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    if value is None or value == "":
        if required:
            raise missing_param(param)
        return None
    try:
        number = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None:
        raise invalid_param(param, f"Invalid integer: {value}")
    if minimum is not None and number < minimum:
        noun = "positive integer" if minimum == 1 else "integer"
        raise invalid_param(param, f"Invalid {noun}: {value}")
    return number


def to_bool(value: Any, param: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_param(param, f"Invalid boolean: {value}")


def to_str(value: Any, param: str, *, required: bool = False, choices: Sequence[str] | None = None) -> str | None:
    if value is None or value == "":
        if required:
            raise missing_param(param)
        return None
    if not isinstance(value, str):
        raise invalid_param(param, f"Invalid string: {value!r}")
    if choices is not None and value not in choices:
        raise invalid_param(param, f"Invalid {param}: must be one of {', '.join(choices)}")
    return value


def to_dict(value: Any, param: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid_param(param, f"Invalid object: {param} must be a hash")
    return value


def currency(value: Any, param: str = "currency") -> str:
    code = to_str(value, param, required=True)
    assert code is not None
    if len(code) != 3 or not code.isalpha():
        raise invalid_param(param, f"Invalid currency: {code.lower()}")
    return code.lower()


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's rule: keys set to "" are removed, ``metadata=""`` clears everything."""
    if update is None:
        return dict(current)
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise invalid_param("metadata", "Invalid object: metadata must be a hash")
    merged = dict(current)
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[str(key)] = str(value)
    if len(merged) > MAX_METADATA_KEYS:
        raise invalid_param("metadata", f"Invalid metadata: metadata cannot have more than {MAX_METADATA_KEYS} keys")
    return merged


def page(items: Sequence[Any], url: str, params: dict[str, Any]) -> dict[str, Any]:
    """One page of a Stripe list over ``items`` (already newest first) with limit/starting_after/ending_before."""
    limit = to_int(params.pop("limit", None), "limit", minimum=1)
    limit = 10 if limit is None else limit
    if limit > 100:
        raise invalid_param("limit", "This value must be less than or equal to 100.")
    starting_after = to_str(params.pop("starting_after", None), "starting_after")
    ending_before = to_str(params.pop("ending_before", None), "ending_before")
    expand = params.pop("expand", None)
    ids = [item.id for item in items]
    if starting_after is not None:
        if starting_after not in ids:
            raise stripe_error(400, f"No such object: '{starting_after}'", param="starting_after",
                               code="resource_missing")
        start = ids.index(starting_after) + 1
        selected, has_more = items[start:start + limit], len(items) > start + limit
    elif ending_before is not None:
        if ending_before not in ids:
            raise stripe_error(400, f"No such object: '{ending_before}'", param="ending_before",
                               code="resource_missing")
        end = ids.index(ending_before)
        selected, has_more = items[max(0, end - limit):end], end - limit > 0
    else:
        selected, has_more = items[:limit], len(items) > limit
    return {
        "object": "list",
        "data": [item._export(expand=[e.removeprefix("data.") for e in expand or []]) for item in selected],
        "has_more": has_more,
        "url": url,
    }


def json_response(body: Any, status: int = 200) -> web.Response:
    from localstripe.server import json_response as localstripe_json

    return localstripe_json(body, status=status)
