"""Development tools: the local two-zone cluster of `make run` and the tests, conversation
load, the evaluation of `make eval`, and the noisy test set's noise model."""
