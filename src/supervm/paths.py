"""File paths given as text (requests, job and scene files): refused early if unusable."""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator


def usable_path(text: str) -> str:
    """Return `text` if the operating system can take it as a path, else raise ValueError."""
    if "\x00" in text:
        raise ValueError("a file path cannot contain a NUL character")
    try:
        os.fsencode(text)  # lone surrogates outside the escaped-byte range have no bytes
    except UnicodeEncodeError as exc:
        raise ValueError(f"a file path cannot contain {text[exc.start]!r}") from None
    return text


#: A str field that holds a file path.
PathText = Annotated[str, AfterValidator(usable_path)]
