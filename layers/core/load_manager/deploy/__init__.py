"""What the stack does at deploy time, through CloudFormation custom resources (functions/console_publisher).

`console_files` is the one rule of which console files ship and how they are served, shared with
the local runtime (`load-manager serve`); `custom_resource` is CloudFormation's request/response
protocol; `console_publisher` and `cognito_client` are the two resources the console needs.
"""
