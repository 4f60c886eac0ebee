"""The engines that compile the condition tree.

base        what every engine shares: Kleene values, levels, typed columns, the range truth table, the `Backend`
            protocol the API calls, caches per resolved rules
vectorized  whole surveys in numpy (the `Evaluator`, its subsets, `evaluator_for` a classified survey)
durable     durable_rules forward chaining, one household at a time (optional extra)
unknowns    which empty inputs would decide an unknown (`undecided_by`)
assemble    decided values -> the data contract's result columns, the same for every engine
reasons     reason keys -> sentences with citations
isolate     a batch that rejects only the households tieuchi itself fails on
memory      allocator settings for large batches

Engines (vectorized, durable) never import each other: what they share is in base and assemble.
"""
