"""Features, the churn model, training, scoring and explanations (reads `winback.data` only).

Scoring entry points live in `winback.model.scoring`: `score_all` for a scoring run into churn_scores,
`score_customers(engine, scorer, ids)` for on-demand scores with drivers (the explain_churn_risk tool).
"""
