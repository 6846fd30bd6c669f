"""Who may call which endpoint for whose numbers: the policy table and the guard around handlers."""
