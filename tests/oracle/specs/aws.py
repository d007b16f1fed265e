HEADER = """providers.aws.sign_req (extension): AWS SigV4 on http.send request objects."""
CFG = {"aws_access_key": "MYAWSACCESSKEYGOESHERE", "aws_secret_access_key": "MYAWSSECRETACCESSKEYGOESHERE", "aws_service": "s3", "aws_region": "us-east-1"}
T = 1647444000000000000
def case(note, req, cfg=CFG, t=T, strict=False):
    return {"note": note, "rego": "x := providers.aws.sign_req(input.req, input.cfg, input.t)", "input": {"req": req, "cfg": cfg, "t": t}, "strict": strict}
CASES = [
 case("s3: headers signed (not User-Agent), content hash added", {"method": "get", "url": "https://example.com/_search", "headers": {"foo": "bar", "abc": "def", "User-Agent": "x"}}),
 case("another service: no content hash header", {"method": "get", "url": "https://example.com/_search", "headers": {"foo": "bar"}}, dict(CFG, aws_service="es")),
 case("a JSON body is signed as Go marshals it; the query string is signed raw", {"method": "post", "url": "https://example.com/a/b?x=1&a=2", "body": {"b": 1, "a": "<&>"}}),
 case("raw_body, a port in the host, a session token", {"method": "post", "url": "https://example.com:8443/a%20b", "raw_body": "hello"}, dict(CFG, aws_session_token="TOKEN")),
 case("unsigned payload on s3", {"method": "post", "url": "https://example.com/a", "raw_body": "hello"}, dict(CFG, disable_payload_signing=True)),
 case("unsigned payload on another service", {"method": "post", "url": "https://example.com/a", "raw_body": "hello"}, dict(CFG, aws_service="es", disable_payload_signing=True)),
 case("a Host header overrides the URL's host in the signature", {"method": "get", "url": "https://example.com/", "headers": {"host": "other.com"}}),
 case("missing config keys: undefined", {"method": "get", "url": "https://example.com/"}, {"aws_access_key": "a"}),
 case("missing config keys: a builtin error when strict", {"method": "get", "url": "https://example.com/"}, {"aws_access_key": "a"}, strict=True),
 case("an unknown request key is an error", {"method": "get", "url": "https://example.com/", "foo": 1}, strict=True),
 case("a bad URL escape is an error", {"method": "get", "url": "https://example.com/%zz"}, strict=True),
 case("a fractional timestamp is an error", {"method": "get", "url": "https://example.com/"}, t=1.5, strict=True),
]
