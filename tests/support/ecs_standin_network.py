"""The ECS stand-in's network: EC2 security groups between its tasks, enforced where the tasks run.

Fargate gives each task its own network interface (ENI), and only what the security groups admit
reaches it. The stand-in's tasks are processes sharing this machine's loopback, each with its own
127.x.y.z address (tests/support/ecs_standin.py), so nothing in the kernel stops one from reaching
another. This file does, from inside each task's processes: the stand-in copies it as
`sitecustomize.py` into a folder it puts on every task's PYTHONPATH, so every Python process of a
task (the bundle loader, pip, Locust, and anything they start) imports it at start, and it wraps
how Python opens connections:

    socket.socket.connect / connect_ex            (the standard library; create_connection uses them)
    gevent's SocketMixin._internal_connect         (Locust's sockets once gevent has patched socket)
    zmq.Socket.connect                             (Locust's master port: libzmq connects in C)

A connection from this task to another task's address is let through only if EC2's rules, as moto
holds them, admit it: one of the destination's groups has an ingress rule for the protocol and port
whose source is one of this task's groups (or a CIDR holding this task's ENI address), and one of
this task's groups has a matching egress rule towards the destination. The rules come from a JSON
file the stand-in writes from moto's EC2 state (`NETWORK_ENV`), rewritten when a task starts or its
ENI is released and after each security group change made through the stand-in's EC2 client; it is
re-read whenever it changes. What the rules drop fails as a dropped SYN does, only at once:
connect raises TimeoutError (ETIMEDOUT), connect_ex returns ETIMEDOUT (gevent: EAGAIN), and a
zmq connect goes to a closed port instead, so it never completes (zmq keeps retrying).

Not modelled: connections to anything that is not a task's address (the target, the moto server:
outside the VPC model, egress is assumed open); a task reaching its own address; code that opens
connections without Python's socket module or pyzmq (ctypes, a subprocess's curl); UDP and raw
sockets beyond the same connect check; security group changes made through a client other than
the stand-in's until the next task start or ENI release; network ACLs, routes, prefix lists.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

NETWORK_ENV = "LOAD_MANAGER_STANDIN_NETWORK"  # the rules file the stand-in keeps current
ADDRESS_ENV = "LOAD_MANAGER_STANDIN_ADDRESS"  # this task's address
_PROTOCOLS = {"6": "tcp", "17": "udp", "tcp": "tcp", "udp": "udp", "-1": "-1", "all": "-1"}
DROPPED = "Connection timed out (ECS stand-in: no security group rule admits it)"


# ---- the decision (pure) ------------------------------------------------------------------------


def admits(network: Mapping[str, Any], source: str, destination: str, port: int, protocol: str = "tcp") -> bool:
    """Whether EC2's rules let task `source` open a connection to `destination`:`port`."""
    tasks = network.get("tasks") or {}
    target = tasks.get(destination)
    if target is None or source == destination:
        return True  # not a task's interface (outside the model), or its own
    origin = tasks.get(source) or {"groups": [], "ip": None}  # a task whose ENI is gone has no groups
    groups = network.get("groups") or {}

    def any_rule(owner_groups: Sequence[str], direction: str, peer: Mapping[str, Any]) -> bool:
        return any(
            _rule_admits(rule, port, protocol, peer.get("groups") or [], peer.get("ip"))
            for group in owner_groups
            for rule in (groups.get(group) or {}).get(direction) or []
        )

    return any_rule(target.get("groups") or [], "ingress", origin) and any_rule(origin.get("groups") or [], "egress", target)


def _rule_admits(rule: Mapping[str, Any], port: int, protocol: str, peer_groups: Sequence[str], peer_ip: str | None) -> bool:
    wanted = _PROTOCOLS.get(str(rule.get("protocol")), str(rule.get("protocol")))
    if wanted != "-1" and (wanted != protocol or not int(rule.get("from", 0)) <= port <= int(rule.get("to", 65535))):
        return False
    if any(group in peer_groups for group in rule.get("groups") or []):
        return True
    return bool(peer_ip) and any(ipaddress.ip_address(peer_ip) in ipaddress.ip_network(cidr, strict=False) for cidr in rule.get("cidrs") or [])


