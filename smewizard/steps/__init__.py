"""Wizard steps: each probes the server and DNS into facts, then assesses them purely."""
