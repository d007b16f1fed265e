package slow

# Deliberately slow (hundreds of milliseconds), to test draining in-flight requests.
n := count([x | some x in numbers.range(1, input.size)])
