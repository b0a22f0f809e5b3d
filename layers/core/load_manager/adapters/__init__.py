"""Adapters to AWS services other than the stores: starting Step Functions executions, storing reports."""
