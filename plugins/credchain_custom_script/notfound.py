"""``NotFound``: what a custom script raises to say "this asset is not mine"."""

from __future__ import annotations

__all__ = ["NotFound", "is_not_found"]


class NotFound(Exception):
    """Raise it from ``get_password_from_thycotic`` for "not here": the chain goes on.

    Returning ``None`` means the same. Any exception class named ``NotFound`` counts too, so a
    script can define its own and still run where credchain is not installed.
    """


def is_not_found(error: BaseException) -> bool:
    """True for ``NotFound`` and for any exception with a class named ``NotFound`` in its MRO."""
    return any(cls.__name__ == "NotFound" for cls in type(error).__mro__)
