# Envoy's ext_authz decision for the proxy in front of the order and payment services
# (authzd's gRPC listener, envoy.service.auth.v3.Authorization/Check).
#
# The gateway forwards the verified subject in the x-subject-id header and the calling service
# in x-caller-service. The path Envoy evaluates is envoy/authz/allow by default (a boolean);
# start authzd with --envoy-path envoy/authz/result for the richer answer below.
package envoy.authz

default allow := false

http := input.attributes.request.http

subject_id := object.get(http.headers, "x-subject-id", "")

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
	http.headers["x-caller-service"] == "order-service"
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
