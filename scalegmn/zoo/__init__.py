"""Model zoos: our own format, generators, downloads and readers of the public formats."""

from scalegmn.zoo.format import iter_zoo, read_info, save_zoo

__all__ = ["iter_zoo", "read_info", "save_zoo"]
