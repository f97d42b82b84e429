#!/usr/bin/python3
"""A tiny OAuth2 token endpoint for the rig's refresh-token tests (loopback only).

  token_endpoint.py serve --port 2599 --key-file K --email E \
      --client-id C --client-secret S --refresh-token R [--log FILE]
  token_endpoint.py mint --key-file K --email E --exp UNIX_TIME

POST /token with the form grant_type=refresh_token&refresh_token=R&client_id=C
&client_secret=S (client credentials may also come as HTTP Basic, RFC 6749
2.3.1) answers 200 {"access_token": JWT, "token_type": "Bearer",
"expires_in": 3600}; anything else gets 400 {"error": "invalid_grant"}.
GET /count returns how many POST /token requests were made since start (good
or bad), as a decimal number: tests compare it before and after to see that a
refresh happened (other tests may bump it too, so compare with >).

The access token is a JWT (HS256) signed with Dovecot's local validation key,
so the Postfix/Dovecot XOAUTH2 and OAUTHBEARER code is what accepts it: this
script only hands out credentials, it never judges them.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import logging
import secrets
import threading
import time
import urllib.parse

LIFETIME = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def mint(key_b64: str, email: str, exp: int) -> str:
    """Dovecot's oauth2 passdb (introspection_mode=local) checks the signature,
    exp/iat/nbf, and that the `email` claim equals the SASL user."""
    key = base64.b64decode(key_b64)
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    # iat a minute back: a clock step between here and Dovecot must not make
    # a fresh token "issued in the future".
    claims = {"sub": email, "email": email, "iat": int(time.time()) - 60, "exp": exp}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = b64url(hmac.new(key, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def read_key(path: str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "smtp-rig-token-endpoint/1"
    cfg = None  # argparse namespace, set in serve()
    count = 0
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # the default writes to stderr
        logging.info("%s %s", self.address_string(), fmt % args)

    def reply(self, status, body, ctype="application/json"):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/count":
            with Handler.lock:
                n = Handler.count
            self.reply(200, f"{n}\n", "text/plain")
        else:
            self.reply(404, json.dumps({"error": "not_found"}))

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/token":
            self.reply(404, json.dumps({"error": "not_found"}))
            return
        with Handler.lock:
            Handler.count += 1
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                dec = base64.b64decode(auth[6:].strip()).decode("utf-8")
                cid, _, csec = dec.partition(":")
                client_id = urllib.parse.unquote_plus(cid)
                client_secret = urllib.parse.unquote_plus(csec)
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = None
        cfg = Handler.cfg
        # One answer for every mismatch: tests only need "refused".
        good = (form.get("grant_type") == "refresh_token"
                and secrets.compare_digest(client_id or "", cfg.client_id)
                and secrets.compare_digest(client_secret or "", cfg.client_secret)
                and secrets.compare_digest(form.get("refresh_token") or "", cfg.refresh_token))
        if not good:
            self.reply(400, json.dumps({"error": "invalid_grant"}))
            return
        # Read the key on every request: start.sh may have made a new one.
        token = mint(read_key(cfg.key_file), cfg.email, int(time.time()) + LIFETIME)
        self.reply(200, json.dumps({"access_token": token, "token_type": "Bearer",
                                    "expires_in": LIFETIME}))


def serve(a):
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit("refusing to listen on a non-loopback address")
    logging.basicConfig(filename=a.log, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    Handler.cfg = a
    httpd = http.server.ThreadingHTTPServer((a.host, a.port), Handler)
    logging.info("token endpoint on http://%s:%d/token", a.host, a.port)
    httpd.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--key-file", required=True)
    s.add_argument("--email", required=True)
    s.add_argument("--client-id", required=True)
    s.add_argument("--client-secret", required=True)
    s.add_argument("--refresh-token", required=True)
    s.add_argument("--log", default=None)
    m = sub.add_parser("mint")
    m.add_argument("--key-file", required=True)
    m.add_argument("--email", required=True)
    m.add_argument("--exp", type=int, required=True)
    a = ap.parse_args()
    if a.cmd == "mint":
        print(mint(read_key(a.key_file), a.email, a.exp), end="")
    else:
        serve(a)


if __name__ == "__main__":
    main()
