package rec

# One rule per outcome the recording test needs, chosen by the input (or an Envoy header).

mode := input.mode

mode := input.attributes.request.http.headers["x-mode"]

# allow / deny / undefined / conflict (an evaluation error) / illegal (not an Envoy verdict)
verdict := true if mode == "allow"

verdict := false if mode == "deny"

verdict := 1 if mode == "conflict"

verdict := 2 if mode == "conflict"

verdict := "not a verdict" if mode == "illegal"
