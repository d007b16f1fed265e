HEADER = """References through an import name the imported path, as in OPA: with `import data.t.lib as L`,
`L.val` is `data.t.lib.val`. regorus' RVM read such a reference as undefined when ref-head rules
define the path below the import; at load each such reference is written as the path, on its
line (src/policy/import_aliases.rs)."""
IN = {"v": 3, "roles": ["admin"]}
def c(note, rego, rvm=None):
    case = {"note": note, "rego": rego, "input": IN, "path": "t/x"}
    if rvm: case["want_rvm"] = True
    return case
CASES = [
 c("an alias of ref-head rules", 'import data.t.lib as L\nlib.val := input.v\nx := L.val', rvm=True),
 c("the package imported whole", 'import data.t as me\nlib.val := input.v\nx := me.lib.val', rvm=True),
 c("through a bracket", 'import data.t.lib as L\nlib.val := input.v\nx := L["val"]', rvm=True),
 c("in a rule body and a comprehension", 'import data.t.lib as L\nlib.roles contains r if some r in input.roles\ndefault x := false\nx if { "admin" in L.roles; count([r | some r in L.roles]) == 1 }', rvm=True),
]
