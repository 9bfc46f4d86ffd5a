"""Passes over the IR (shape inference, parameter, MACs and memory counts)."""
