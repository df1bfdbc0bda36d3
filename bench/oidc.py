"""A minimal OIDC provider for bench/auth.sh: serves a discovery document and a JWKS with one
RSA key on a loopback port, and prints a valid access token (an hour long) on its first line
of output, then its issuer URL. Usage: python3 bench/oidc.py PORT CLIENT_ID"""

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

port, client_id = int(sys.argv[1]), sys.argv[2]
issuer = f"http://127.0.0.1:{port}"
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def number(value):
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def token(claims):
    header = b64(json.dumps({"alg": "RS256", "kid": "bench", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64(signature)}"


numbers = key.public_key().public_numbers()
documents = {
    "/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": issuer + "/jwks.json"},
    "/jwks.json": {"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "n": number(numbers.n), "e": number(numbers.e)}]},
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(documents.get(self.path, {})).encode()
        self.send_response(200 if self.path in documents else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
now = int(time.time())
print(token({"iss": issuer, "sub": "bench-user", "client_id": client_id, "token_use": "access", "iat": now, "exp": now + 3600}))
print(issuer, flush=True)
server.serve_forever()
