#!/usr/bin/env python3
"""Signs what a gateway or a calling service sends, and prints a Data API request body.

The README's walk-through ("Zero trust: verified identity") pipes it into curl:

    python3 examples/identity/sign.py context '{"id": "10001", "roles": ["customer"]}' \
        --input '{"action": "view", "resource": {"owner": "10001"}}' \
      | curl -s localhost:8181/v1/data/orders/decision -d @-

    python3 examples/identity/sign.py service order-service --input '{"action": "initiate"}' \
      | curl -s localhost:8181/v1/data/payment/decision -d @-

--forge signs with a guessed secret instead of the real one, --secret FILE with another
secret file, --age SECONDS in the past (negative: in the future). Only the standard library
is needed.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def read_secret(path):
    with open(path, "rb") as f:
        return f.read().rstrip()


def user_context_headers(secret, context, now):
    """The gateway: the context exactly as sent, when, and HMAC-SHA256 over both."""
    timestamp = str(int(now))
    signature = hmac.new(secret, f"{timestamp}.{context}".encode(), hashlib.sha256).hexdigest()
    return {
        "x-user-context": context,
        "x-user-context-timestamp": timestamp,
        "x-user-context-signature": signature,
    }


def service_token(secret, service, instance, now, lifetime=300):
    """A calling service: base64(JSON claims) "." hex HMAC-SHA256 over the base64 text."""
    claims = {"service": service, "instance": instance,
              "issuedAt": int(now), "expiresAt": int(now) + lifetime}
    payload = base64.b64encode(json.dumps(claims).encode()).decode()
    signature = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["context", "service"])
    parser.add_argument("value", help="the user context (JSON) or the calling service's name")
    parser.add_argument("--input", default="{}", help="the rest of the input document (JSON)")
    parser.add_argument("--secret", help="secret file (default: the example's)")
    parser.add_argument("--forge", action="store_true", help="sign with a guessed secret")
    parser.add_argument("--age", type=float, default=0, help="sign this many seconds ago")
    parser.add_argument("--instance", default="order-7d9f")
    args = parser.parse_args()

    now = time.time() - args.age
    document = json.loads(args.input)
    headers = document.setdefault("headers", {})
    default = "user-context.secret" if args.kind == "context" else "service-token.secret"
    secret = read_secret(args.secret or os.path.join(HERE, default))
    if args.forge:
        secret = b"guessed-secret"
    if args.kind == "context":
        headers.update(user_context_headers(secret, args.value, now))
    else:
        headers["x-service-auth"] = service_token(secret, args.value, args.instance, now)
    json.dump({"input": document}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
