"""Bearer authentication as the v2 endpoints do it."""

from __future__ import annotations

from tests.fakes.ct_api.envelope import ApiError
from tests.fakes.ct_api.models import FakeUser
from tests.fakes.ct_api.state import FakeState

UNAUTHORIZED = "UNAUTHORIZED"


def bearer_user(state: FakeState, authorization: str | None) -> FakeUser | None:
    """The account behind the Authorization header; None when there is no header.

    A header that is present must carry a valid bearer token, on every
    endpoint and in every game mode (a public LINK vote included): a revoked,
    unknown, empty or non-Bearer credential is a 401, never silently ignored.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, UNAUTHORIZED, "The Authorization header must be 'Bearer <token>'.")
    user = state.authenticate(token)
    if user is None:
        raise ApiError(401, UNAUTHORIZED, "The bearer token is invalid or has been revoked.")
    return user


def required_user(state: FakeState, authorization: str | None) -> FakeUser:
    user = bearer_user(state, authorization)
    if user is None:
        raise ApiError(401, UNAUTHORIZED, "A bearer token is required.")
    return user
