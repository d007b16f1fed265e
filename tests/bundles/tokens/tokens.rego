# Each rule applies one of OPA's token or crypto builtins to the input, for the decision cases
# in tests/cases/builtins_tokens.yaml. Keys live in data.json (made from tests/keys/):
# input.key, input.cert and input.jwk name a key there, or are the key text itself.
package tokens

key := object.get(data.keys, input.key, input.key)

jwk := object.get(data.private, input.jwk, input.jwk)

constraints := object.union(input.constraints, {"cert": object.get(data.keys, input.cert, input.cert)}) if {
	input.cert
} else := input.constraints

decode := io.jwt.decode(input.token)

decode_verify := io.jwt.decode_verify(input.token, constraints)

verify_hs256 := io.jwt.verify_hs256(input.token, key)

verify_hs384 := io.jwt.verify_hs384(input.token, key)

verify_hs512 := io.jwt.verify_hs512(input.token, key)

verify_rs256 := io.jwt.verify_rs256(input.token, key)

verify_rs384 := io.jwt.verify_rs384(input.token, key)

verify_rs512 := io.jwt.verify_rs512(input.token, key)

verify_ps256 := io.jwt.verify_ps256(input.token, key)

verify_ps384 := io.jwt.verify_ps384(input.token, key)

verify_ps512 := io.jwt.verify_ps512(input.token, key)

verify_es256 := io.jwt.verify_es256(input.token, key)

verify_es384 := io.jwt.verify_es384(input.token, key)

verify_es512 := io.jwt.verify_es512(input.token, key)

verify_eddsa := io.jwt.verify_eddsa(input.token, key)

encode_sign := io.jwt.encode_sign(input.header, input.payload, jwk)

encode_sign_raw := io.jwt.encode_sign_raw(input.header, input.payload, jwk)

# ECDSA and PSS signatures are randomized: sign, then verify what was signed.
round_trip := io.jwt.decode_verify(io.jwt.encode_sign(input.header, input.payload, jwk), constraints)

md5 := crypto.md5(input.text)

sha1 := crypto.sha1(input.text)

sha256 := crypto.sha256(input.text)

hmac_md5 := crypto.hmac.md5(input.text, input.secret)

hmac_sha1 := crypto.hmac.sha1(input.text, input.secret)

hmac_sha256 := crypto.hmac.sha256(input.text, input.secret)

hmac_sha512 := crypto.hmac.sha512(input.text, input.secret)

hmac_equal := crypto.hmac.equal(input.a, input.b)

# Not a builtin call: stays on the RVM next to rules that cannot.
plain := count(input.items)
