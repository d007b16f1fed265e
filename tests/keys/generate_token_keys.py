"""Generates the keys and certificates the token-builtin tests use (run once; output committed).

Needs Python's `cryptography` package. Keys that already exist are kept, so the signed-bundle
keys (rsa_*.pem, ec_*.pem, made with openssl) are reused and only their certificates added.

    python3 tests/keys/generate_token_keys.py
"""

import base64
import datetime
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def b64(n: int, length: int | None = None) -> str:
    raw = n.to_bytes(length or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64_bytes(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_key(name, make):
    """Loads tests/keys/<name>_private.pem, creating it (PKCS#8) and its public key if missing."""
    file = path(f"{name}_private.pem")
    if os.path.exists(file):
        with open(file, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    else:
        key = make()
        with open(file, "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    public = path(f"{name}_public.pem")
    if not os.path.exists(public):
        with open(public, "wb") as f:
            f.write(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM,
                    serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            )
    return key


def certificate(name, key, hash_alg):
    file = path(f"{name}_cert.pem")
    if os.path.exists(file):
        return
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"authzd test {name}")])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(0x1000 + len(name))
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 50))
        .sign(key, hash_alg)
    )
    with open(file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def rsa_jwk(key, private):
    pub = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": b64(pub.n), "e": b64(pub.e)}
    if private:
        p = key.private_numbers()
        jwk.update(
            d=b64(p.d), p=b64(p.p), q=b64(p.q), dp=b64(p.dmp1), dq=b64(p.dmq1), qi=b64(p.iqmp)
        )
    return jwk


def ec_jwk(key, private):
    size = (key.curve.key_size + 7) // 8
    pub = key.public_key().public_numbers()
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
    jwk = {"kty": "EC", "crv": crv, "x": b64(pub.x, size), "y": b64(pub.y, size)}
    if private:
        jwk["d"] = b64(key.private_numbers().private_value, size)
    return jwk


def ed_jwk(key, private):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64_bytes(raw)}
    if private:
        jwk["d"] = b64_bytes(
            key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )
    return jwk


def main():
    keys = {
        "rsa": private_key("rsa", lambda: rsa.generate_private_key(65537, 2048)),
        "rsa2": private_key("rsa2", lambda: rsa.generate_private_key(65537, 2048)),
        "ec": private_key("ec", lambda: ec.generate_private_key(ec.SECP256R1())),
        "ec384": private_key("ec384", lambda: ec.generate_private_key(ec.SECP384R1())),
        "ec521": private_key("ec521", lambda: ec.generate_private_key(ec.SECP521R1())),
        "ed25519": private_key("ed25519", ed25519.Ed25519PrivateKey.generate),
    }
    certificate("rsa", keys["rsa"], hashes.SHA256())
    certificate("ec", keys["ec"], hashes.SHA256())

    def jwk(name, private):
        key = keys[name]
        if name.startswith("rsa"):
            return rsa_jwk(key, private)
        if name.startswith("ec"):
            return ec_jwk(key, private)
        return ed_jwk(key, private)

    # Private JWKs for io.jwt.encode_sign, one per key, no kid or alg.
    with open(path("private_jwks.json"), "w") as f:
        json.dump({name: jwk(name, True) for name in keys}, f, indent=2, sort_keys=True)
        f.write("\n")
    # A public JWKS holding several keys, with key IDs and algorithms, as an identity
    # provider publishes it. rsa2 has no alg, ed25519 no kid.
    jwks = {
        "keys": [
            dict(jwk("rsa", False), kid="rsa-1", alg="RS256", use="sig"),
            dict(jwk("rsa2", False), kid="rsa-2"),
            dict(jwk("ec", False), kid="ec-1", alg="ES256", use="sig"),
            dict(jwk("ec384", False), kid="ec-2", alg="ES384"),
            dict(jwk("ec521", False), kid="ec-3", alg="ES512"),
            dict(jwk("ed25519", False), alg="EdDSA"),
        ]
    }
    with open(path("jwks.json"), "w") as f:
        json.dump(jwks, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
