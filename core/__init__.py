"""What the domain apps and the web layer share without depending on each other: domain
errors, the write transaction, JSON and text checks, extra_data."""
