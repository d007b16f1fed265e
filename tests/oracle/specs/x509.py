HEADER = """crypto.x509.* certificate builtins (extensions): parse_certificates, parse_and_verify_certificates
(and _with_options), parse_certificate_request, parse_keypair, on the certificates of
tests/keys/x509 (make.sh). Integers beyond 128 bits do not survive the YAML reader, so the
whole-answer cases compare with OPA's answer written into the policy (exact)."""
import base64, json, os, subprocess
from opa_bindings import OpaEngine

KEYS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "keys", "x509")
def read(name): return open(os.path.join(KEYS, name)).read()
def der_b64(*names):
    return base64.b64encode(b"".join(subprocess.run(["openssl", "x509", "-outform", "der"], input=read(n).encode(), capture_output=True, check=True).stdout for n in names)).decode()

ROOT, INTER, LEAF, CLIENT, OUTSIDE, RICH = (read(n + ".pem") for n in ["root", "inter", "leaf", "client", "outside", "rich"])
CHAIN = ROOT + INTER + LEAF
CSR = read("request.csr")

def opa(call, inp):
    e = OpaEngine()
    try:
        e.add_policy("t.rego", "package t\nx := %s\n" % call)
        return e.eval_document("t.x", inp)
    finally:
        e.close()

def c(note, rego, inp=None, strict=False, expect=None):
    d = {"note": note, "rego": rego, "strict": strict}
    if inp is not None: d["input"] = inp
    if expect is not None: d["expect"] = expect
    return d

