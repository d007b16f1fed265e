HEADER = """Builtins a batch of common idioms (2026-12-04) found answering differently from OPA, now
overridden: indexof and indexof_n refuse an empty search string (src/builtins/indexof.rs).
time.add_date and time.format have their own files (builtins_add_date.yaml,
builtins_time_format.yaml)."""
def c(note, rego, strict=False):
    return {"note": note, "rego": rego, "overrides": True, "strict": strict}
CASES = [
 c("indexof of an empty string is an error", 'x := indexof("abc", "")', strict=True),
 c("and undefined without strict errors", 'x := indexof("abc", "")'),
 c("indexof_n of an empty string is an error", 'x := indexof_n("abc", "")', strict=True),
 c("indexof counts characters", 'x := [indexof("a😀b", "b"), indexof("日本語", "語"), indexof("", "a"), indexof("abc", "z")]'),
 c("indexof_n counts characters", 'x := indexof_n("a😀b😀", "😀")'),
]
