"""DMARC aggregate reports: safe ingestion (reports), per-domain/per-source summaries (summary)
and the policy ramp none → quarantine → reject (ramp)."""
