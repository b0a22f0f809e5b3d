"""Runs: starting them, the Step Functions lifecycle steps, clusters and reports."""
