"""Keras 2's wrappers: ``scikit_learn`` (models as scikit-learn estimators)."""
