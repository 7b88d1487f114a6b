"""PyPole GQL."""
