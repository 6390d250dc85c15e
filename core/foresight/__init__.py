"""Foresight (issue 17): why a position moved, the chances and typical wait, and the charts."""
