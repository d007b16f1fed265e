HEADER = """strings.split_n (extension) and strings.replace_n, strings.count (overrides of regorus' own)."""
def sn(note, s, sep, n, strict=False):
    return {"note": "split_n: " + note, "rego": "x := strings.split_n(input.s, input.sep, input.n)", "input": {"s": s, "sep": sep, "n": n}, "strict": strict}
def rn(note, p, s, strict=False):
    return {"note": "replace_n: " + note, "rego": "x := strings.replace_n(input.p, input.s)", "input": {"p": p, "s": s}, "strict": strict, "overrides": True}
def ct(note, s, sub):
    return {"note": "count: " + note, "rego": "x := strings.count(input.s, input.sub)", "input": {"s": s, "sub": sub}, "overrides": True}
CASES = [
 sn("the first n parts", "a,b,c", ",", 2),
 sn("zero parts", "a,b,c", ",", 0),
 sn("more parts than there are", "a,b,c", ",", 10),
 sn("a negative n keeps the last parts", "a,b,c", ",", -2),
 sn("an empty separator splits characters", "héllo", "", 3),
 sn("the empty string", "", ",", 1),
 sn("a fractional n is an error", "a,b", ",", 1.5, strict=True),
 {"note": "split_n: OPA's documentation example", "rego": 'x := strings.split_n("foo.bar.baz", ".", 2)'},
 rn("one pass: replacements are not rescanned", {"a": "b", "b": "a"}, "ab"),
 rn("at one place the first key in order wins, not the longest", {"a": "b", "ab": "c"}, "ab"),
 rn("a replacement containing its key", {"a": "aa"}, "aaa"),
 rn("an empty key inserts between characters", {"": "X", "a": "Y"}, "ab"),
 rn("a non-string value is an error", {"a": 1}, "a", strict=True),
 ct("non-overlapping matches", "aaaa", "aa"),
 ct("the empty string occurs between characters", "héllo", ""),
 ct("the empty string in the empty string", "", ""),
]
