"""From per-sample outputs to summaries with their Monte Carlo error, and explanations of them."""
