HEADER = """References through an import into ref-head rules, as in OPA: with `import data.u`, `u.lib.val`
is `data.u.lib.val` where `lib.val := ...` is a rule of `package u`. regorus' RVM read such a
reference as undefined; at load each such reference is written as the path, on its line
(src/policy/import_aliases.rs)."""
IN = {"v": 3, "roles": ["admin"]}
U = "package u\nlib.val := input.v\nlib.roles contains r if some r in input.roles\nplain := 4\n"
def c(note, rego, rvm=None, more=None):
    case = {"note": note, "rego": rego, "input": IN, "path": "t/x"}
    if rvm: case["want_rvm"] = True
    if more: case["more"] = more
    return case
CASES = [
 c("a package imported whole, its ref-head rule", 'import data.u\nx := u.lib.val', rvm=True, more=[U]),
 c("an alias of the ref-head prefix", 'import data.u.lib as L\nx := L.val', rvm=True, more=[U]),
 c("the prefix imported by its name", 'import data.u.lib\nx := lib.val', rvm=True, more=[U]),
 c("through a bracket", 'import data.u as L\nx := L["lib"].val', rvm=True, more=[U]),
 c("in a rule body and a comprehension", 'import data.u.lib as L\ndefault x := false\nx if { "admin" in L.roles; count([r | some r in L.roles]) == 1 }', rvm=True, more=[U]),
 c("a plain rule through the same import is read as written", 'import data.u\nx := [u.plain, u.lib]', more=[U]),
 c("an alias of the module's own package", 'import data.t.lib as L\nlib.val := input.v\nx := L.val', rvm=True),
]
