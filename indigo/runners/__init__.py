"""Process lifecycles: each runner builds the App, starts its part, and stops it on a signal."""
