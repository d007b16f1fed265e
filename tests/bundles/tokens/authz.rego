# OPA's Envoy + JWT tutorial shape: the bearer token's claims decide, once verified.
package tokens.authz

default allow := false

allow if {
	claims.role == "admin"
}

allow if {
	input.attributes.request.http.method == "GET"
	claims.sub == input.owner
}

bearer := t if {
	header := input.attributes.request.http.headers.authorization
	startswith(header, "Bearer ")
	t := substring(header, count("Bearer "), -1)
}

claims := payload if {
	[valid, _, payload] := io.jwt.decode_verify(bearer, {
		"cert": data.keys.jwks,
		"iss": "https://idp.example.com",
		"aud": "orders",
	})
	valid
}

# Unverified, for display only.
subject := payload.sub if {
	[_, payload, _] := io.jwt.decode(bearer)
}

# Touches no extension builtin: the RVM answers it.
method := input.attributes.request.http.method
