"""Invented demo data for the Hulei township (pure generator, no database)."""
