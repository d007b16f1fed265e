"""Writes tests/cases/builtins_tokens.yaml and tests/bundles/tokens/data.json.

Every expected answer in the YAML is what OPA itself returns: the cases are evaluated with OPA's
Go engine (PyPI `opa-golib-python-bindings`, OPA 1.20.2), whose `eval_document` uses strict
builtin errors. A case OPA answers with an error becomes two cases: `strict: true` with OPA's
error code, and the default mode, where OPA's rule is that builtin errors are undefined.

Tokens are signed here once (OPA's `io.jwt.encode_sign`, or Python's `cryptography` for tokens
OPA would not produce); ECDSA and PSS signatures are randomized, so a rerun rewrites them.
The tests never need OPA or Python. To regenerate:

    python3 -m venv target/oracle
    target/oracle/bin/pip install --ignore-requires-python opa-golib-python-bindings cryptography
    target/oracle/bin/python tests/cases/builtins_tokens.py
"""

import base64
import hashlib
import hmac
import json
import os
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from opa_bindings import OpaEngine, OpaError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = os.path.join(ROOT, "tests", "keys")
BUNDLE = os.path.join(ROOT, "tests", "bundles", "tokens")
OUT = os.path.join(ROOT, "tests", "cases", "builtins_tokens.yaml")

ISS = "https://idp.example.com"
Y2100 = 4102444800  # 2100-01-01T00:00:00Z
Y2001 = 978307200  # 2001-01-01T00:00:00Z
NOW = 1767225600  # 2026-01-01T00:00:00Z, the `time` most cases pass
NS = 1_000_000_000


def read(name):
    with open(os.path.join(KEYS, name)) as f:
        return f.read()


PRIVATE = json.loads(read("private_jwks.json"))
DATA = {
    "keys": {
        "rsa_public": read("rsa_public.pem"),
        "rsa_cert": read("rsa_cert.pem"),
        "rsa2_public": read("rsa2_public.pem"),
        "ec_public": read("ec_public.pem"),
        "ec_cert": read("ec_cert.pem"),
        "ec384_public": read("ec384_public.pem"),
        "ec521_public": read("ec521_public.pem"),
        "ed25519_public": read("ed25519_public.pem"),
        "rsa_private_pem": read("rsa_private.pem"),
        "jwks": read("jwks.json"),
    },
    "private": PRIVATE,
}


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def engine():
    e = OpaEngine()
    for name in ("tokens.rego", "authz.rego"):
        with open(os.path.join(BUNDLE, name)) as f:
            e.add_policy(name, f.read())
    e.add_data(DATA)
    return e


ENGINE = None


def opa(rule, input):
    """OPA's answer for data.tokens.<rule>: ("ok", value) | ("undefined",) | ("error", code)."""
    global ENGINE
    if ENGINE is None:
        ENGINE = engine()
    try:
        return ("ok", ENGINE.eval_document("tokens." + rule, input))
    except OpaError as e:
        if e.code == "undefined":
            return ("undefined",)
        found = re.search(r"(eval_[a-z_]+_error)", e.message)
        if not found:
            raise RuntimeError(f"{rule}: unexpected OPA failure {e.code}: {e.message}")
        return ("error", found.group(1), e.message)


def sign(header, payload, key):
    result = opa("encode_sign", {"header": header, "payload": payload, "jwk": key})
    assert result[0] == "ok", result
    return result[1]


def hs(header: dict | str, payload: dict | str, secret: str, digest=hashlib.sha256):
    """An HMAC token over exactly the JSON text given (OPA only signs canonical JSON)."""
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    signing_input = b64u(h.encode()) + "." + b64u(p.encode())
    mac = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + b64u(mac)


