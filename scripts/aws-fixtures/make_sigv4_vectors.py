"""Writes SigV4 signing vectors computed by botocore (the reference implementation) to
Tests/KaiwaTests/Fixtures/sigv4-vectors.json. Kaiwa's Swift signer must reproduce every
signature exactly. Run: python3 scripts/aws-fixtures/make_sigv4_vectors.py
"""
import datetime, json, pathlib
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FIXED = datetime.datetime(2026, 11, 21, 7, 30, 15, tzinfo=datetime.timezone.utc)
KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

CASES = [
    dict(name="bedrock converse-stream, model id with a colon, session token",
         method="POST", url="https://bedrock-runtime.ap-northeast-1.amazonaws.com/model/apac.amazon.nova-micro-v1%3A0/converse-stream",
         headers={"Content-Type": "application/json", "Accept": "application/vnd.amazon.eventstream"},
         body='{"messages":[{"role":"user","content":[{"text":"こんにちは"}]}]}',
         region="ap-northeast-1", service="bedrock", token="IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="),
    dict(name="bedrock converse without a session token",
         method="POST", url="https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse",
         headers={"Content-Type": "application/json"}, body='{"messages":[]}',
         region="us-east-1", service="bedrock", token=None),
    dict(name="dynamodb json 1.0 with a target header",
         method="POST", url="https://dynamodb.ap-northeast-1.amazonaws.com/",
         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"},
         body='{"TableName":"ChatHistory","Item":{"sessionId":{"S":"abc"}}}',
         region="ap-northeast-1", service="dynamodb", token="session-token-value"),
    dict(name="get with a sorted query string and repeated keys",
         method="GET", url="https://example.us-west-2.amazonaws.com/path/to/thing?b=2&a=1&a=0&c=x%20y",
         headers={"X-Custom": "  spaced    out   value  "}, body="",
         region="us-west-2", service="execute-api", token=None),
    dict(name="path with characters that need encoding",
         method="PUT", url="https://example.eu-central-1.amazonaws.com/a%20b/%E3%81%82/c~d/e_f.g-h",
         headers={"Content-Type": "text/plain; charset=utf-8"}, body="hello",
         region="eu-central-1", service="s3express", token=None),
    dict(name="local endpoint with a port, empty body",
         method="POST", url="http://127.0.0.1:4566/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
         body="", region="ap-northeast-1", service="secretsmanager", token="tok"),
    dict(name="delete with a large body",
         method="DELETE", url="https://example.ap-southeast-2.amazonaws.com/items/42",
         headers={}, body="x" * 70000, region="ap-southeast-2", service="execute-api", token=None),
]


def sign(case):
    request = AWSRequest(method=case["method"], url=case["url"], headers=dict(case["headers"]), data=case["body"].encode())
    credentials = Credentials(KEY, SECRET, case["token"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED.replace(tzinfo=None)):
        botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    return {name: value for name, value in request.headers.items()}


vectors = []
for case in CASES:
    signed = sign(case)
    vectors.append(dict(
        name=case["name"], method=case["method"], url=case["url"], headers=case["headers"], body=case["body"],
        region=case["region"], service=case["service"], accessKeyID=KEY, secretAccessKey=SECRET,
        sessionToken=case["token"], date=FIXED.strftime("%Y%m%dT%H%M%SZ"),
        expected={"Authorization": signed["Authorization"], "X-Amz-Date": signed["X-Amz-Date"],
                  "X-Amz-Security-Token": signed.get("X-Amz-Security-Token")},
    ))

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/KaiwaTests/Fixtures/sigv4-vectors.json"
out.write_text(json.dumps(vectors, ensure_ascii=False, indent=1) + "\n")
print(f"wrote {len(vectors)} vectors to {out}")
