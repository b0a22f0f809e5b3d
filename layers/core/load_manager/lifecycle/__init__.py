"""The run lifecycle: the steps the state machine runs, its polling budget, its error contract."""
