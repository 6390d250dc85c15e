"""`indigo-verify`: check a deployment's public log from the outside (README, "Checking the queue
yourself").

Exit codes: 0 every check passed; 1 a check failed (the one line printed names it); 2 the log
could not be read or the input is malformed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta, timezone
from pathlib import Path

from verifier.client import (
    CheckFailed,
    LogClient,
    LogUnreachable,
    check_consistent,
    load_state,
    save_state,
    signed,
    verified_leaves,
)
from verifier.receipt import check_receipt
from verifier.replay import Rules, replay

OK, FAILED, UNREACHABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except CheckFailed as failed:
        print(f"FAILED {failed.check}: {failed.reason}")
        return FAILED
    except (LogUnreachable, OSError, ValueError, KeyError) as error:
        print(f"ERROR cannot read the log: {error}")
        return UNREACHABLE


def _checkpoint(args: argparse.Namespace) -> int:
    client = LogClient(args.url)
    latest = signed(client.checkpoint(), args.key)
    state = Path(args.state) if args.state else None
    previous = load_state(state) if state is not None else None
    if previous is not None:
        check_consistent(client, previous, latest)
        print(
            f"OK {latest.origin}: size {latest.size}, signature valid, consistent with "
            f"the size {previous.size} seen before"
        )
    else:
        print(f"OK {latest.origin}: size {latest.size}, signature valid")
    if state is not None:
        save_state(state, latest)
    return OK


def _receipt(args: argparse.Namespace) -> int:
    text = Path(args.file).read_text() if args.file != "-" else sys.stdin.read()
    client = LogClient(args.url) if args.url else None
    result = check_receipt(text, args.key, client)
    where = (
        f", consistent with the latest checkpoint (size {result.latest_size})"
        if result.latest_size is not None
        else " (not compared with the live log: no --url)"
    )
    print(
        f"OK application {result.number}: {result.action} at {result.at} is leaf {result.seq} "
        f"of the signed checkpoint of size {result.checkpoint_size}{where}"
    )
    return OK


def _replay(args: argparse.Namespace) -> int:
    client = LogClient(args.url)
    checkpoint = signed(client.checkpoint(), args.key)
    leaves = verified_leaves(client, checkpoint)
    print(f"{checkpoint.origin}: {checkpoint.size} leaves hash to the signed root")
    report = replay(leaves, _rules(args))
    for line in report.lines():
        print(line)
    if not report.ok:
        first = report.findings[0]
        print(f"FAILED {first.check}: {report.jumps} finding(s), first: {first}")
        return FAILED
    return OK


def _rules(args: argparse.Namespace) -> Rules:
    return Rules(
        ratio=args.ratio,
        min_age_years=args.min_age,
        max_age_years=args.max_age,
        tz=timezone(timedelta(hours=args.utc_offset)),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="indigo-verify", description="Check the public log of the kindergarten queue."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser, *, url_required: bool = True) -> None:
        sub.add_argument("--url", required=url_required, help="the deployment, e.g. https://...")
        sub.add_argument("--key", required=True, help="the log's verifier key (name+id+key)")

    checkpoint = commands.add_parser("checkpoint", help="signature and consistency over time")
    common(checkpoint)
    checkpoint.add_argument("--state", help="file keeping the last checkpoint seen")
    checkpoint.set_defaults(run=_checkpoint)

    receipt = commands.add_parser("receipt", help="a parent's receipt ('-': standard input)")
    receipt.add_argument("file")
    common(receipt, url_required=False)
    receipt.set_defaults(run=_receipt)

    rules = Rules()
    replay_cmd = commands.add_parser("replay", help="replay the queue: no queue jumps")
    common(replay_cmd)
    replay_cmd.add_argument("--ratio", type=int, default=rules.ratio, help="first_priority_ratio")
    replay_cmd.add_argument("--min-age", type=int, default=rules.min_age_years)
    replay_cmd.add_argument("--max-age", type=int, default=rules.max_age_years)
    replay_cmd.add_argument("--utc-offset", type=int, default=5, help="the city's UTC offset")
    replay_cmd.set_defaults(run=_replay)
    return parser


if __name__ == "__main__":
    sys.exit(main())
