HEADER = """References into `data` with a key known only at evaluation: each names the rules that match
its keys, a variable matching any one key, as OPA's dependency graph finds them (a rule is not
recursive for reading `data[x].q` beside itself)."""
CASES = [
 {"note": "data[x].q beside the rule itself is not recursion", "rego": 'p := data[x].q if x := "t"\nq := 1', "path": "t/p"},
 {"note": "a number key names no rule", "rego": 'p := data[2]', "data": {"2": "bar"}, "path": "t/p"},
 {"note": "the shape of OPA issue 7399: a dynamic key, then a ref-head rule's path", "rego": 'p := data[first].allow.see.other if first := "t"\nallow[action].something if action := "show"\nallow.see.other if true', "path": "t/p"},
]
