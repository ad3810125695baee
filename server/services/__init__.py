"""The logic: plain functions `verb_noun(actor, ...)`; a use case commits once."""