def private_pem(name):
    with open(os.path.join(KEYS, f"{name}_private.pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def pss_token(salt_length):
    signing_input = b64u(b'{"alg":"PS256"}') + "." + b64u(b'{"sub":"alice"}')
    sig = private_pem("rsa").sign(
        signing_input.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length),
        hashes.SHA256(),
    )
    return signing_input + "." + b64u(sig)


def es256_token_with_33_byte_halves():
    """r and s left-padded to 33 bytes: Go's verify_es256 reads them, jwx's decode_verify not."""
    signing_input = b64u(b'{"alg":"ES256"}') + "." + b64u(b'{"sub":"alice"}')
    r, s = decode_dss_signature(
        private_pem("ec").sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    )
    return signing_input + "." + b64u(r.to_bytes(33, "big") + s.to_bytes(33, "big"))


def tamper(token, claims):
    header, _, signature = token.split(".")
    return header + "." + b64u(json.dumps(claims).encode()) + "." + signature


SECRET = "s3cr3t"
CLAIMS = {"sub": "alice", "iss": ISS, "aud": "orders", "role": "admin", "exp": Y2100, "nbf": 1700000000}
T = {}
for alg, key in [
    ("HS256", {"kty": "oct", "k": b64u(SECRET.encode())}),
    ("HS384", {"kty": "oct", "k": b64u(SECRET.encode())}),
    ("HS512", {"kty": "oct", "k": b64u(SECRET.encode())}),
    ("RS256", PRIVATE["rsa"]),
    ("RS384", PRIVATE["rsa"]),
    ("RS512", PRIVATE["rsa"]),
    ("PS256", PRIVATE["rsa"]),
    ("PS384", PRIVATE["rsa"]),
    ("PS512", PRIVATE["rsa"]),
    ("ES256", PRIVATE["ec"]),
    ("ES384", PRIVATE["ec384"]),
    ("ES512", PRIVATE["ec521"]),
    ("EdDSA", PRIVATE["ed25519"]),
]:
    T[alg] = sign({"alg": alg, "typ": "JWT"}, CLAIMS, key)
T["RS256 kid rsa-1"] = sign({"alg": "RS256", "kid": "rsa-1"}, CLAIMS, PRIVATE["rsa"])
T["RS256 kid rsa-2"] = sign({"alg": "RS256", "kid": "rsa-2"}, CLAIMS, PRIVATE["rsa2"])
T["RS256 kid unknown"] = sign({"alg": "RS256", "kid": "gone"}, CLAIMS, PRIVATE["rsa"])
T["ES384 kid ec-2"] = sign({"alg": "ES384", "kid": "ec-2"}, CLAIMS, PRIVATE["ec384"])
T["forged kid rsa-1"] = sign({"alg": "RS256", "kid": "rsa-1"}, CLAIMS, PRIVATE["rsa2"])
T["expired"] = sign({"alg": "RS256"}, dict(CLAIMS, exp=Y2001), PRIVATE["rsa"])
T["no aud"] = sign({"alg": "RS256"}, {k: v for k, v in CLAIMS.items() if k != "aud"}, PRIVATE["rsa"])
T["aud list"] = sign({"alg": "RS256"}, dict(CLAIMS, aud=["billing", "orders"]), PRIVATE["rsa"])
T["no iss"] = sign({"alg": "RS256"}, {k: v for k, v in CLAIMS.items() if k != "iss"}, PRIVATE["rsa"])
T["exp string"] = hs({"alg": "HS256"}, {"exp": "tomorrow"}, SECRET)
T["nbf string"] = hs({"alg": "HS256"}, {"nbf": "today"}, SECRET)
T["exp float"] = hs({"alg": "HS256"}, {"exp": 1767225600.5}, SECRET)
T["alg none"] = b64u(b'{"alg":"none"}') + "." + b64u(b'{"sub":"alice"}') + "."
T["no alg"] = hs({"typ": "JWT"}, {"sub": "alice"}, SECRET)
T["alg number"] = hs({"alg": 256}, {"sub": "alice"}, SECRET)
T["crit unknown"] = hs({"alg": "HS256", "crit": ["exp"], "exp": 1}, {"sub": "alice"}, SECRET)
T["crit known"] = hs({"alg": "HS256", "crit": ["kid"], "kid": "k1"}, {"sub": "alice"}, SECRET)
T["crit empty"] = hs({"alg": "HS256", "crit": []}, {"sub": "alice"}, SECRET)
T["jwe"] = hs({"alg": "HS256", "enc": "A256GCM"}, {"sub": "alice"}, SECRET)
T["payload array"] = hs({"alg": "HS256"}, "[1]", SECRET)
T["payload not json"] = hs({"alg": "HS256"}, "{", SECRET)
T["duplicate claim"] = hs({"alg": "HS256"}, '{"sub":"mallory","sub":"alice"}', SECRET)
T["big numbers"] = hs({"alg": "HS256"}, '{"n":1.5,"big":9007199254740993}', SECRET)
T["nested"] = hs({"alg": "HS256", "cty": "JWT"}, hs({"alg": "HS256"}, {"sub": "inner"}, SECRET), SECRET)
T["nested quoted"] = hs({"alg": "HS256", "cty": "JWT"}, '"' + hs({"alg": "HS256"}, {"sub": "inner"}, SECRET) + '"', SECRET)
T["PS256 salt max"] = pss_token(padding.PSS.MAX_LENGTH)
T["PS256 salt 0"] = pss_token(0)
T["PS256 salt 32"] = pss_token(32)
T["ES256 33-byte halves"] = es256_token_with_33_byte_halves()
T["tampered"] = tamper(T["RS256"], dict(CLAIMS, role="superuser"))
T["HS256 tampered"] = tamper(T["HS256"], dict(CLAIMS, role="superuser"))
# From OPA's test suite (jwtbuiltins/simple-non-registered).
T["opa suite"] = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuZXciOiJJIGFtIGEgdXNlciBjcmVhdGVkIGZpZWxkIiwiaXNzIjoib3BhIn0"
    ".6UmjsclVDGD9jcmX_F8RJzVgHtUZuLu2pxkF_UEQCrE"
)
T["bad signature encoding"] = T["HS256"][:-3] + "A"

