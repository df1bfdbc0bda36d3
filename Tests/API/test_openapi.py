"""`web/openapi.json` is a valid OpenAPI 3.1 document, the server serves it, and the server's
real responses match it: schemathesis explores every operation, and every route that needs
sign-in answers a request without credentials with the documented 401.

(That the document lists exactly the router's routes is checked by the Swift test
OpenAPIDocumentTests, which can read the router.)"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import jsonschema
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api_server import REPO

DOCUMENT_PATH = REPO / "web" / "openapi.json"
DOCUMENT_URI = "urn:kaiwa:openapi"
METHODS = ("get", "head", "post", "put", "patch", "delete")

# Schemathesis' budget: test cases per operation in its fuzzing and stateful phases (its
# examples and coverage phases add their own few dozen per operation). About 750 requests
# in all, a minute or so against a debug build. KAIWA_FUZZ_EXAMPLES sets a larger budget for
# a longer run (bench/fuzz.sh).
MAX_EXAMPLES = int(os.environ.get("KAIWA_FUZZ_EXAMPLES") or 5)


def document():
    return json.loads(DOCUMENT_PATH.read_text())


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], item.get("parameters", []) + item[method].get("parameters", [])


def follow(spec, node):
    """`node` with its `$ref` (a local one, `#/components/…`) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def schema_validator(spec, schema):
    """A JSON Schema (2020-12, as OpenAPI 3.1's) validator for `schema`, a part of `spec`
    whose `#/components/…` references point into `spec`."""
    def rooted(node):
        if isinstance(node, dict):
            return {key: (DOCUMENT_URI + value if key == "$ref" and value.startswith("#") else rooted(value)) for key, value in node.items()}
        if isinstance(node, list):
            return [rooted(item) for item in node]
        return node

    registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=spec, specification=DRAFT202012))
    return jsonschema.Draft202012Validator(rooted(schema), registry=registry)


def response_validator(spec, path, method, status, media_type="application/json"):
    """A validator of the body the document promises for `status`."""
    response = follow(spec, spec["paths"][path][method]["responses"][str(status)])
    return schema_validator(spec, response["content"][media_type]["schema"])


def request(server, method, path, headers=None, body=None):
    """(status, headers, body) of a request; errors are answers too."""
    req = urllib.request.Request(server.url + path.lstrip("/"), method=method.upper(), data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_document_is_valid_openapi_3_1():
    spec = document()

    validate(spec)
    assert spec["openapi"].startswith("3.1.")


def test_the_documents_examples_match_its_own_schemas():
    spec = document()
    examples = []
    for name, schema in spec["components"]["schemas"].items():
        examples += [(f"schema {name}", schema, example) for example in schema.get("examples", [])]
    for path, method, operation, parameters in operations(spec):
        for parameter in parameters:
            found = [parameter["example"]] if "example" in parameter else []
            found += [example["value"] for example in parameter.get("examples", {}).values()]
            examples += [(f"{method.upper()} {path} {parameter['name']}", parameter["schema"], example) for example in found]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        examples += [(f"{method.upper()} {path} body {name}", body["schema"], example["value"]) for name, example in body.get("examples", {}).items()]

    for where, schema, example in examples:
        errors = [error.message for error in schema_validator(spec, schema).iter_errors(example)]
        assert errors == [], f"{where}: {example!r}"
    assert len(examples) >= 8


def test_the_server_serves_the_document_from_the_repository(kaiwa):
    status, headers, body = request(kaiwa, "get", "/openapi.json")

    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == document()


def test_every_route_that_needs_sign_in_answers_the_documented_401_without_credentials(auth_kaiwa):
    spec = document()
    checked = []
    for path, method, operation, parameters in operations(spec):
        concrete = path.replace("{id}", "some-session").replace("{path}", "app.js")
        body = b"{}" if method == "post" else None
        headers = {"Content-Type": "application/json"} if body else {}
        status, response_headers, content = request(auth_kaiwa, method, concrete, headers, body)
        if operation.get("security") == []:
            assert status != 401, f"{method.upper()} {path} is documented as open but asked for credentials"
            continue
        assert status == 401, f"{method.upper()} {path}: {status} {content[:200]!r}"
        assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"
        response_validator(spec, path, method, 401).validate(json.loads(content))
        assert response_headers["WWW-Authenticate"].startswith("Bearer")
        checked.append(f"{method.upper()} {path}")
    assert "POST /v1/chat/completions" in checked and "GET /api/sessions" in checked


def test_a_rate_limited_request_matches_the_documented_429(auth_kaiwa):
    spec = document()
    key = auth_kaiwa.create_api_key("eager")
    answers = [request(auth_kaiwa, "get", "/api/me", {"X-API-Key": key}) for _ in range(3)]
    answers += [request(auth_kaiwa, "get", "/v1/models", {"Authorization": f"Bearer {key}"})]

    for status, headers, body in answers[2:]:
        assert status == 429
        assert int(headers["Retry-After"]) >= 1
    response_validator(spec, "/api/me", "get", 429).validate(json.loads(answers[2][2]))
    response_validator(spec, "/v1/models", "get", 429).validate(json.loads(answers[3][2]))


def test_schemathesis_finds_no_server_error_and_no_response_the_document_does_not_describe(healthy_kaiwa, tmp_path):
    """Schemathesis generates requests for every operation (valid ones, and invalid ones in
    every way the document allows it to think of), in its examples, coverage, fuzzing and
    stateful phases, and checks each answer: no 5xx, a status the document lists, a body
    (JSON, or each Server-Sent Event's `data`) that matches the documented schema.

    Left out: `GET /ws`, the WebSocket upgrade, which an HTTP client cannot exercise (its
    frames are described by WebSocketClientFrame and WebSocketServerFrame, and tested by the
    Swift and browser tests). The server runs with sign-in off (`auth.mode=none`), so 401 and
    429 are checked by the tests above instead."""
    started = time.monotonic()
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", healthy_kaiwa.url + "openapi.json",
        "--url", healthy_kaiwa.url.rstrip("/"),
        "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance",
        "--exclude-path", "/ws",
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",  # hypothesis is not thread-safe on Python 3.11 (its lambda descriptions)
        "--seed", "20261203",
        "--generation-database", "none",
        # An event stream is read until it ends or this many seconds pass (schemathesis does not
        # count a stream that goes on as a failure; test_resume.py checks that resumes end).
        "--request-timeout", "5",
        "--no-color",
    ]
    # Schemathesis keeps a cache folder in its working directory: a temporary one, not the repository.
    # The time grows with the budget: allow 15 minutes, and more for a larger budget.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=max(900, 60 * MAX_EXAMPLES))

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found problems ({time.monotonic() - started:.0f} s):\n{output[-20000:]}"
    assert "passed" in output
    # Shown for a passed test with `pytest -rP` (bench/fuzz.sh): schemathesis' summary.
    print(f"schemathesis, {MAX_EXAMPLES} examples, {time.monotonic() - started:.0f} s:\n{output[-6000:]}")
