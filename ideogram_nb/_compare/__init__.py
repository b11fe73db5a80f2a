"""Comparisons: axes (`_axes`), planning and running grids (`_comparison`), judging and
rendering them (`_view`), and labelled contact sheets (`_contact_sheet`)."""
