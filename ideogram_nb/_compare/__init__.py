"""Comparisons, composed of parts that each do one thing: axes (`_axes`), the planned cells
(`_cells`), running them (`_comparison.Comparison`, which composes the rest), judging pairs and
votes (`_judging`), rendering HTML and contact sheets (`_rendering`, `_contact_sheet`)."""
