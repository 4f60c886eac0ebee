"""What users read, built from a result: summary, rates, eligibility lists, diff, Alkire–Foster measures, the plan
report and its rendering, the explanation of one household."""
