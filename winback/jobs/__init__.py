"""What winback does on its own, on a schedule: re-score, refresh the search index and complaint themes,
close campaign windows, raise alerts after each scoring run and send the daily briefing. Every run is a
row in job_runs; a (job, slot) pair is claimed once, so two processes never run the same slot twice."""
