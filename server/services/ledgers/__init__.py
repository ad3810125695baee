"""Ledgers (台账) of children, venues, inspections, plans and staff checks, as pages and exports."""
