package app

default allow := false

allow if input.user == "alice"