CASES = []


def case(note, rule, input, want_interpreter=True, want_rvm=False, by_default=None):
    """`by_default` is the default-mode answer when OPA errs under strict builtin errors and the
    rule does not simply become undefined (a `default` rule catches it)."""
    CASES.append((note, rule, input, want_interpreter, want_rvm, by_default))


def at(seconds):
    return seconds * NS


# io.jwt.decode
case("decode - HS256 token: header, claims, signature in hex", "decode", {"token": T["HS256"]})
case("decode - OPA's test-suite token", "decode", {"token": T["opa suite"]})
case("decode - signature is not checked", "decode", {"token": T["tampered"]})
case("decode - a nested token (cty JWT) is decoded in turn, quotes dropped", "decode", {"token": T["nested quoted"]})
case("decode - empty parts", "decode", {"token": "e30.e30."})
case("decode - duplicate claims: the last wins", "decode", {"token": T["duplicate claim"]})
case("decode - big and fractional numbers", "decode", {"token": T["big numbers"]})
case("decode - no periods", "decode", {"token": "not-a-token"})
case("decode - two sections", "decode", {"token": "e30.e30"})
case("decode - header is not JSON", "decode", {"token": "..."})
case("decode - header is not an object", "decode", {"token": "W10.e30."})
case("decode - a JWE is refused", "decode", {"token": T["jwe"]})
case("decode - payload is not an object", "decode", {"token": T["payload array"]})
case("decode - payload is not base64url", "decode", {"token": "e30.e30+.e30"})
case("decode - signature is not base64url", "decode", {"token": T["bad signature encoding"]})
case("decode - a number is a type error", "decode", {"token": 42})

# io.jwt.verify_hs*
case("verify_hs256 - valid", "verify_hs256", {"token": T["HS256"], "key": SECRET})
case("verify_hs384 - valid", "verify_hs384", {"token": T["HS384"], "key": SECRET})
case("verify_hs512 - valid", "verify_hs512", {"token": T["HS512"], "key": SECRET})
case("verify_hs256 - wrong secret", "verify_hs256", {"token": T["HS256"], "key": "guess"})
case("verify_hs256 - HS384 token", "verify_hs256", {"token": T["HS384"], "key": SECRET})
case("verify_hs256 - claims changed, signature kept", "verify_hs256", {"token": T["HS256 tampered"], "key": SECRET})
case("verify_hs256 - the header is not read", "verify_hs256", {"token": T["no alg"], "key": SECRET})
case("verify_hs256 - malformed token", "verify_hs256", {"token": "a.b", "key": SECRET})
case("verify_hs256 - secret must be a string", "verify_hs256", {"token": T["HS256"], "key": 7})

