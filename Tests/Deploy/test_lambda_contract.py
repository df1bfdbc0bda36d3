"""Kaiwa started the way deploy/api-gateway.yaml starts it on Lambda, driven the way the
Lambda Web Adapter drives it: the function's environment from the template (parameters filled
in; the model is the offline `rules` one and DynamoDB is moto_server), readiness polled on
AWS_LWA_READINESS_CHECK_PATH, HTTP events as requests carrying `x-amzn-request-context`, and
WebSocket events (the `$connect` authorizer, `$connect`, `$disconnect`) POSTed as they are to
AWS_LWA_PASS_THROUGH_PATH."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
KAIWA = os.environ.get("KAIWA_BIN", str(REPO / ".build/debug/kaiwa"))
PREFIX = "contract-"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resolve(node, parameters):
    """The few intrinsic functions the function's environment uses, with `parameters`."""
    if isinstance(node, dict) and len(node) == 1:
        (name, value), = node.items()
        if name == "Ref":
            return parameters.get(value, None) if value != "AWS::NoValue" else None
        if name == "Fn::Sub":
            text, names = (value, {}) if isinstance(value, str) else value
            for key, replacement in {**parameters, **names}.items():
                text = text.replace("${" + key + "}", str(resolve(replacement, parameters)))
            return text
        if name == "Fn::Join":
            items = resolve(value[1], parameters)
            return value[0].join(items if isinstance(items, list) else [items])
        if name == "Fn::If":
            return resolve(value[1] if parameters["conditions"][value[0]] else value[2], parameters)
        if name == "Fn::GetAtt":
            return parameters["outputs"][value if isinstance(value, str) else ".".join(value)]
    return node


