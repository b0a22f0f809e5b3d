"""The `load-manager` command: run the control plane on this machine."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from load_manager_local import commands, local_commands


def main(argv: list[str] | None = None) -> int:
    parser = commands.CliParser(
        prog="load-manager", description="Load Manager: the local runtime, and a client of any Load Manager API", epilog=commands.EPILOG_EXIT_CODES
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    commands.register(sub)  # tests, script, runs, baseline: a client of any Load Manager API
    local_commands.register(sub)  # invoke, events tail, migrate: this machine's stores and bus
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "WARNING").upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(args)
    return local_commands.run(args)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    from load_manager_local.console_config import console_config_file

    serve = sub.add_parser("serve", help="serve every HTTP route of template.yaml, and the web console, on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    serve.add_argument("--data-dir", default=".data", help="SQLite database, reports and run files live here")
    serve.add_argument("--console-config", metavar="FILE", type=console_config_file, help="the console's /config.json (default: no sign-in)")
    serve.add_argument("--log-level", default="INFO")


def _serve(args: argparse.Namespace) -> int:
    import os

    # Metrics are CloudWatch EMF lines on stdout: noise on a terminal, with nobody to read them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-local")
    from load_manager_local.aws import AwsGateway
    from load_manager_local.runtime import set_public_base_url, start_local_runtime
    from load_manager_local.server import LocalApiServer

    lifecycle = start_local_runtime(args.data_dir)
    data = lifecycle.functions.data
    try:
        server = LocalApiServer(port=args.port, console_config=args.console_config, aws=AwsGateway(lifecycle.sfn.region))
    except OSError as exc:  # the port is taken, most likely
        lifecycle.stop()
        print(f"load-manager serve: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 3
    set_public_base_url(server.url)
    # SIGTERM ends the server like Ctrl-C does, so callers can stop it cleanly.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"Load Manager API listening on {server.url} (data in {data})", flush=True)
    stack = lifecycle.functions.stack
    where = f"bus {stack.event_bus_name}, schedule group {stack.schedule_group}"
    print(f"EventBridge and Scheduler APIs: {server.url}/aws ({where}; events put there are recorded in {data}/events.jsonl)", flush=True)
    if server.console is not None:
        print(f"Web console: {server.url}/", flush=True)
    logging.getLogger("load_manager_local").warning(
        "local mode: Bearer JWTs are decoded WITHOUT signature verification (API tokens, lmt_..., are checked as in AWS); "
        "without one you are local@localhost in tenant 'local'"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        lifecycle.stop()  # stops running executions: Finalize/MarkFailed never get to run
    return 0


if __name__ == "__main__":
    sys.exit(main())