# Asymmetric verify_*: PEM public keys, certificates, JWK sets
for alg, pem in [
    ("RS256", "rsa_public"),
    ("RS384", "rsa_public"),
    ("RS512", "rsa_public"),
    ("PS256", "rsa_public"),
    ("PS384", "rsa_public"),
    ("PS512", "rsa_public"),
    ("ES256", "ec_public"),
    ("ES384", "ec384_public"),
    ("ES512", "ec521_public"),
    ("EdDSA", "ed25519_public"),
]:
    rule = "verify_" + alg.lower()
    case(f"{rule} - valid, PEM public key", rule, {"token": T[alg], "key": pem})
    case(f"{rule} - valid, JWKS", rule, {"token": T[alg], "key": "jwks"})
    wrong = "rsa2_public" if pem == "rsa_public" else "rsa_public"
    case(f"{rule} - wrong key", rule, {"token": T[alg], "key": wrong})
case("verify_rs256 - valid, certificate", "verify_rs256", {"token": T["RS256"], "key": "rsa_cert"})
case("verify_es256 - valid, certificate", "verify_es256", {"token": T["ES256"], "key": "ec_cert"})
case("verify_rs256 - tampered claims", "verify_rs256", {"token": T["tampered"], "key": "rsa_public"})
case("verify_rs256 - a PS256 token", "verify_rs256", {"token": T["PS256"], "key": "rsa_public"})
case("verify_rs256 - JWKS, kid picks rsa-2", "verify_rs256", {"token": T["RS256 kid rsa-2"], "key": "jwks"})
case("verify_rs256 - JWKS, kid rsa-1 on a token rsa-2 signed", "verify_rs256", {"token": T["forged kid rsa-1"], "key": "jwks"})
case("verify_rs384 - JWKS: rsa-1 is RS256 only, rsa-2 is another key", "verify_rs384", {"token": T["RS384"], "key": "jwks"})
case("verify_rs256 - a private JWK verifies nothing", "verify_rs256", {"token": T["RS256"], "key": json.dumps(PRIVATE["rsa"])})
case("verify_ps256 - any PSS salt length (max)", "verify_ps256", {"token": T["PS256 salt max"], "key": "rsa_public"})
case("verify_ps256 - any PSS salt length (0)", "verify_ps256", {"token": T["PS256 salt 0"], "key": "rsa_public"})
case("verify_es256 - r and s of 33 bytes", "verify_es256", {"token": T["ES256 33-byte halves"], "key": "ec_public"})
case("verify_rs256 - a private key PEM is an error", "verify_rs256", {"token": T["RS256"], "key": "rsa_private_pem"})
case("verify_rs256 - key text that is neither PEM nor JSON", "verify_rs256", {"token": T["RS256"], "key": "nope"})
case("verify_rs256 - text after the PEM block", "verify_rs256", {"token": T["RS256"], "key": DATA["keys"]["rsa_public"] + "\n"})
case("verify_es256 - malformed token", "verify_es256", {"token": "a.b.c.d", "key": "ec_public"})

# io.jwt.decode_verify
AT_NOW = {"time": at(NOW)}
RS = {"aud": "orders", "iss": ISS, "time": at(NOW)}
for alg, cert in [
    ("HS256", None),
    ("HS384", None),
    ("HS512", None),
    ("RS256", "rsa_public"),
    ("RS512", "rsa_cert"),
    ("PS256", "rsa_public"),
    ("PS512", "jwks"),
    ("ES256", "ec_cert"),
    ("ES384", "jwks"),
    ("ES512", "ec521_public"),
    ("EdDSA", "jwks"),
]:
    if cert is None:
        case(f"decode_verify - {alg} with the secret", "decode_verify", {"token": T[alg], "constraints": dict(RS, secret=SECRET)})
    else:
        case(f"decode_verify - {alg} with {cert}", "decode_verify", {"token": T[alg], "cert": cert, "constraints": RS})
