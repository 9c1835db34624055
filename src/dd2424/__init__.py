"""numpy networks, trainer and pipeline helpers for the DD2424 CIFAR-10 assignments."""

__version__ = "0.1.0"
