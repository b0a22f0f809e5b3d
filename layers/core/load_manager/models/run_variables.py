"""What a run's Locust processes got of variables and secrets (`Run.variables`, `Run.secrets`) and the
names and values a start may send: the part of the variables area a run carries, in a module of its
own so that the runs models name it without building the variables API's models (models/variables.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel

MAX_VARIABLE_CHARS = 4096
MAX_RUN_VARIABLES = 100

# An environment variable name as a POSIX shell takes it. Names the platform owns are refused by the
# use case (usecases/variables.py: RESERVED_*), with a 422 that names the rule.
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
VariableValue = Annotated[str, StringConstraints(max_length=MAX_VARIABLE_CHARS, pattern=r"^[^\x00]*$")]  # no NUL: not in an environment
ScopeLevel = Literal["account", "org", "project", "env", "test", "run"]


class RunVariable(ApiModel):
    """A variable a run used, with its value (variables are not secret: a run can be reproduced)."""

    name: str
    value: str
    level: ScopeLevel
    id: str | None = Field(default=None, description="The scoped variable's id (none for the run's own)")
    version: int | None = None


class RunSecret(ApiModel):
    """A secret a run used: which one, and which version of it; never its value."""

    name: str
    level: ScopeLevel
    id: str
    version: int
    reference: str | None = None