case("decode_verify - JWKS, kid rsa-1", "decode_verify", {"token": T["RS256 kid rsa-1"], "cert": "jwks", "constraints": RS})
case("decode_verify - JWKS, kid rsa-2 (a key without alg)", "decode_verify", {"token": T["RS256 kid rsa-2"], "cert": "jwks", "constraints": RS})
case("decode_verify - JWKS, unknown kid: keys of the token's alg are tried", "decode_verify", {"token": T["RS256 kid unknown"], "cert": "jwks", "constraints": RS})
case("decode_verify - JWKS, kid ec-2", "decode_verify", {"token": T["ES384 kid ec-2"], "cert": "jwks", "constraints": RS})
case("decode_verify - JWKS, forged: kid rsa-1 but signed by rsa2", "decode_verify", {"token": T["forged kid rsa-1"], "cert": "jwks", "constraints": RS})
case("decode_verify - JWKS, RS384: no key of that alg verifies", "decode_verify", {"token": T["RS384"], "cert": "jwks", "constraints": RS})
case("decode_verify - a private JWK as cert verifies with its public half", "decode_verify", {"token": T["RS256"], "cert": json.dumps(PRIVATE["rsa"]), "constraints": RS})
case("decode_verify - HS256 with a JWKS oct key", "decode_verify", {"token": T["HS256"], "cert": json.dumps({"keys": [{"kty": "oct", "k": b64u(SECRET.encode())}]}), "constraints": RS})
case("decode_verify - wrong key", "decode_verify", {"token": T["RS256"], "cert": "rsa2_public", "constraints": RS})
case("decode_verify - wrong secret", "decode_verify", {"token": T["HS256"], "constraints": dict(RS, secret="guess")})
case("decode_verify - tampered claims", "decode_verify", {"token": T["tampered"], "cert": "rsa_public", "constraints": RS})
case("decode_verify - RS256 token, secret given", "decode_verify", {"token": T["RS256"], "constraints": dict(RS, secret=SECRET)})
case("decode_verify - HS256 token, certificate given", "decode_verify", {"token": T["HS256"], "cert": "rsa_public", "constraints": RS})
case("decode_verify - alg constraint matches", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, alg="RS256")})
case("decode_verify - alg constraint differs", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, alg="RS512")})
case("decode_verify - PSS salt as long as the hash", "decode_verify", {"token": T["PS256 salt 32"], "cert": "rsa_public", "constraints": AT_NOW})
case("decode_verify - PSS salt of another length", "decode_verify", {"token": T["PS256 salt max"], "cert": "rsa_public", "constraints": AT_NOW})
case("decode_verify - ECDSA signature of the wrong length", "decode_verify", {"token": T["ES256 33-byte halves"], "cert": "ec_public", "constraints": AT_NOW})
case("decode_verify - expired", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, time=at(Y2100 + 1))})
case("decode_verify - expires at exactly exp", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, time=at(Y2100))})
case("decode_verify - one second before exp", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, time=at(Y2100 - 1))})
case("decode_verify - fractional exp", "decode_verify", {"token": T["exp float"], "constraints": {"secret": SECRET, "time": at(NOW) + 400_000_000}})
case("decode_verify - fractional exp, passed", "decode_verify", {"token": T["exp float"], "constraints": {"secret": SECRET, "time": at(NOW) + 500_000_000}})
case("decode_verify - not yet valid (nbf)", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, time=at(1700000000) - 1)})
case("decode_verify - valid from exactly nbf", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, time=at(1700000000))})
case("decode_verify - wall clock: valid until 2100", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": {"aud": "orders"}})
case("decode_verify - wall clock: expired in 2001", "decode_verify", {"token": T["expired"], "cert": "rsa_public", "constraints": {"aud": "orders"}})
case("decode_verify - wrong aud", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, aud="billing")})
case("decode_verify - aud list containing the audience", "decode_verify", {"token": T["aud list"], "cert": "rsa_public", "constraints": RS})
case("decode_verify - token has aud, no aud constraint", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": {"iss": ISS, "time": at(NOW)}})
case("decode_verify - aud required, token has none", "decode_verify", {"token": T["no aud"], "cert": "rsa_public", "constraints": RS})
case("decode_verify - no aud either side", "decode_verify", {"token": T["no aud"], "cert": "rsa_public", "constraints": {"time": at(NOW)}})
case("decode_verify - wrong iss", "decode_verify", {"token": T["RS256"], "cert": "rsa_public", "constraints": dict(RS, iss="https://evil.example.com")})
case("decode_verify - iss required, token has none", "decode_verify", {"token": T["no iss"], "cert": "rsa_public", "constraints": RS})
case("decode_verify - alg none", "decode_verify", {"token": T["alg none"], "constraints": {"secret": SECRET}})
case("decode_verify - header without alg", "decode_verify", {"token": T["no alg"], "constraints": {"secret": SECRET}})
case("decode_verify - unknown critical header", "decode_verify", {"token": T["crit unknown"], "constraints": {"secret": SECRET}})
case("decode_verify - known critical header", "decode_verify", {"token": T["crit known"], "constraints": {"secret": SECRET}})
case("decode_verify - nested token, both layers verified", "decode_verify", {"token": T["nested"], "constraints": {"secret": SECRET}})
case("decode_verify - duplicate claims: the last wins", "decode_verify", {"token": T["duplicate claim"], "constraints": {"secret": SECRET}})
case("decode_verify - malformed token", "decode_verify", {"token": "a.b", "constraints": {"secret": SECRET}})
case("decode_verify - header alg is not a string", "decode_verify", {"token": T["alg number"], "constraints": {"secret": SECRET}})
case("decode_verify - empty crit", "decode_verify", {"token": T["crit empty"], "constraints": {"secret": SECRET}})
case("decode_verify - exp is not a number", "decode_verify", {"token": T["exp string"], "constraints": {"secret": SECRET}})
case("decode_verify - nbf is not a number", "decode_verify", {"token": T["nbf string"], "constraints": {"secret": SECRET}})
case("decode_verify - payload is not JSON", "decode_verify", {"token": T["payload not json"], "constraints": {"secret": SECRET}})
case("decode_verify - signature is not base64url", "decode_verify", {"token": T["bad signature encoding"], "constraints": {"secret": SECRET}})
case("decode_verify - no key constraint", "decode_verify", {"token": T["HS256"], "constraints": {"aud": "orders"}})
case("decode_verify - an empty secret is no key", "decode_verify", {"token": T["HS256"], "constraints": {"secret": ""}})
case("decode_verify - secret and cert", "decode_verify", {"token": T["HS256"], "cert": "rsa_public", "constraints": {"secret": SECRET}})
case("decode_verify - unknown constraint", "decode_verify", {"token": T["HS256"], "constraints": {"secret": SECRET, "leeway": 30}})
case("decode_verify - negative time", "decode_verify", {"token": T["HS256"], "constraints": {"secret": SECRET, "time": -1}})
case("decode_verify - time is not a number", "decode_verify", {"token": T["HS256"], "constraints": {"secret": SECRET, "time": "now"}})
case("decode_verify - cert is not a string", "decode_verify", {"token": T["RS256"], "constraints": {"cert": 1}})
case("decode_verify - cert is neither PEM nor JSON", "decode_verify", {"token": T["RS256"], "cert": "nope", "constraints": {}})
case("decode_verify - an empty JWKS verifies nothing", "decode_verify", {"token": T["RS256"], "cert": '{"keys": []}', "constraints": {}})
case("decode_verify - constraints must be an object", "decode_verify", {"token": T["RS256"], "constraints": "cert"})

# io.jwt.encode_sign and encode_sign_raw
case("encode_sign - RFC 7515 A.1 (OPA's test suite)", "encode_sign", {
    "header": {"alg": "HS256", "typ": "JWT"},
    "payload": {"aud": ["bob", "saul"], "exp": 1300819380, "http://example.com/is_root": True, "iss": "joe", "privateParams": {"private_one": "one", "private_two": "two"}},
    "jwk": {"k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow", "kty": "oct"}})
case("encode_sign - EdDSA (OPA's test suite)", "encode_sign", {
    "header": {"alg": "EdDSA", "typ": "JWT"},
    "payload": {"aud": ["bob", "saul"], "exp": 1300819380, "http://example.com/is_root": True, "iss": "joe", "privateParams": {"private_one": "one", "private_two": "two"}},
    "jwk": {"kty": "OKP", "alg": "EdDSA", "crv": "Ed25519", "x": "wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8", "d": "9XI34uQzYUJfWhDZf_0nYsLMBRVu8a6dFsy60P8uugk"}})
for alg in ["RS256", "RS384", "RS512"]:
    case(f"encode_sign - {alg}", "encode_sign", {"header": {"alg": alg, "typ": "JWT"}, "payload": {"sub": "alice"}, "jwk": "rsa"})
case("encode_sign - keys sorted, HTML characters escaped as Go does", "encode_sign", {"header": {"typ": "JWT", "alg": "HS256", "x": "<&>"}, "payload": {"z": 1, "a": "\u2028"}, "jwk": {"kty": "oct", "k": "c2VjcmV0"}})
case("encode_sign - the first key of a JWKS", "encode_sign", {"header": {"alg": "HS256"}, "payload": {}, "jwk": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}, PRIVATE["rsa"]]}})
case("encode_sign - payload need not be an object", "encode_sign", {"header": {"alg": "HS256"}, "payload": "just text", "jwk": {"kty": "oct", "k": "c2VjcmV0"}})
case("encode_sign - a public key cannot sign", "encode_sign", {"header": {"alg": "RS256"}, "payload": {}, "jwk": json.loads(DATA["keys"]["jwks"])["keys"][0]})
case("encode_sign - RSA key for HS256", "encode_sign", {"header": {"alg": "HS256"}, "payload": {}, "jwk": "rsa"})
case("encode_sign - alg none", "encode_sign", {"header": {"alg": "none"}, "payload": {}, "jwk": {"kty": "oct", "k": "c2VjcmV0"}})
case("encode_sign - no alg", "encode_sign", {"header": {"typ": "JWT"}, "payload": {}, "jwk": {"kty": "oct", "k": "c2VjcmV0"}})
case("encode_sign - empty JWKS", "encode_sign", {"header": {"alg": "HS256"}, "payload": {}, "jwk": {"keys": []}})
case("encode_sign_raw - text signed as given", "encode_sign_raw", {"header": '{ "alg" : "HS256" }', "payload": ' {"sub": "alice"} ', "jwk": json.dumps({"kty": "oct", "k": "c2VjcmV0"})})
case("encode_sign_raw - RS256", "encode_sign_raw", {"header": '{"alg":"RS256"}', "payload": '{"sub":"alice"}', "jwk": json.dumps(PRIVATE["rsa"])})
case("encode_sign_raw - a non-JWT payload need not be JSON", "encode_sign_raw", {"header": '{"alg":"HS256","typ":"text"}', "payload": "hello", "jwk": json.dumps({"kty": "oct", "k": "c2VjcmV0"})})
case("encode_sign_raw - a JWT payload must be JSON", "encode_sign_raw", {"header": '{"alg":"HS256"}', "payload": "hello", "jwk": json.dumps({"kty": "oct", "k": "c2VjcmV0"})})
case("encode_sign_raw - header is not JSON", "encode_sign_raw", {"header": '{"alg":', "payload": "{}", "jwk": json.dumps({"kty": "oct", "k": "c2VjcmV0"})})
case("encode_sign_raw - key is not JSON", "encode_sign_raw", {"header": '{"alg":"HS256"}', "payload": "{}", "jwk": "nope"})
for alg, jwk, cert in [
    ("PS256", "rsa", "rsa_public"),
    ("PS384", "rsa", "rsa_cert"),
    ("PS512", "rsa", "rsa_public"),
    ("ES256", "ec", "ec_public"),
    ("ES384", "ec384", "ec384_public"),
    ("ES512", "ec521", "ec521_public"),
    ("EdDSA", "ed25519", "ed25519_public"),
]:
    case(f"encode_sign then decode_verify - {alg}", "round_trip", {
        "header": {"alg": alg, "typ": "JWT"}, "payload": {"sub": "alice", "exp": Y2100}, "jwk": jwk,
        "cert": cert, "constraints": AT_NOW})

