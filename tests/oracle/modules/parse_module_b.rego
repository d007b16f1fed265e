package b
p.q.r contains x if { x := input.a[_] }
a.b[c].d := 1 if { c := "k" }
x := 1 if { false } else := 2 if { false } else := 3
y if not input.a == 1
z := -input.n
k := input.a["b"][0][true]
m := [1, 2, 3][0]
n := {"a": 1}.a
v := "x" in {"x"}
w if { 1 in [1] with input as {} }
