# Envoy's ext_authz decision for the proxy in front of the order and payment services
# (authzd's gRPC listener, envoy.service.auth.v3.Authorization/Check).
#
# Who asks comes from authzd's identity step, which verifies the HTTP request's credential
# headers (the gateway's signed user context, a service token, a JWT) and takes them out of
# the input: input.identity.user, input.identity.caller, and input.identity.peer (the mTLS peer's
# SPIFFE ID, Envoy's source principal). In the example bundle's demo mode (lib/data.yaml: authzd
# verifies nothing) the unverified x-subject-id and x-caller-service headers stand in for them.
#
# The path Envoy evaluates is envoy/authz/allow by default (a boolean); start authzd with
# --envoy-path envoy/authz/result for the richer answer below.
package envoy.authz

default allow := false

http := input.attributes.request.http

# Demo mode only: the unverified headers stand in for a verified identity.
demo_subject_id := object.get(http.headers, "x-subject-id", "") if data.lib.identity.demo_mode

demo_caller_service := object.get(http.headers, "x-caller-service", "") if data.lib.identity.demo_mode

# The verified user's id: `id` in a gateway's user context, `sub` in a JWT's claims. (Each
# `else` value is tested in its own body, so an undefined one falls through to the next `else`
# on the fast path too.)
subject_id := input.identity.user.id if input.identity.user.id
else := input.identity.user.sub if input.identity.user.sub
else := demo_subject_id if demo_subject_id
else := ""

caller_service := input.identity.caller.service if input.identity.caller.service
else := demo_caller_service if demo_caller_service
else := ""

# Health checks pass without an identity.
allow if input.parsed_path == ["health"]

# Reading orders needs an authenticated subject.
allow if {
	http.method == "GET"
	input.parsed_path[0] == "orders"
	subject_id != ""
}

# A customer creates orders for themselves only (JSON body).
allow if {
	http.method == "POST"
	input.parsed_path == ["orders"]
	subject_id != ""
	input.parsed_body.customer_id == subject_id
}

# Only the order service may initiate payments.
allow if {
	http.method == "POST"
	input.parsed_path == ["payments"]
	caller_service == "order-service"
}

# On allow, tell the service who was checked and drop headers it must not trust; on deny,
# answer the client with a JSON error.
result := {
	"allowed": true,
	"headers": {"x-authz-subject": subject_id},
	"request_headers_to_remove": ["x-debug-override"],
} if {
	allow
} else := {
	"allowed": false,
	"http_status": 403,
	"headers": {"content-type": "application/json"},
	"body": json.marshal({"error": "forbidden", "path": http.path}),
}
