"""Derivative tools: user-defined derivative rules (and, in later issues, tensors)."""

from ._custom_derivative import custom_derivative as custom_derivative
