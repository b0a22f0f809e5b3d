"""The web console's deploy-time custom resources (template.yaml: ConsolePublisher, ConsoleAppClient).

Custom::ConsoleFiles copies the console into its bucket, writes config.json and invalidates CloudFront;
Custom::ConsoleAppClient gives the Cognito app client its callback URLs once CloudFront's domain exists.
The logic lives in the layer (load_manager.deploy); CloudFormation always gets an answer.
"""

from __future__ import annotations

from typing import Any

from load_manager.deploy import cognito_client, console_publisher
from load_manager.deploy.custom_resource import handle

HANDLERS = {
    "Custom::ConsoleFiles": console_publisher.handle,
    "Custom::ConsoleAppClient": cognito_client.handle,
}


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    handle(event, context, HANDLERS)