# crypto.*
for rule in ["md5", "sha1", "sha256"]:
    case(f"crypto.{rule} - abc", rule, {"text": "abc"})
    case(f"crypto.{rule} - empty", rule, {"text": ""})
    case(f"crypto.{rule} - UTF-8 bytes", rule, {"text": "grüße ✓"})
case("crypto.sha256 - a number is a type error", "sha256", {"text": 1})
for rule in ["hmac_md5", "hmac_sha1", "hmac_sha256", "hmac_sha512"]:
    case(f"crypto.{rule.replace('_', '.')} - message and key", rule, {"text": "message", "secret": "key"})
    case(f"crypto.{rule.replace('_', '.')} - empty", rule, {"text": "", "secret": ""})
case("crypto.hmac.sha256 - key must be a string", "hmac_sha256", {"text": "message", "secret": ["key"]})
mac = hmac.new(b"key", b"message", hashlib.sha256).hexdigest()
case("crypto.hmac.equal - equal", "hmac_equal", {"a": mac, "b": mac})
case("crypto.hmac.equal - different", "hmac_equal", {"a": mac, "b": mac[:-1] + "0"})
case("crypto.hmac.equal - different lengths", "hmac_equal", {"a": mac, "b": mac[:10]})
case("crypto.hmac.equal - a number is a type error", "hmac_equal", {"a": 1, "b": "1"})