def request(url, body=None, headers=None, method=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def moto():
    port = free_port()
    process = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait()


@pytest.fixture(scope="module")
def lambda_kaiwa(moto, tmp_path_factory):
    template, _ = decode(str(REPO / "deploy/api-gateway.yaml"))
    variables = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    port = free_port()
    parameters = {
        "TablePrefix": PREFIX, "BedrockModelId": "apac.amazon.nova-micro-v1:0", "AgentProfile": "confee",
        "ConnpassSecretName": "confee/connpass-api-key", "KaiwaAuthMode": "api-key", "CognitoUserPoolId": "",
        "CognitoClientIds": [""], "CorsAllowedOrigins": ["https://d111111abcdef8.cloudfront.net"],
        "AWS::Region": "ap-northeast-1",
        "conditions": {"HasAgentProfile": True, "HasCognito": False, "SignInOn": True},
        "outputs": {"Attachments.Outputs.BucketName": "kaiwa-contract-files"},
    }
    env = {name: resolve(value, parameters) for name, value in variables.items()}
    env = {name: value for name, value in env.items() if value is not None}
    assert env["KAIWA_MODEL"] == "bedrock:apac.amazon.nova-micro-v1:0"
    aws = {
        "AWS_LAMBDA_FUNCTION_NAME": "kaiwa-contract", "AWS_REGION": "ap-northeast-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL_DYNAMODB": moto,
        "AWS_ENDPOINT_URL_S3": moto,
        "PATH": os.environ["PATH"], "HOME": str(tmp_path_factory.mktemp("home")),
    }
    # What differs from Lambda: a free port instead of 8080 (for both the adapter and Kaiwa),
    # and the offline model instead of Bedrock.
    env.update(aws, KAIWA_PORT=str(port), AWS_LWA_PORT=str(port), KAIWA_MODEL="rules", KAIWA_WEB_ROOT=str(REPO / "web"))
    subprocess.run([KAIWA, "store", "create-tables"], env=env, check=True, capture_output=True)
    key = subprocess.run([KAIWA, "keys", "create", "--user", "alice"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    log = open(tmp_path_factory.mktemp("log") / "kaiwa.log", "w")
    started = time.monotonic()
    process = subprocess.Popen([KAIWA, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['AWS_LWA_PORT']}"
    # The adapter's readiness check: GET the path until it answers.
    ready = None
    while time.monotonic() - started < 20 and process.poll() is None:
        try:
            if urllib.request.urlopen(base + env["AWS_LWA_READINESS_CHECK_PATH"], timeout=1).status == 200:
                ready = time.monotonic() - started
                break
        except OSError:
            time.sleep(0.02)
    assert ready is not None, f"not ready; log: {Path(log.name).read_text()}"
    yield {"base": base, "env": env, "key": key, "log": Path(log.name), "ready_seconds": ready}
    process.terminate()
    process.wait(timeout=20)
    log.close()


HTTP_EVENT = {
    # What the adapter adds to a request that came as an HTTP event (API Gateway REST here).
    "x-amzn-request-context": json.dumps({"stage": "prod", "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9"}}),
    "x-amzn-lambda-context": json.dumps({"request_id": "l-1", "invoked_function_arn": "arn:aws:lambda:ap-northeast-1:123456789012:function:kaiwa"}),
}


def test_http_events_reach_kaiwa_with_its_own_sign_in(lambda_kaiwa):
    base, key = lambda_kaiwa["base"], lambda_kaiwa["key"]
    status, _ = request(base + "/chat", {"message": "こんにちは"}, headers=HTTP_EVENT)
    assert status == 401
    status, body = request(base + "/chat", {"message": "こんにちは", "session_id": "contract-1"}, headers={**HTTP_EVENT, "Authorization": f"Bearer {key}"})
    assert status == 200, body
    assert json.loads(body)["response"]
    status, body = request(base + "/api/agents", headers={**HTTP_EVENT, "Authorization": f"Bearer {key}"})
    assert json.loads(body)["default_agent"] == "confee"  # the AgentProfile parameter


def test_logs_are_json_lines_with_the_start_up_time(lambda_kaiwa):
    lines = [json.loads(line) for line in lambda_kaiwa["log"].read_text().splitlines() if line.startswith("{")]
    ready = [line for line in lines if "startup_ms" in json.dumps(line)]
    assert ready, lambda_kaiwa["log"].read_text()[:2000]


def websocket_event(route, connection, principal=None):
    context = {"routeKey": route, "connectionId": connection, "eventType": "CONNECT" if route == "$connect" else "DISCONNECT",
               "domainName": "abc.execute-api.ap-northeast-1.amazonaws.com", "stage": "prod"}
    if principal:
        context["authorizer"] = {"principalId": principal, "name": principal, "method": "api_key"}
    return {"requestContext": context, "isBase64Encoded": False}


def connections_table(moto):
    dynamodb = boto3.resource("dynamodb", endpoint_url=moto, region_name="ap-northeast-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return dynamodb.Table(PREFIX + "Connections")


def test_websocket_events_pass_through_to_the_configured_path(lambda_kaiwa, moto):
    base, env, key = lambda_kaiwa["base"], lambda_kaiwa["env"], lambda_kaiwa["key"]
    events = base + env["AWS_LWA_PASS_THROUGH_PATH"]
    arn = "arn:aws:execute-api:ap-northeast-1:123456789012:abc/prod/$connect"

    def authorize(ticket):
        event = {"type": "REQUEST", "methodArn": arn, "requestContext": {"routeKey": "$connect", "connectionId": "cx=", "eventType": "CONNECT"}}
        if ticket:
            event["queryStringParameters"] = {"ticket": ticket}
        status, body = request(events, event)
        assert status == 200, body
        return json.loads(body)

    denied = authorize(None)
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    status, body = request(base + "/api/auth/ticket", b"", headers={**HTTP_EVENT, "Authorization": f"Bearer {key}"}, method="POST")
    ticket = json.loads(body)["ticket"]
    allowed = authorize(ticket)
    assert allowed["principalId"] == "alice"
    assert allowed["policyDocument"]["Statement"][0] == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}

    status, body = request(events, websocket_event("$connect", "cx=", principal="alice"))
    assert (status, json.loads(body)) == (200, {"statusCode": 200})
    record = connections_table(moto).get_item(Key={"connectionId": "cx="}, ConsistentRead=True)["Item"]
    assert 24 * 3600 - 120 <= int(record["expireAt"]) - time.time() <= 24 * 3600 + 5

    status, body = request(events, websocket_event("$disconnect", "cx=", principal="alice"))
    assert (status, json.loads(body)) == (200, {"statusCode": 200})
    assert "Item" not in connections_table(moto).get_item(Key={"connectionId": "cx="}, ConsistentRead=True)

    # The same path asked for through the REST API's {proxy+} is not an event.
    status, _ = request(events, websocket_event("$connect", "cy=", principal="alice"), headers=HTTP_EVENT)
    assert status == 404
