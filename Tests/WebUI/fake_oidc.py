"""A small OpenID Connect provider for the browser tests, shaped like Amazon Cognito's
hosted UI: discovery, JWKS, `/oauth2/authorize` (a login form), `/oauth2/token` and `/logout`.

    discovery   /.well-known/openid-configuration (no end_session_endpoint, as Cognito's;
                `end_session_endpoint` can be set to name one)
    JWKS        /.well-known/jwks.json: one RSA key made at start (RS256); `rotate_key()`
                replaces it, so tokens signed before no longer verify
    authorize   GET shows a form (a username and a button) unless the browser has signed in
                before (a cookie, as the hosted UI keeps one); its POST, or that cookie,
                redirects to `redirect_uri` with `code` and `state`. Needs `response_type=code`,
                the client id, a loopback `redirect_uri` and a PKCE S256 `code_challenge`.
    token       `authorization_code` (the code once, the same client and redirect_uri, the
                PKCE verifier) and `refresh_token` (a new ID and access token, the refresh
                token kept, as Cognito does). Answers with CORS headers, as Cognito does.
    logout      `/logout?client_id=…&logout_uri=…` forgets the browser's sign-in and redirects

Tokens are Cognito-like: the access token has `iss`, `sub`, `client_id`, `token_use=access`,
`scope`, `username`, `iat`, `exp` and no `name`; the ID token has `aud` = the client id,
`token_use=id`, `name`, `email`, `cognito:username` and the `nonce`. Both live `expires_in`
seconds (set it before a sign-in to test refreshing).
"""

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_ID = "kaiwa-web-test-client"
COOKIE = "fake_oidc_user"
CODE_LIFETIME_SECONDS = 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_uint(number):
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class FakeOIDC:
    """Serves the provider on a free loopback port in a background thread."""

    def __init__(self, client_id=CLIENT_ID):
        self.client_id = client_id
        self.expires_in = 3600
        self.end_session_endpoint = None
        self.refresh_fails = False  # the token endpoint refuses every refresh token (invalid_grant)
        self.lock = threading.Lock()
        self.codes = {}  # code -> what the authorize request asked for
        self.refresh_tokens = {}  # refresh token -> username
        self.token_requests = []  # (grant_type, ok) in order
        self.authorize_requests = []  # the query of each GET /oauth2/authorize
        self.logouts = []  # the query of each GET /logout
        self.issued_access_tokens = []
        self.rotate_key()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- what tests change and read ----

    def rotate_key(self):
        """A new signing key under a new key id; the old one is no longer published."""
        with self.lock:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.kid = f"test-{secrets.token_hex(4)}"

    def grants(self, grant_type, ok=True):
        """How many token requests of this grant type got tokens (`ok`) or an error."""
        with self.lock:
            return sum(1 for grant, succeeded in self.token_requests if grant == grant_type and succeeded == ok)

    @staticmethod
    def subject_of(username):
        """The stable `sub` a username signs in as."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-oidc:{username}"))

    @staticmethod
    def display_name(username):
        return f"{username.capitalize()} Example"

    # ---- documents ----

    def discovery(self):
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "userinfo_endpoint": f"{self.issuer}/oauth2/userInfo",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        if self.end_session_endpoint:
            document["end_session_endpoint"] = self.end_session_endpoint
        return document

    def jwks(self):
        with self.lock:
            numbers = self.key.public_key().public_numbers()
            kid = self.kid
        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                          "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}]}

    # ---- tokens ----

    def sign(self, claims):
        with self.lock:
            key, kid = self.key, self.kid
        header = {"alg": "RS256", "kid": kid, "typ": "JWT"}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def tokens(self, username, nonce=None, refresh_token=None):
        now = int(time.time())
        sub = self.subject_of(username)
        lifetime = int(self.expires_in)
        access = self.sign({
            "iss": self.issuer, "sub": sub, "client_id": self.client_id, "token_use": "access",
            "scope": "openid email profile", "username": username, "auth_time": now,
            "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4()), "origin_jti": str(uuid.uuid4()),
        })
        id_claims = {
            "iss": self.issuer, "sub": sub, "aud": self.client_id, "token_use": "id",
            "name": self.display_name(username), "email": f"{username}@example.com", "email_verified": True,
            "cognito:username": username, "auth_time": now, "iat": now, "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
        if nonce:
            id_claims["nonce"] = nonce
        answer = {"id_token": self.sign(id_claims), "access_token": access, "expires_in": lifetime, "token_type": "Bearer"}
        if refresh_token is None:
            # Cognito's refresh tokens are opaque (an encrypted JWT); this one is a random string.
            answer["refresh_token"] = secrets.token_urlsafe(48)
            with self.lock:
                self.refresh_tokens[answer["refresh_token"]] = username
        with self.lock:
            self.issued_access_tokens.append(access)
        return answer

    def record(self, grant_type, ok):
        with self.lock:
            self.token_requests.append((grant_type, ok))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass


LOGIN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Fake identity provider</title></head>
<body>
<h1>Sign in to the fake identity provider</h1>
<form method="post" action="/oauth2/authorize">
{hidden}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<button type="submit" id="fake-sign-in">Sign in</button>
</form>
</body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, *args):
        pass

    # ---- routing ----

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/.well-known/openid-configuration":
            return self.send_json(200, self.fake.discovery())
        if parts.path == "/.well-known/jwks.json":
            return self.send_json(200, self.fake.jwks())
        if parts.path == "/oauth2/authorize":
            return self.authorize(query)
        if parts.path == "/logout":
            return self.logout(query)
        return self.send_json(404, {"error": "not_found"})

    def do_POST(self):
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        if parts.path == "/oauth2/authorize":
            return self.sign_in(form)
        if parts.path == "/oauth2/token":
            return self.token(form)
        return self.send_json(404, {"error": "not_found"})

    def do_OPTIONS(self):
        # A browser asks before a cross-origin POST that is not a simple request.
        self.send_response(204)
        self.cors_headers()
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---- the hosted UI ----

    def authorize(self, query):
        with self.fake.lock:
            self.fake.authorize_requests.append(dict(query))
        problem = self.check_authorize(query)
        if problem:
            return self.send_text(400, problem)
        username = self.cookie_user()
        if username:
            return self.redirect_with_code(query, username)
        hidden = "\n".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                           for k, v in query.items())
        self.send_text(200, LOGIN_PAGE.format(hidden=hidden), content_type="text/html; charset=utf-8")

    def check_authorize(self, query):
        if query.get("response_type") != "code":
            return "response_type must be code"
        if query.get("client_id") != self.fake.client_id:
            return "unknown client_id"
        redirect = urlsplit(query.get("redirect_uri", ""))
        if redirect.scheme != "http" or redirect.hostname not in ("127.0.0.1", "localhost"):
            return "redirect_uri is not registered"
        if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            return "PKCE with S256 is required"
        if "openid" not in query.get("scope", "").split():
            return "the scope must include openid"
        return None

    def sign_in(self, form):
        problem = self.check_authorize(form)
        if problem:
            return self.send_text(400, problem)
        username = form.get("username", "").strip()
        if not username:
            return self.send_text(400, "a username is needed")
        self.redirect_with_code(form, username, set_cookie=True)

    def redirect_with_code(self, request, username, set_cookie=False):
        code = secrets.token_urlsafe(24)
        with self.fake.lock:
            self.fake.codes[code] = {
                "client_id": request["client_id"], "redirect_uri": request["redirect_uri"],
                "challenge": request["code_challenge"], "nonce": request.get("nonce"),
                "username": username, "created": time.monotonic(),
            }
        answer = {"code": code}
        if "state" in request:
            answer["state"] = request["state"]
        self.send_response(302)
        self.send_header("Location", f"{request['redirect_uri']}?{urlencode(answer)}")
        if set_cookie:
            self.send_header("Set-Cookie", f"{COOKIE}={username}; Path=/; HttpOnly; SameSite=Lax")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def logout(self, query):
        with self.fake.lock:
            self.fake.logouts.append(dict(query))
        if query.get("client_id") != self.fake.client_id:
            return self.send_text(400, "unknown client_id")
        target = query.get("logout_uri") or query.get("post_logout_redirect_uri")
        if not target:
            return self.send_text(400, "logout_uri is required")
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def cookie_user(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and value:
                return value
        return None

    # ---- the token endpoint ----

    def token(self, form):
        grant = form.get("grant_type")
        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return self.token_error(grant, 400, "invalid_request")
        if form.get("client_id") != self.fake.client_id:
            return self.token_error(grant, 400, "invalid_client")
        if grant == "authorization_code":
            with self.fake.lock:
                request = self.fake.codes.pop(form.get("code", ""), None)  # a code works once
            if request is None or time.monotonic() - request["created"] > CODE_LIFETIME_SECONDS:
                return self.token_error(grant, 400, "invalid_grant")
            if request["client_id"] != form.get("client_id") or request["redirect_uri"] != form.get("redirect_uri"):
                return self.token_error(grant, 400, "invalid_grant")
            verifier = form.get("code_verifier", "")
            if not 43 <= len(verifier) <= 128 or b64url(hashlib.sha256(verifier.encode()).digest()) != request["challenge"]:
                return self.token_error(grant, 400, "invalid_grant")
            answer = self.fake.tokens(request["username"], nonce=request["nonce"])
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            with self.fake.lock:
                username = self.fake.refresh_tokens.get(token)
            if username is None or self.fake.refresh_fails:
                return self.token_error(grant, 400, "invalid_grant")
            answer = self.fake.tokens(username, refresh_token=token)
        else:
            return self.token_error(grant, 400, "unsupported_grant_type")
        self.fake.record(grant, True)
        self.send_json(200, answer, cors=True)

    def token_error(self, grant, status, error):
        self.fake.record(grant, False)
        self.send_json(status, {"error": error}, cors=True)

    # ---- answers ----

    def cors_headers(self):
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def send_json(self, status, value, cors=False):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        if cors:
            self.cors_headers()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, status, text, content_type="text/plain; charset=utf-8"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    fake = FakeOIDC().start()
    print(fake.discovery_url, flush=True)
    threading.Event().wait()
