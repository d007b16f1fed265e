# Decision-log policies, as in OPA: the input is the event.
package system.log

# Secrets never reach the audit trail.
mask contains "/input/password"

# Card numbers are replaced, not removed.
mask contains {"op": "upsert", "path": "/input/card/number", "value": "****"}

# A pointer that matches nothing is not recorded.
mask contains "/input/not/there"

# Health probes are not worth an audit event.
drop if input.input.action == "healthcheck"
