package lookup

# One lookup in a large object.
allow if data.lookup.users[input.user].tenant == "t5"
