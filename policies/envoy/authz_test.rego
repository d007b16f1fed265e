package test.envoy.authz

import data.envoy.authz

request(method, path, headers) := {
	"attributes": {"request": {"http": {"method": method, "path": path, "headers": headers}}},
	"parsed_path": array.slice(split(path, "/"), 1, count(split(path, "/"))),
}

# What authzd's identity step adds to a request whose credentials verified.
verified(r, identity) := object.union(r, {"identity": identity})

test_health_needs_no_identity if {
	authz.allow with input as verified(request("GET", "/health", {}), {})
}

test_reading_orders_needs_a_subject if {
	authz.allow with input as verified(request("GET", "/orders/42", {}), {"user": {"id": "10001"}})
	not authz.allow with input as verified(request("GET", "/orders/42", {}), {})
}

test_a_jwt_subject_is_the_subject if {
	authz.allow with input as verified(request("GET", "/orders/42", {}), {"user": {"sub": "10001"}})
	authz.result.headers["x-authz-subject"] == "10001" with input as verified(request("GET", "/orders/42", {}), {"user": {"sub": "10001"}})
}

test_creating_an_order_for_someone_else_is_denied if {
	r := object.union(request("POST", "/orders", {}), {"parsed_body": {"customer_id": "10002"}})
	not authz.allow with input as verified(r, {"user": {"id": "10001"}})
}

test_only_the_order_service_initiates_payments if {
	authz.allow with input as verified(request("POST", "/payments", {}), {"caller": {"service": "order-service"}})
	not authz.allow with input as verified(request("POST", "/payments", {}), {"caller": {"service": "api-gateway"}})
}

test_unverified_headers_count_only_in_demo_mode if {
	authz.allow with input as request("GET", "/orders/42", {"x-subject-id": "10001"})
	authz.allow with input as request("POST", "/payments", {"x-caller-service": "order-service"})
	not authz.allow with input as verified(request("GET", "/orders/42", {"x-subject-id": "10001"}), {})
	not authz.allow with input as verified(request("POST", "/payments", {"x-caller-service": "order-service"}), {"peer": "spiffe://cluster.local/ns/shop/sa/orders"})
}

test_denial_is_a_403_with_a_json_body if {
	r := authz.result with input as verified(request("DELETE", "/orders/42", {}), {"user": {"id": "10001"}})
	r.allowed == false
	r.http_status == 403
	json.unmarshal(r.body) == {"error": "forbidden", "path": "/orders/42"}
}
