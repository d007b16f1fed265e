package conflict

# Two definitions that both fire for {"both": true}: OPA's eval_conflict_error.
x := 1 if input.both

x := 2 if input.both
