# The default decision (POST /, OPA's data.system.main): the decision of the service named in
# the input, for webhooks that cannot choose a path.
package system

import data.inventory
import data.orders
import data.payment

decisions := {"order": orders.decision, "payment": payment.decision, "inventory": inventory.decision}

main := decisions[input.service]
