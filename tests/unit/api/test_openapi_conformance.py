"""The response checker the API tests use, and what the committed document says."""

from __future__ import annotations

import json

import httpx
import pytest

from credit_engine.api._schemas import DecisionPublic, OverrideRequest
from credit_engine.vocabulary import DecidedBy, Tier
from tests.openapi_conformance import OpenApiConformance

PROBLEM = "application/problem+json"


def response(
    method: str,
    path: str,
    status: int,
    body: object,
    media: str = "application/json",
) -> httpx.Response:
    request = httpx.Request(method, f"http://api{path}")
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": media},
        request=request,
    )


@pytest.fixture(scope="module")
def checker() -> OpenApiConformance:
    return OpenApiConformance()


def decision(**fields: object) -> dict[str, object]:
    return {"uscc": "91350200MA2XYZ0001", "as_of": "2026-06-30", "tier": "B", **fields}


def test_a_documented_response_passes(checker):
    checker.check(
        response("POST", "/v1/scores", 200, {"decision": decision(), "audit_seq": 3})
    )
    checker.check(
        response(
            "GET",
            "/v1/enterprises/91350200MA2XYZ0001/history",
            404,
            {"type": "t", "title": "Not found", "status": 404, "detail": "d",
             "code": "enterprise_not_found"},
            PROBLEM,
        )
    )  # fmt: skip
    assert checker.checked == 2


def test_an_undocumented_status_fails_naming_the_operation(checker):
    with pytest.raises(AssertionError, match=r"GET /healthz answered 503"):
        checker.check(response("GET", "/healthz", 503, {"status": "down"}))


def test_a_body_off_its_schema_fails_naming_where(checker):
    with pytest.raises(AssertionError, match=r"decision/tier"):
        checker.check(
            response(
                "POST",
                "/v1/scores",
                200,
                {"decision": decision(tier="E"), "audit_seq": 1},
            )
        )
    with pytest.raises(AssertionError, match=r"audit_seq"):
        checker.check(response("POST", "/v1/scores", 200, {"decision": decision()}))
    with pytest.raises(AssertionError, match=r"as_of"):
        checker.check(
            response(
                "POST",
                "/v1/scores:batch",
                200,
                {"data": [decision(as_of="30/06/2026")], "count": 1, "audit_seqs": [1]},
            )
        )


def test_a_media_type_off_the_document_fails(checker):
    problem = {"type": "t", "title": "x", "status": 422, "detail": "d", "code": "c"}
    with pytest.raises(AssertionError, match=r"application/json"):
        checker.check(response("POST", "/v1/scores", 422, problem))


def test_paths_outside_the_api_are_not_checked(checker):
    checker.check(response("GET", "/v1/nothing", 404, {"whatever": True}, PROBLEM))


def test_the_document_uses_the_vocabulary_and_problem_json(checker):
    doc = checker.document
    schemas = doc["components"]["schemas"]
    assert schemas["Tier"]["enum"] == list(Tier.values())
    assert schemas["DecidedBy"]["enum"] == list(DecidedBy.values())
    (tier,) = [
        p
        for p in doc["paths"]["/v1/ratings"]["get"]["parameters"]
        if p["name"] == "tier"
    ]
    assert {"$ref": "#/components/schemas/Tier"} in tier["schema"]["anyOf"]
    assert schemas["OverrideRequest"]["properties"]["tier"] == {
        "$ref": "#/components/schemas/Tier"
    }
    # Every error is a problem document, except a failed reload's own body.
    media = {
        (path, method, status): list(answer["content"])
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status[0] in "45"
    }
    assert media.pop(("/v1/admin/reload", "post", "503")) == ["application/json"]
    assert media
    assert {k: v for k, v in media.items() if v != [PROBLEM]} == {}


def test_the_schemas_take_tiers_and_layers_from_the_vocabulary():
    parsed = DecisionPublic.model_validate(decision(decided_by="OVERRIDE"))
    assert parsed.tier is Tier.B
    assert parsed.decided_by is DecidedBy.OVERRIDE
    assert OverrideRequest(tier="A", reason="appeal").tier is Tier.A
    with pytest.raises(ValueError, match="tier"):
        OverrideRequest(tier="E", reason="appeal")


def test_an_attached_client_checks_every_response():
    answers = {"/healthz": (200, {"status": "ok"}), "/readyz": (418, {"x": 1})}

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = answers[request.url.path]
        return httpx.Response(status, json=body)

    checker = OpenApiConformance()
    with checker.attach(
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://api")
    ) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        with pytest.raises(AssertionError, match=r"GET /readyz answered 418"):
            client.get("/readyz")
    assert checker.checked == 1
