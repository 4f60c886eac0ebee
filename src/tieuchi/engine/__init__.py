"""The engines that compile the condition tree: vectorized (whole surveys), durable (forward chaining, one household
at a time), what they share, how their results are assembled and explained in reasons, and how a batch isolates a
failing household."""
