"""Release safety: conversation test suites, their results, and the model-version canary."""