def rego_literal(value):
    """A Rego literal for a JSON value. regorus' parser refuses integer literals beyond f64
    (an RSA-2048 modulus has 617 digits), so those are written as exact arithmetic on
    300-digit pieces: ((a * 10^300) + b) * 10^300 + c."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int) and len(str(abs(value))) > 300:
        digits, pieces = str(abs(value)), []
        while digits:
            pieces.insert(0, digits[-300:].lstrip("0") or "0")
            digits = digits[:-300]
        power = "1" + "0" * 300
        text = pieces[0]
        for piece in pieces[1:]:
            text = "((%s * %s) + %s)" % (text, power, piece)
        return ("-" if value < 0 else "") + text
    if isinstance(value, list):
        return "[" + ",".join(rego_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join("%s:%s" % (json.dumps(k), rego_literal(v)) for k, v in value.items()) + "}"
    return json.dumps(value)

def whole(note, call, inp):
    """The builtin's whole answer equals OPA's, written into the policy."""
    return c(note, "want := %s\nx := %s == want" % (rego_literal(opa(call, inp)), call), inp, expect=True)

CNS = "[c.Subject.CommonName | some c in %s]"
VERIFY = "crypto.x509.parse_and_verify_certificates(input.c)"
WITH = "crypto.x509.parse_and_verify_certificates_with_options(input.c, input.o)"
def verdict(call): return "r := %s\nx := [r[0], %s]" % (call, CNS % "r[1]")

CASES = [
 # parse_certificates
 whole("parse_certificates: an RSA root, as Go's x509.Certificate", "crypto.x509.parse_certificates(input.c)", {"c": ROOT}),
 whole("parse_certificates: an EC intermediate with name constraints and policies", "crypto.x509.parse_certificates(input.c)", {"c": INTER}),
 whole("parse_certificates: an Ed25519 leaf with DNS, URI, IP and email names", "crypto.x509.parse_certificates(input.c)", {"c": LEAF}),
 whole("parse_certificates: every extension Go reads (CRL, AIA, policies, mappings, constraints, unknown EKU, an unhandled critical one)", "crypto.x509.parse_certificates(input.c)", {"c": RICH}),
 c("parse_certificates: the fields a policy reads from a client certificate",
   'c := crypto.x509.parse_certificates(input.c)[0]\nx := {"cn": c.Subject.CommonName, "org": c.Subject.Organization, "dns": c.DNSNames, "uris": c.URIStrings, "spiffe_host": c.URIs[0].Host, "ips": c.IPAddresses, "emails": c.EmailAddresses, "eku": c.ExtKeyUsage, "ca": c.IsCA, "not_after": c.NotAfter, "issuer": c.Issuer.CommonName}',
   {"c": LEAF}),
 c("parse_certificates: a chain in one PEM text, in order", "x := %s" % (CNS % "crypto.x509.parse_certificates(input.c)"), {"c": CHAIN}),
 c("parse_certificates: base64 of PEM", "x := %s" % (CNS % "crypto.x509.parse_certificates(input.c)"), {"c": base64.b64encode(CHAIN.encode()).decode()}),
 c("parse_certificates: base64 of concatenated DER", "x := %s" % (CNS % "crypto.x509.parse_certificates(input.c)"), {"c": der_b64("root.pem", "leaf.pem")}),
 c("parse_certificates: the empty string is no certificates", "x := crypto.x509.parse_certificates(input.c)", {"c": ""}),
 c("parse_certificates: URL parts of a SAN URI with user, port, escapes; an opaque URN; an omitted host",
   'x := [[u.Scheme, u.Host, u.Path, u.RawQuery, u.Opaque, u.OmitHost, u.User] | some u in crypto.x509.parse_certificates(input.c)[0].URIs]', {"c": RICH}),
 c("parse_certificates: a PEM block of another kind is an error", "x := crypto.x509.parse_certificates(input.c)", {"c": read("leaf.key")}, strict=True),
 c("parse_certificates: text that is neither PEM nor base64 is an error", "x := crypto.x509.parse_certificates(input.c)", {"c": "not base64!"}, strict=True),
 c("parse_certificates: base64 that is not DER is an error", "x := crypto.x509.parse_certificates(input.c)", {"c": "aGVsbG8gd29ybGQ="}, strict=True),
 c("parse_certificates: an error is undefined unless strict", "x := crypto.x509.parse_certificates(input.c)", {"c": "aGVsbG8gd29ybGQ="}),
 # parse_and_verify_certificates
 c("parse_and_verify: root, intermediate, leaf verify; the chain comes back leaf first", verdict(VERIFY), {"c": CHAIN}),
 whole("parse_and_verify: the verified chain, as OPA answers it (URIStrings included)", VERIFY, {"c": CHAIN}),
 c("parse_and_verify: a missing intermediate", verdict(VERIFY), {"c": ROOT + LEAF}),
 c("parse_and_verify: the leaf must come last", verdict(VERIFY), {"c": LEAF + INTER + ROOT}),
 c("parse_and_verify: one certificate cannot be verified", verdict(VERIFY), {"c": ROOT}),
 c("parse_and_verify: a root alone, twice, is its own chain", verdict(VERIFY), {"c": ROOT + ROOT}),
 c("parse_and_verify: the intermediate as the trust anchor", verdict(VERIFY), {"c": INTER + LEAF}),
 c("parse_and_verify: a leaf for client authentication only fails the default (server) usage", verdict(VERIFY), {"c": ROOT + INTER + CLIENT}),
 c("parse_and_verify: a name outside the intermediate's constraints", verdict(VERIFY), {"c": ROOT + INTER + OUTSIDE}),
 c("parse_and_verify: an unhandled critical extension is refused", verdict(VERIFY), {"c": RICH + RICH}),
 c("parse_and_verify: text that does not parse is [false, []]", "x := %s" % VERIFY, {"c": "not base64!"}),
 # parse_and_verify_certificates_with_options
 c("with_options: DNSName matches a SAN", verdict(WITH), {"c": CHAIN, "o": {"DNSName": "api.example.com"}}),
 c("with_options: DNSName matches a wildcard SAN for one label", verdict(WITH), {"c": CHAIN, "o": {"DNSName": "Orders.svc.example.com"}}),
 c("with_options: a wildcard does not match two labels", verdict(WITH), {"c": CHAIN, "o": {"DNSName": "a.b.svc.example.com"}}),
 c("with_options: DNSName as an IP matches IP SANs only", verdict(WITH), {"c": CHAIN, "o": {"DNSName": "10.1.2.3"}}),
 c("with_options: client authentication accepts the client certificate", verdict(WITH), {"c": ROOT + INTER + CLIENT, "o": {"KeyUsages": ["KeyUsageClientAuth"]}}),
 c("with_options: a usage the leaf lacks", verdict(WITH), {"c": CHAIN, "o": {"KeyUsages": ["KeyUsageCodeSigning"]}}),
 c("with_options: KeyUsageAny, as a set", 'r := crypto.x509.parse_and_verify_certificates_with_options(input.c, {"KeyUsages": {"KeyUsageAny"}})\nx := [r[0], %s]' % (CNS % "r[1]"), {"c": ROOT + INTER + CLIENT}),
 c("with_options: CurrentTime after the chain expires", verdict(WITH), {"c": CHAIN, "o": {"CurrentTime": 7258118400000000000}}),
 c("with_options: CurrentTime before it begins", verdict(WITH), {"c": CHAIN, "o": {"CurrentTime": 1000000000000000000}}),
 c("with_options: MaxConstraintComparisons is accepted", verdict(WITH), {"c": CHAIN, "o": {"MaxConstraintComparisons": 1}}),
 whole("with_options: the verified chain is Go's structs alone (no URIStrings)", WITH, {"c": CHAIN, "o": {}}),
 c("with_options: an unknown option is an error", "x := %s" % WITH, {"c": CHAIN, "o": {"Nope": 1}}, strict=True),
 c("with_options: unknown key usages are an error", "x := %s" % WITH, {"c": CHAIN, "o": {"KeyUsages": ["KeyUsageAny", "Zip"]}}, strict=True),
 c("with_options: CurrentTime must be a whole number", "x := %s" % WITH, {"c": CHAIN, "o": {"CurrentTime": 1.5}}, strict=True),
 c("with_options: DNSName must be a string", "x := %s" % WITH, {"c": CHAIN, "o": {"DNSName": 1}}, strict=True),
 # parse_certificate_request
 whole("parse_certificate_request: a CSR with requested extensions, as Go's x509.CertificateRequest", "crypto.x509.parse_certificate_request(input.c)", {"c": CSR}),
 c("parse_certificate_request: the requested names", 'r := crypto.x509.parse_certificate_request(input.c)\nx := [r.Subject.CommonName, r.DNSNames, r.IPAddresses, r.EmailAddresses, [u.Host | some u in r.URIs], r.PublicKeyAlgorithm, r.SignatureAlgorithm]', {"c": CSR}),
 c("parse_certificate_request: base64 of PEM", 'x := crypto.x509.parse_certificate_request(input.c).Subject.CommonName', {"c": base64.b64encode(CSR.encode()).decode()}),
 c("parse_certificate_request: a certificate is not a request", "x := crypto.x509.parse_certificate_request(input.c)", {"c": base64.b64encode(LEAF.encode()).decode()}, strict=True),
 # parse_keypair
 whole("parse_keypair: an Ed25519 leaf and its key, as Go's tls.Certificate", "crypto.x509.parse_keypair(input.c, input.k)", {"c": LEAF, "k": read("leaf.key")}),
 c("parse_keypair: a chain and an EC key: every certificate, the first as Leaf",
   'p := crypto.x509.parse_keypair(input.c, input.k)\nx := [count(p.Certificate), p.Leaf.Subject.CommonName, object.keys(p.PrivateKey)]', {"c": INTER + ROOT, "k": read("inter.key")}),
 whole("parse_keypair: an RSA key", "crypto.x509.parse_keypair(input.c, input.k)", {"c": ROOT, "k": read("root.key")}),
 c("parse_keypair: base64 of DER for both", 'x := crypto.x509.parse_keypair(input.c, input.k).Leaf.Subject.CommonName',
   {"c": der_b64("inter.pem"), "k": base64.b64encode(subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "der"], input=read("inter.key").encode(), capture_output=True, check=True).stdout).decode()}),
 c("parse_keypair: a key of another certificate is an error", "x := crypto.x509.parse_keypair(input.c, input.k)", {"c": LEAF, "k": read("inter.key")}, strict=True),
 c("parse_keypair: no key is an error", "x := crypto.x509.parse_keypair(input.c, input.k)", {"c": LEAF, "k": ""}, strict=True),
]
