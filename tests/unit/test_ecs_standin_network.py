"""The ECS stand-in's network model (tests/support/ecs_standin_network.py): EC2's security group
rules decide which task may connect to which, and a task process really gets a dropped connection
for what they do not admit (a child Python with the model as its sitecustomize)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from support import ecs_standin_network as network
from support.ecs_standin_network import admits, rules_of

MASTER, WORKER, OTHER = "127.10.0.1", "127.10.0.2", "127.20.0.1"


def group(ingress=(), egress=({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},)) -> dict:
    return rules_of({"IpPermissions": list(ingress), "IpPermissionsEgress": list(egress)})


def tcp(port: int, *, groups=(), cidrs=()) -> dict:
    return {
        "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "UserIdGroupPairs": [{"GroupId": g} for g in groups], "IpRanges": [{"CidrIp": c} for c in cidrs],
    }  # fmt: skip


def state(run_a: dict, run_b: dict | None = None, identity: dict | None = None) -> dict:
    return {
        "tasks": {
            MASTER: {"ip": "10.0.1.10", "groups": ["sg-a", "sg-id"]},
            WORKER: {"ip": "10.0.1.11", "groups": ["sg-a", "sg-id"]},
            OTHER: {"ip": "10.0.2.20", "groups": ["sg-b", "sg-id"]},
        },
        "groups": {"sg-a": run_a, "sg-b": run_b or group(), "sg-id": identity or group()},
    }


RUN_A = group([tcp(5557, groups=["sg-a"]), tcp(8089, groups=["sg-lambda"])])


def test_a_run_group_admits_its_workers_on_the_master_port_and_nobody_else():
    net = state(RUN_A)
    assert admits(net, WORKER, MASTER, 5557)
    assert not admits(net, WORKER, MASTER, 8089)  # the web API: the control plane's group only
    assert not admits(net, OTHER, MASTER, 5557) and not admits(net, OTHER, MASTER, 8089)
    assert not admits(net, WORKER, MASTER, 5557, "udp")
    assert admits(net, MASTER, MASTER, 8089)  # its own address
    assert admits(net, OTHER, "127.0.0.1", 8089)  # not a task: the target, the moto server (outside the model)
    assert not admits(net, "127.99.0.1", MASTER, 5557)  # a task whose interface is gone has no group


def test_what_opens_a_run_to_another_and_what_does_not():
    assert admits(state(group([tcp(5557, groups=["sg-b"])])), OTHER, MASTER, 5557)  # a rule naming B's group
    assert admits(state(group([tcp(5557, cidrs=["10.0.2.0/24"])])), OTHER, MASTER, 5557)  # a CIDR holding B's ENI
    assert not admits(state(group([tcp(5557, cidrs=["10.0.3.0/24"])])), OTHER, MASTER, 5557)
    assert admits(state(group([{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-b"}]}])), OTHER, MASTER, 8089)
    # A group every task shares admits every run, if it admits itself: why LocustTasksSecurityGroup never may.
    assert admits(state(RUN_A, identity=group([tcp(8089, groups=["sg-id"])])), OTHER, MASTER, 8089)
    # Egress counts too: B's groups must let the connection out.
    closed = state(group([tcp(5557, groups=["sg-b"])]), run_b=group(egress=()), identity=group(egress=()))
    assert not admits(closed, OTHER, MASTER, 5557)


def test_a_task_process_gets_a_dropped_connection_for_what_the_rules_do_not_admit(tmp_path):
    listener = socket.create_server((MASTER, 0))
    port = listener.getsockname()[1]
    try:
        folder = tmp_path / "python"
        folder.mkdir()
        network.write_sitecustomize(folder)
        rules = tmp_path / "network.json"
        rules.write_text(json.dumps(state(group([tcp(port, groups=["sg-a"])]))))
        probe = textwrap.dedent(f"""
            import errno, socket
            outcomes = []
            for _ in range(2):
                try:
                    socket.create_connection(("{MASTER}", {port}), timeout=5).close()
                    outcomes.append("connected")
                except TimeoutError as exc:
                    outcomes.append(f"TimeoutError {{exc.errno == errno.ETIMEDOUT}}")
                s = socket.socket()
                outcomes.append(s.connect_ex(("{MASTER}", {port})))
                s.close()
            print(outcomes)
        """)

        def run(source: str) -> str:
            env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(folder), network.NETWORK_ENV: str(rules), network.ADDRESS_ENV: source}
            done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        assert run(WORKER) == "['connected', 0, 'connected', 0]"
        assert run(OTHER) == f"['TimeoutError True', {errno.ETIMEDOUT}, 'TimeoutError True', {errno.ETIMEDOUT}]"
        # The stand-in rewrites the file when EC2 changes: a task sees the new rules at once.
        rules.write_text(json.dumps(state(group([tcp(port, groups=["sg-a", "sg-b"])]))))
        assert run(OTHER) == "['connected', 0, 'connected', 0]"
    finally:
        listener.close()


@pytest.mark.parametrize("missing", [network.NETWORK_ENV, network.ADDRESS_ENV])
def test_a_process_that_is_not_a_task_is_left_alone(monkeypatch, missing):
    monkeypatch.setenv(network.NETWORK_ENV, "/nonexistent.json")
    monkeypatch.setenv(network.ADDRESS_ENV, OTHER)
    monkeypatch.delenv(missing)
    before = socket.socket.connect
    network.install()
    assert socket.socket.connect is before
