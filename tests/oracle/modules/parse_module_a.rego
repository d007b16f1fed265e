# METADATA
# title: Orders
package orders.v2

import rego.v1
import data.lib.identity as id
import input.request

# Only the owner may cancel.
default allow := false

allow if {
	some order in data.orders
	order.owner == input.user # trailing comment
	every item in order.items {
		item.state != "shipped"
	}
	not deny
	count([x | some x in input.roles; x == "admin"]) >= 0
}

deny contains msg if {
	some i, v in input.list
	msg := sprintf("%d: %v", [i, v])
}

grants[user] := roles if {
	some user
	roles := {r | r := data.bindings[user][_]}
}

s := {"b", "a", 3, null, true, [1], {"k": "v"}}
o := {"z": 1, "a": {"n": [1, 2]}, "m": -2.5}
f(x, _) := y if {
	y := x * 2 + 1 - 3 / 4 % 2
}
g := f(1, 2)
u := {1} | {2} & {3}
t if input.a = 1
e if every k, v in input.obj { k != v }
r := `raw \n string`
w := data.x[_].y[_]
q := [[a, b] | some a, b in input.pairs]
z := {k: v | some k, v in input.m; v > 1}
n := y if { y := input.x with input.y as 1 }
l if { input.a; input.b } else := false
