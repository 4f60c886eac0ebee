"""The YAML cases beside the rules, and `tieuchi test` that runs them."""