# A rule without builtins in the same bundle stays on the RVM.
case("a rule next to extension builtins stays on the RVM", "plain", {"items": [1, 2, 3]}, want_interpreter=False, want_rvm=True)

# The Envoy + JWT tutorial shape (package tokens.authz)
def envoy(token, method="GET", owner="alice"):
    headers = {} if token is None else {"authorization": "Bearer " + token}
    return {"attributes": {"request": {"http": {"method": method, "headers": headers}}}, "owner": owner}


admin = T["RS256 kid rsa-1"]
user = sign({"alg": "ES256", "kid": "ec-1"}, dict(CLAIMS, role="customer"), PRIVATE["ec"])
case("authz - an admin token allows", "authz.allow", envoy(admin, method="DELETE"))
case("authz - a customer reads their own", "authz.allow", envoy(user, owner="alice"))
case("authz - a customer may not read another's", "authz.allow", envoy(user, owner="bob"))
case("authz - a forged token (right kid, wrong key) denies", "authz.allow", envoy(T["forged kid rsa-1"], method="DELETE"))
case("authz - an expired token denies", "authz.allow", envoy(sign({"alg": "RS256", "kid": "rsa-1"}, dict(CLAIMS, exp=Y2001), PRIVATE["rsa"]), method="DELETE"))
case("authz - a token for another audience denies", "authz.allow", envoy(sign({"alg": "RS256", "kid": "rsa-1"}, dict(CLAIMS, aud="billing"), PRIVATE["rsa"]), method="DELETE"))
case("authz - no token denies", "authz.allow", envoy(None))
case("authz - the unverified subject of a forged token", "authz.subject", envoy(T["forged kid rsa-1"]))
case("authz - a malformed bearer token: claims undefined, allow false", "authz.allow", envoy("garbage"), by_default=("want_result", False))
case("authz - the method rule stays on the RVM", "authz.method", envoy(admin), want_interpreter=False, want_rvm=True)


