"""The intent model: the ONNX sentence encoder, the classifier heads, generated question
variants, the embedding cache, where a model lives in the Triton repository, lifecycle jobs,
and the Triton python-backend entry point each version carries."""
