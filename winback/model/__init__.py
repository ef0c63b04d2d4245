"""Features, the churn model, training, scoring and explanations (reads `winback.data` only)."""