def rules_of(security_group: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One group's rules, from DescribeSecurityGroups, as `admits` reads them."""

    def rules(permissions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "protocol": str(p.get("IpProtocol")), "from": p.get("FromPort", 0), "to": p.get("ToPort", 65535),
                "groups": [pair["GroupId"] for pair in p.get("UserIdGroupPairs") or [] if pair.get("GroupId")],
                "cidrs": [r["CidrIp"] for r in p.get("IpRanges") or [] if r.get("CidrIp")],
            }  # fmt: skip
            for p in permissions
        ]

    return {"ingress": rules(security_group.get("IpPermissions") or []), "egress": rules(security_group.get("IpPermissionsEgress") or [])}


# ---- in a task's processes ----------------------------------------------------------------------


class _Model:
    """This task's view of the rules file, re-read whenever the stand-in rewrites it."""

    def __init__(self, path: str, address: str):
        self.path, self.address = path, address
        self._stamp: tuple[int, int] | None = None
        self._network: dict[str, Any] = {}
        self._lock = threading.Lock()

    def network(self) -> dict[str, Any]:
        with self._lock:
            try:
                stat = os.stat(self.path)
            except OSError:
                return self._network
            if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                try:
                    with open(self.path, encoding="utf-8") as file:
                        self._network = json.load(file)
                    self._stamp = (stat.st_mtime_ns, stat.st_size)
                except (OSError, ValueError):
                    pass  # mid-replace: keep the last complete view
            return self._network

    def dropped(self, family: int, kind: int, address: Any) -> bool:
        if family != socket.AF_INET or not isinstance(address, tuple) or len(address) < 2:
            return False
        protocol = "udp" if kind & socket.SOCK_DGRAM else "tcp"
        return not admits(self.network(), self.address, str(address[0]), int(address[1]), protocol)


def _timed_out() -> TimeoutError:
    return TimeoutError(errno.ETIMEDOUT, DROPPED)


def _patch_stdlib(model: _Model) -> None:
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if model.dropped(self.family, self.type, address):
            raise _timed_out()
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if model.dropped(self.family, self.type, address):
            return errno.ETIMEDOUT
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def _patch_gevent(model: _Model) -> Callable[[Any], None]:
    def patch(module: Any) -> None:
        mixin = module.SocketMixin
        original = mixin._internal_connect

        def _internal_connect(self: Any, address: Any) -> Any:
            if model.dropped(self.family, self.type, address):
                raise _timed_out()
            return original(self, address)

        mixin._internal_connect = _internal_connect

    return patch


def _patch_zmq(model: _Model) -> Callable[[Any], None]:
    def patch(module: Any) -> None:
        sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sink.bind(("127.0.0.1", 0))  # bound, never listening: every SYN to it is refused
        closed = f"tcp://127.0.0.1:{sink.getsockname()[1]}"
        klass = module.Socket
        original = klass.connect

        def connect(self: Any, addr: Any) -> Any:
            text = addr.decode() if isinstance(addr, bytes) else str(addr)
            if text.startswith("tcp://") and ":" in text[6:]:
                host, _, port = text[6:].rpartition(":")
                if port.isdigit() and model.dropped(socket.AF_INET, socket.SOCK_STREAM, (host.strip("[]"), int(port))):
                    return original(self, closed)  # never completes, as toward a dropping group
            return original(self, addr)

        klass.connect = connect
        klass._load_manager_sink = sink  # kept open for the process's life

    return patch


def write_sitecustomize(folder: str | os.PathLike[str]) -> None:
    """Puts this model in `folder` as its `sitecustomize`, with the product's import hook beside it."""
    import shutil

    from load_manager.backends import web_guard  # in the test process only: tasks import the copy

    shutil.copyfile(__file__, os.path.join(folder, "sitecustomize.py"))
    shutil.copyfile(web_guard.__file__, os.path.join(folder, "standin_web_guard.py"))


def install() -> None:
    path, address = os.environ.get(NETWORK_ENV), os.environ.get(ADDRESS_ENV)
    if not path or not address:
        return
    # The product's import hook (backends/web_guard.py), which the stand-in copies beside this file.
    from standin_web_guard import when_imported

    model = _Model(path, address)
    _patch_stdlib(model)
    when_imported("gevent._socketcommon", _patch_gevent(model))
    when_imported("zmq.sugar.socket", _patch_zmq(model))


if __name__ == "sitecustomize":
    install()
    from standin_web_guard import run_shadowed_sitecustomize  # beside this file, as in install()

    run_shadowed_sitecustomize(os.path.dirname(os.path.abspath(__file__)))
