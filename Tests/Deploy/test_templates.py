"""The AWS deploy templates in deploy/: each lints clean with cfn-lint, the DynamoDB tables in
deploy/nested/tables.yaml are the ones the code defines (`kaiwa store tables`), the IAM policy
grants what the code calls and nothing broader, every KAIWA_ variable a template sets is a
documented setting, and the web stack's Content-Security-Policy is the page's own."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SERVER_SHAPES = ["lambda-function-url", "api-gateway", "ecs-fargate", "agentcore"]
ALL_TEMPLATES = sorted(DEPLOY.glob("*.yaml")) + sorted((DEPLOY / "nested").glob("*.yaml"))


def load(path):
    template, matches = decode(str(path))
    assert not matches, f"{path.name} does not parse: {matches}"
    return template


def kaiwa_binary():
    return os.environ.get("KAIWA_BIN", str(REPO / ".build/debug/kaiwa"))


def walk(node):
    """Every dict and list inside a template, depth first."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_shape_of_the_seeds_has_a_template():
    names = {path.stem for path in DEPLOY.glob("*.yaml")}
    assert names == {*SERVER_SHAPES, "web"}


@pytest.mark.parametrize("path", ALL_TEMPLATES, ids=lambda p: p.name)
def test_template_lints_clean(path):
    run = subprocess.run(["cfn-lint", "--format", "parseable", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def code_tables():
    out = subprocess.run([kaiwa_binary(), "store", "tables"], capture_output=True, text=True, check=True).stdout
    return {table["TableName"]: table for table in json.loads(out)}


def comparable(table):
    """The parts of a table definition that must agree, in an order-free form."""
    ttl = table.get("TimeToLiveSpecification") or {}
    return {
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "keys": [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]],
        "billing": table.get("BillingMode"),
        "indexes": sorted(
            (i["IndexName"], tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in table.get("GlobalSecondaryIndexes", [])
        ),
        "ttl": (ttl.get("AttributeName"), ttl.get("Enabled")),
    }


def test_tables_template_defines_exactly_the_tables_the_code_uses():
    expected = code_tables()
    resources = load(DEPLOY / "nested/tables.yaml")["Resources"]
    found = {}
    for name, resource in resources.items():
        assert resource["Type"] == "AWS::DynamoDB::Table", name
        assert resource.get("DeletionPolicy") == "Retain", f"{name}: history must outlive the stack"
        properties = resource["Properties"]
        table_name = properties["TableName"]["Fn::Sub"]
        assert table_name.startswith("${TablePrefix}"), f"{name}: {table_name}"
        found[table_name.removeprefix("${TablePrefix}")] = properties
    assert sorted(found) == sorted(expected), "tables differ from `kaiwa store tables`"
    for name, table in expected.items():
        assert comparable(found[name]) == comparable(table), f"{name} drifted from the code's definition"


def test_a_changed_key_is_noticed_as_drift():
    """The comparison itself: a sort key of the wrong type does not pass."""
    table = code_tables()["ChatHistory"]
    changed = json.loads(json.dumps(table))
    changed["AttributeDefinitions"] = [
        {**a, "AttributeType": "S"} if a["AttributeName"] == "timestamp" else a for a in changed["AttributeDefinitions"]
    ]
    assert comparable(changed) != comparable(table)


def dynamodb_operations_the_server_calls():
    """DynamoDB operations named in the Swift sources, less the ones only `kaiwa store
    create-tables` (a deployment role's job) needs."""
    sources = "\n".join(p.read_text() for p in (REPO / "Sources").rglob("*.swift") if p.name != "S3Client.swift")
    named = set(re.findall(r'send\("([A-Za-z]+)"', sources))
    named |= set(re.findall(r'"(Query|Scan)"', sources))
    return named - {"CreateTable", "UpdateTimeToLive", "DescribeTimeToLive"}


def policy_statements():
    resource = load(DEPLOY / "nested/permissions.yaml")["Resources"]["Policy"]
    statements = []
    for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
        if "Fn::If" in statement:
            statement = statement["Fn::If"][1]
        statements.append(statement)
    return {s["Sid"]: s for s in statements}


def test_policy_allows_every_dynamodb_call_the_code_makes_on_its_own_tables_only():
    statements = policy_statements()
    tables = statements["KaiwaTables"]
    allowed = set(tables["Action"])
    # TransactWriteItems is authorised by its items' own actions.
    needed = {f"dynamodb:{op}" for op in dynamodb_operations_the_server_calls() - {"TransactWriteItems"}}
    needed |= {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
    assert needed <= allowed, f"the policy lacks {sorted(needed - allowed)}"
    assert not {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:*"} & allowed
    # Resources are the nested tables' ARNs and their indexes, nothing with a wildcard table.
    assert "*" not in json.dumps(tables["Resource"]).replace("/index/*", "")
    assert "TableArns" in json.dumps(tables["Resource"]) and "SessionIndexesArn" in json.dumps(tables["Resource"])


def test_policy_allows_bedrock_on_the_configured_model_and_one_secret():
    statements = policy_statements()
    bedrock = statements["BedrockConverse"]
    assert sorted(bedrock["Action"]) == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    resources = [r["Fn::Sub"] for r in bedrock["Resource"]]
    assert all(r.endswith("${BedrockModelId}") or r.endswith("${BedrockFoundationModelId}") for r in resources), resources
    secret = statements["ConnpassKey"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert secret["Resource"]["Fn::Sub"].endswith(":secret:${ConnpassSecretName}-??????")
    assert {s for s in statements} == {"BedrockConverse", "KaiwaTables", "KaiwaAttachments", "ConnpassKey"}


def test_attachments_are_objects_under_one_prefix_that_expire_with_retention():
    files = policy_statements()["KaiwaAttachments"]
    assert sorted(files["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert files["Resource"]["Fn::Sub"] == "${AttachmentBucketArn}/attachments/*"
    bucket = load(DEPLOY / "nested/attachments.yaml")["Resources"]["Bucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rule = bucket["LifecycleConfiguration"]["Rules"][0]
    assert rule["Prefix"] == "attachments/" and rule["ExpirationInDays"] == {"Ref": "RetentionDays"}
    # Every S3 call the server makes is allowed (HeadObject is authorised as GetObject); CreateBucket is set-up only.
    s3 = (REPO / "Sources/KaiwaAWS/S3Client.swift").read_text()
    called = set(re.findall(r'send\(\s*"([A-Za-z]+)"', s3)) - {"CreateBucket"}
    assert called == {"PutObject", "HeadObject", "GetObject", "DeleteObject"}
    assert {f"s3:{op}" for op in called - {"HeadObject"}} == set(files["Action"])
    # The prefix the policy and the lifecycle rule name is the one Kaiwa writes under by default.
    assert 'attachmentPrefix = "attachments/"' in (REPO / "Sources/KaiwaServer/Configuration/KaiwaConfiguration.swift").read_text()


@pytest.mark.parametrize("shape", SERVER_SHAPES)
def test_server_shape_uses_the_shared_tables_and_policy_and_no_wildcards(shape):
    template = load(DEPLOY / f"{shape}.yaml")
    resources = template["Resources"]
    locations = {r["Properties"].get("Location") for r in resources.values() if r["Type"] == "AWS::Serverless::Application"}
    assert locations == {"nested/tables.yaml", "nested/permissions.yaml", "nested/attachments.yaml"}
    text = json.dumps(resources)
    assert "Attachments.Outputs.BucketName" in text or '"Attachments", "Outputs.BucketName"' in text, f"{shape} does not tell Kaiwa its attachments bucket"
    assert "KAIWA_ATTACHMENTS_S3_BUCKET" in text
    assert "Permissions.Outputs.PolicyArn" in text or '"Permissions", "Outputs.PolicyArn"' in text
    for node in walk(resources):
        if isinstance(node, dict) and "Effect" in node and node.get("Effect") == "Allow":
            actions = node["Action"] if isinstance(node["Action"], list) else [node["Action"]]
            assert not any(a.endswith(":*") or a == "*" for a in actions), f"{shape}: {actions}"
            if node.get("Resource") == "*":
                assert actions == ["ecr:GetAuthorizationToken"], f"{shape}: {actions} on every resource"
            assert not any(a.startswith(("dynamodb:", "bedrock:")) for a in actions), f"{shape}: grants {actions} outside the shared policy"
    parameters = template["Parameters"]
    for name in ["BedrockModelId", "AgentProfile", "CognitoUserPoolId", "CognitoClientIds", "TablePrefix"]:
        assert name in parameters, f"{shape} has no {name} parameter"
    assert "KAIWA_STORE" in text and '"dynamodb"' in text


def kaiwa_variables(template):
    names = set()
    for node in walk(template["Resources"]):
        if isinstance(node, dict):
            names |= {k for k in node if isinstance(k, str) and k.startswith("KAIWA_")}
            if isinstance(node.get("Name"), str) and node["Name"].startswith("KAIWA_"):
                names.add(node["Name"])
    return names


@pytest.mark.parametrize("shape", SERVER_SHAPES)
def test_every_setting_a_template_gives_kaiwa_is_one_it_knows(shape):
    readme = (REPO / "README.md").read_text()
    documented = set(re.findall(r"`(KAIWA_[A-Z0-9_]+)`", readme))
    unknown = kaiwa_variables(load(DEPLOY / f"{shape}.yaml")) - documented
    assert not unknown, f"{shape} sets {sorted(unknown)}, which README's settings do not list"


def test_lambda_shapes_speak_the_web_adapters_contract():
    url = load(DEPLOY / "lambda-function-url.yaml")["Resources"]["Function"]["Properties"]
    env = url["Environment"]["Variables"]
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/ping"
    assert env["AWS_LWA_PORT"] == env["KAIWA_PORT"]
    assert url["FunctionUrlConfig"]["InvokeMode"] == "RESPONSE_STREAM"
    assert url["Architectures"] == ["arm64"]

    gateway = load(DEPLOY / "api-gateway.yaml")["Resources"]
    env = gateway["Function"]["Properties"]["Environment"]["Variables"]
    assert env["AWS_LWA_PASS_THROUGH_PATH"] == env["KAIWA_APIGW_WEBSOCKET_PATH"]
    assert gateway["WebSocketApi"]["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["Properties"]["RouteKey"] for r in gateway.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert routes == {"$connect", "$disconnect", "sendMessage", "$default"}
    paths = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in gateway["Function"]["Properties"]["Events"].values()}
    assert {("/chat", "POST"), ("/chat/stream", "POST"), ("/health", "GET")} <= paths
    settings = gateway["RestApi"]["Properties"]["MethodSettings"][0]
    assert "ThrottlingRateLimit" in settings and "ThrottlingBurstLimit" in settings


def test_agentcore_runtime_is_arm64_8080_with_jwt_and_authorization_passed_through():
    runtime = load(DEPLOY / "agentcore.yaml")["Resources"]["Runtime"]["Properties"]
    assert runtime["RequestHeaderConfiguration"]["RequestHeaderAllowlist"] == ["Authorization"]
    jwt = runtime["AuthorizerConfiguration"]["Fn::If"][1]["CustomJWTAuthorizer"]
    assert "/.well-known/openid-configuration" in jwt["DiscoveryUrl"]["Fn::Sub"]
    assert runtime["ProtocolConfiguration"] == "HTTP"


def test_fargate_runs_arm64_behind_a_load_balancer_that_waits_for_streams():
    resources = load(DEPLOY / "ecs-fargate.yaml")["Resources"]
    platform = resources["TaskDefinition"]["Properties"]["RuntimePlatform"]
    assert platform["CpuArchitecture"] == "ARM64"
    attributes = {a["Key"]: a["Value"] for a in resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    # Kaiwa keeps idle connections longer than the balancer, so the balancer never reuses a closed one.
    assert int(env["KAIWA_HTTP_IDLE_TIMEOUT"]) > int(attributes["idle_timeout.timeout_seconds"]) >= 60
    assert resources["TargetGroup"]["Properties"]["HealthCheckPath"] == "/ping"
    assert resources["CpuScaling"]["Properties"]["PolicyType"] == "TargetTrackingScaling"


def test_web_stack_sends_the_pages_own_content_security_policy():
    page = (REPO / "web/index.html").read_text()
    meta = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', page).group(1)
    resources = load(DEPLOY / "web.yaml")["Resources"]
    header = resources["HeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert header["ContentSecurityPolicy"] == meta + "; frame-ancestors 'none'"
    bucket = resources["Bucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(bucket.values())
    errors = resources["Distribution"]["Properties"]["DistributionConfig"]["CustomErrorResponses"]
    assert {(e["ErrorCode"], e["ResponsePagePath"]) for e in errors} == {(403, "/index.html"), (404, "/index.html")}
    code = resources["ConfigFunction"]["Properties"]["FunctionCode"]["Fn::Sub"]
    assert '"/ui/config.js"' in code and 'apiBaseUrl: "${ApiUrl}"' in code
