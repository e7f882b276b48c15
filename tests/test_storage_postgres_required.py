"""Whether a PostgreSQL test without a server skips (locally) or fails (CI).

These run without PostgreSQL: they drive the decision with a made-up environment.
"""

import pytest

from tests.fixtures.storage import connect_postgres, postgres_required, postgres_unavailable

REQUIRED = {"REQUIRE_POSTGRES": "1"}
# Port 9 (discard) has no PostgreSQL listening: the connection is refused at once.
UNREACHABLE_URL = "postgresql+asyncpg://bot:hunter2-secret@127.0.0.1:9/ct"


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_yes_values_require_postgres(value: str) -> None:
    assert postgres_required({"REQUIRE_POSTGRES": value}) is True


@pytest.mark.parametrize("environ", [{}, {"REQUIRE_POSTGRES": ""}, {"REQUIRE_POSTGRES": "0"}])
def test_postgres_is_optional_without_the_switch(environ: dict[str, str]) -> None:
    assert postgres_required(environ) is False


def test_missing_postgres_skips_with_the_reason_when_optional() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"server is down.*REQUIRE_POSTGRES=1"):
        postgres_unavailable("the server is down", {})


def test_missing_postgres_fails_when_required() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"required.*but the server is down"):
        postgres_unavailable("the server is down", REQUIRED)


async def test_unset_url_skips_when_optional() -> None:
    with pytest.raises(pytest.skip.Exception, match="TEST_DATABASE_URL is unset"):
        await connect_postgres({})


async def test_unset_url_fails_when_required() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"required.*TEST_DATABASE_URL is unset"):
        await connect_postgres(REQUIRED)


async def test_unreachable_server_skips_when_optional() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"127.0.0.1:9.*unreachable") as info:
        await connect_postgres({"TEST_DATABASE_URL": UNREACHABLE_URL})
    assert "hunter2" not in str(info.value)


async def test_unreachable_server_fails_when_required() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"required.*127.0.0.1:9.*unreachable") as info:
        await connect_postgres({"TEST_DATABASE_URL": UNREACHABLE_URL, **REQUIRED})
    assert "hunter2" not in str(info.value)
