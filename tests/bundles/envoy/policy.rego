# Test policy for Envoy's Check: JSON and form bodies, headers on allow, status and body on deny.
package envoy.authz

default allow := false

allow if input.parsed_body.user == "alice"

allow if input.parsed_body.user == ["alice"]

allow if input.parsed_path == ["public"]

result := {
	"allowed": true,
	"headers": {"x-authz-user": "alice"},
	"response_headers_to_add": {"x-checked": "yes"},
	"request_headers_to_remove": ["x-secret"],
	"dynamic_metadata": {"path": input.parsed_path},
} if {
	allow
} else := {
	"allowed": false,
	"http_status": 401,
	"body": "who are you?",
	"headers": {"www-authenticate": "Bearer"},
}

# Returns the input in the metadata, to test its shape.
echo := {"allowed": true, "dynamic_metadata": {"input": input}}

# Undefined for every request.
never if false

# Not a valid result.
illegal := 42