def yaml_value(value):
    # JSON is YAML; keep it on one line.
    return json.dumps(value, ensure_ascii=False)


def main():
    with open(os.path.join(BUNDLE, "data.json"), "w") as f:
        json.dump(DATA, f, indent=2, sort_keys=True)
        f.write("\n")
    lines = [
        "# OPA's token and crypto builtins (src/builtins), on the RVM configuration and on the",
        "# interpreter alone. Generated by builtins_tokens.py: every expectation is OPA 1.20.2's",
        "# answer for the same policy, data and input. Do not edit by hand; rerun the script.",
        "cases:",
    ]
    for note, rule, input, want_interpreter, want_rvm, by_default in CASES:
        answer = opa(rule, input)
        path = "tokens/" + rule.replace(".", "/")
        variants = []
        if answer[0] == "ok":
            variants.append((note, False, ("want_result", answer[1])))
        elif answer[0] == "undefined":
            variants.append((note, False, ("want_undefined", True)))
        else:
            variants.append((note + " (strict: " + answer[1] + ")", True, ("want_error", answer[1])))
            if by_default is None:
                variants.append((note + " (undefined by default)", False, ("want_undefined", True)))
            else:
                variants.append((note + " (by default)", False, by_default))
        for text, strict, (key, value) in variants:
            lines.append(f"  - note: {yaml_value(text)}")
            lines.append("    bundle: tests/bundles/tokens")
            lines.append(f"    input: {yaml_value(input)}")
            lines.append(f"    path: {path}")
            if strict:
                lines.append("    strict: true")
            lines.append(f"    {key}: {yaml_value(value)}")
            if want_interpreter:
                lines.append("    want_interpreter: true")
            if want_rvm:
                lines.append("    want_rvm: true")
            lines.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
    print(f"{len(CASES)} cases -> {OUT}")


if __name__ == "__main__":
    main()
