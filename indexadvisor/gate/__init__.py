"""The CI gate: plan baselines, migration checks, one rule per module, verdicts."""
