"""Locust backends: how a run's Locust cluster is started, watched, collected and torn down.

`base` is the port (stdlib only); `local` runs real Locust processes on this machine.
"""
