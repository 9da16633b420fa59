"""The static evaluator of model-building code and the reader of a model."""
