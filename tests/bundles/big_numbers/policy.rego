# Integers beyond 64 bits, kept exact as OPA keeps them (tests/http_api.rs, tests/grpc_api.rs).
package numbers

literal := 123456789012345678901234567890

from_data := data.numbers_data.big

from_input := input.n

sum := literal + 1

product := 12345678901234567890123 * 2

same := from_input == 12345678901234567890123

ordered := data.numbers_data.big > 98765432109876543210987654320

keyed := {12345678901234567890123: "a"}
