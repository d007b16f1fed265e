package broken

allow if {
	input.user ==
}
