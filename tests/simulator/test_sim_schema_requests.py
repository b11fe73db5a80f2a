"""The simulator accepts what the schema allows: every value of every enum field of every
route's request body in Ideogram's official schema (model AUTO, style types CUSTOM/FICTION/
STYLIZED, magic_prompt_version, describe_model_version, all resolutions and presets, ...).

Each request is first validated against the schema (so a pass never rests on a request the
service would not take), then sent. Each enum is sent in full on the route where an answer is
cheapest and by its first and last values elsewhere, which keeps every value and every
(route, field) pair covered in a few seconds.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from _schema_cases import NESTED, SMALL_OUTPUT, path_of, request
from openapi_support import (
    SchemaViolation,
    request_properties,
    requires_schema,
    resolve,
    schema_available,
    validate_http_request,
)

from ideogram_nb import _api
from ideogram_nb.simulator import SimulatorTransport

pytestmark = requires_schema

BASE_URL = "http://simulator.invalid"
KEY = {"Api-Key": "test-key-not-secret"}
#: Rules the service states beside its enums (ModelEnum: "/edit is only supported for V_2 and
#: V_2_TURBO"): schema-valid requests it still refuses with 400. AUTO lets it choose.
REFUSED: dict[tuple[str, str], frozenset[str]] = {
    ("legacy-edit", "model"): frozenset({"V_1", "V_1_TURBO", "V_2A", "V_2A_TURBO", "V_3"}),
}
#: Values that need a companion field to mean anything.
COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("style_type", "CUSTOM"): {"custom_model_uri": "model/house-style/version/3"},
}


def enum_fields(endpoint: str) -> dict[str, list[str]]:
    """Field → enum values of `endpoint`'s request body (inside `image_request` when nested)."""
    media = "application/json" if endpoint == "legacy-generate" else "multipart/form-data"
    props = request_properties(path_of(endpoint), media)
    if endpoint in NESTED:
        props = {k: resolve(v) for k, v in resolve(props["image_request"]).get("properties", {}).items()}
    return {name: list(prop["enum"]) for name, prop in props.items() if "enum" in prop}


def _cases() -> list[Any]:
    if not schema_available():
        return []
    order = [*SMALL_OUTPUT, *(e for e in _api.ROUTES if e not in SMALL_OUTPUT)]
    fields = {endpoint: enum_fields(endpoint) for endpoint in order}
    cases = []
    for endpoint in _api.ROUTES:
        for field, values in fields[endpoint].items():
            # The same enum (legacy and V3 `resolution` differ) on the cheapest route taking it.
            cheapest = next(e for e in order if fields[e].get(field) == values and (e, field) not in REFUSED)
            chosen = values if cheapest == endpoint else [values[0], values[-1]]
            cases += [pytest.param(endpoint, field, v, id=f"{endpoint}-{field}-{v}") for v in chosen]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def client():
    with httpx.Client(transport=SimulatorTransport(), base_url=BASE_URL, headers=KEY) as c:
        yield c


@pytest.mark.parametrize(("endpoint", "field", "value"), CASES)
def test_every_enum_value_the_schema_allows_is_accepted(client, endpoint, field, value):
    fields = {field: value, **COMPANIONS.get((field, value), {})}
    sent = client.build_request("POST", path_of(endpoint), **request(endpoint, fields))
    validate_http_request(sent)  # the request is one the schema allows

    response = client.send(sent)

    if value in REFUSED.get((endpoint, field), ()):
        assert response.status_code == 400 and f"'{field}'" in response.json()["detail"]
    else:
        assert response.status_code == 200, response.text


def test_the_cases_reach_every_route_and_the_new_values():
    reached = {(c.values[0], c.values[1], c.values[2]) for c in CASES}

    assert {endpoint for endpoint, _, _ in reached} == set(_api.ROUTES)
    for expected in [("legacy-generate", "model", "AUTO"), ("edit", "style_type", "CUSTOM"),
                     ("legacy-edit", "style_type", "FICTION"), ("upscale", "magic_prompt_version", "V_0_8"),
                     ("describe", "describe_model_version", "CUSTOM"), ("edit", "rendering_speed", "BALANCED")]:  # fmt: skip
        assert expected in reached


def test_a_request_outside_the_schema_is_caught_before_it_is_sent(client):
    """The guard above can fail: an enum value the schema lacks is a SchemaViolation."""
    sent = client.build_request("POST", path_of("generate"), **request("generate", {"style_type": "ANIME"}))
    with pytest.raises(SchemaViolation, match="style_type"):
        validate_http_request(sent)
    assert client.send(sent).status_code == 400  # and the simulator refuses it too
