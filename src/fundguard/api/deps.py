"""Shared route dependencies: a DuckDB cursor per request and the workflow services on the app state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from fundguard.api.security import current_principal


def duck_cursor(request: Request) -> Iterator[Any]:
    """One cursor per request on the app's single DuckDB connection (cursors are safe across threads)."""
    cur = request.app.state.con.cursor()
    try:
        yield cur
    finally:
        cur.close()


def item_service(request: Request):
    return request.app.state.items


def user_service(request: Request):
    return request.app.state.users


Duck = Annotated[Any, Depends(duck_cursor)]
Items = Annotated[Any, Depends(item_service)]
Users = Annotated[Any, Depends(user_service)]
Principal = Annotated[Any, Depends(current_principal)]
