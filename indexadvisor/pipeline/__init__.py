"""The advisor pipeline: `advise()` and its stages, each frozen values in and out."""
