"""Launching a PyTorch run over several processes and hosts through torchrun, with clear failures.

``archspec train SPEC --backend torch --nproc N`` runs torchrun's own launcher (the code behind
``python -m torch.distributed.run``) in this process: it starts N workers on this host, each a
plain training script that reads its rank from the environment. ``--nnodes``, ``--node-rank``,
``--master-addr`` and ``--master-port`` pass straight through (static rendezvous: node 0 hosts
the store). Nothing here retries: ``--max-restarts 0``, and every wait is bounded by
``--dist-timeout`` (rendezvous, and every collective through ``ARCHSPEC_DIST_TIMEOUT``), so a
dead rank, a busy port or an unreachable master ends the job with one message instead of a hang.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from archspec.training.distributed import DEFAULT_TIMEOUT_S, ENV_TIMEOUT

DEFAULT_MASTER_PORT = 29500  # torchrun's default, for jobs over several hosts


class LaunchError(Exception):
    """A distributed job that could not start or did not finish (one line, no traceback)."""


@dataclass(frozen=True)
class Launch:
    """Where the workers run: ``nproc`` per node on ``nnodes`` nodes, node 0 at the master."""

    nproc: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int | None = None  # None: a free port on one node, 29500 over several
    timeout_s: int = DEFAULT_TIMEOUT_S

    def problems(self) -> list[str]:
        """What is wrong with these settings (checked before anything starts)."""
        checks = [
            (self.nproc >= 1, f"--nproc must be at least 1, got {self.nproc}"),
            (self.nnodes >= 1, f"--nnodes must be at least 1, got {self.nnodes}"),
            (
                0 <= self.node_rank < self.nnodes,
                f"--node-rank {self.node_rank} is not in 0..{self.nnodes - 1} (--nnodes {self.nnodes})",
            ),
            (
                self.master_port is None or 0 < self.master_port < 65536,
                f"--master-port must be in 1..65535, got {self.master_port}",
            ),
            (self.timeout_s > 0, f"--dist-timeout must be positive, got {self.timeout_s}"),
        ]
        return [message for ok, message in checks if not ok]

    @property
    def world_size(self) -> int:
        return self.nproc * self.nnodes

    def port(self) -> int:
        """The master port: as given, else torchrun's 29500 over hosts, else a free local one."""
        if self.master_port is not None:
            return self.master_port
        return DEFAULT_MASTER_PORT if self.nnodes > 1 else free_port(self.master_addr)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The launch options of ``archspec train`` (torchrun's names and meanings)."""
    group = parser.add_argument_group("distributed (PyTorch, through torchrun)")
    group.add_argument("--nproc", type=int, help="processes on this host (DDP; one per GPU)")
    group.add_argument("--nnodes", type=int, default=1, help="hosts in the job (default 1)")
    group.add_argument("--node-rank", type=int, default=0, help="this host's rank, 0 is master")
    group.add_argument("--master-addr", default="127.0.0.1", help="node 0's address")
    group.add_argument("--master-port", type=int, help="node 0's port (default: a free one)")
    group.add_argument(
        "--dist-timeout",
        type=int,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"longest wait for the other ranks (default {DEFAULT_TIMEOUT_S})",
    )


def from_args(args: argparse.Namespace) -> Launch:
    """The launch that ``add_arguments``'s options describe."""
    return Launch(
        nproc=args.nproc or 1,
        nnodes=args.nnodes,
        node_rank=args.node_rank,
        master_addr=args.master_addr,
        master_port=args.master_port,
        timeout_s=args.dist_timeout,
    )


def free_port(addr: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((addr, 0))
        return sock.getsockname()[1]


def torchrun_argv(launch: Launch, entry: Sequence[str], port: int) -> list[str]:
    """torchrun's arguments for ``entry`` (a script and its arguments)."""
    return [
        f"--nproc-per-node={launch.nproc}",
        f"--nnodes={launch.nnodes}",
        f"--node-rank={launch.node_rank}",
        f"--master-addr={launch.master_addr}",
        f"--master-port={port}",
        "--rdzv-backend=static",
        f"--rdzv-conf=timeout={launch.timeout_s}",
        "--max-restarts=0",
        "--monitor-interval=0.5",
        *entry,
    ]


def run(launch: Launch, entry: Sequence[str]) -> None:
    """Run ``entry`` (``[script.py, *args]``) on this node's ranks; raise LaunchError on failure.

    Workers inherit this environment plus ``ARCHSPEC_DIST_TIMEOUT``.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser
    from torch.distributed.run import run as torchrun

    if problems := launch.problems():
        raise LaunchError("; ".join(problems))
    port = launch.port()
    args = get_args_parser().parse_args(torchrun_argv(launch, entry, port))
    os.environ[ENV_TIMEOUT] = str(launch.timeout_s)
    if launch.nproc > 1:  # torchrun's own default, set here so it need not warn about it
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    # torchrun logs each failure with a C++ stack; the one-line LaunchError says it better.
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    try:
        torchrun(args)
    except ChildFailedError as err:
        raise LaunchError(describe_child_failure(err)) from None
    except SignalException as err:  # torchrun stopped every rank on our SIGINT/SIGTERM
        if err.sigval == signal.SIGINT:
            raise KeyboardInterrupt from None
        raise LaunchError(f"stopped by {err.sigval.name}; every rank was stopped") from None
    except RuntimeError as err:  # DistNetworkError, DistStoreError: rendezvous at the master
        raise LaunchError(describe_rendezvous_failure(str(err), launch, port)) from None


def describe_child_failure(err: object) -> str:
    """Which rank failed first, and how; torchrun has already stopped the others."""
    rank, failure = err.get_first_failure()  # type: ignore[attr-defined]
    if failure.exitcode < 0:
        how = f"was killed by {failure.signal_name()}"
    else:
        how = f"exited with status {failure.exitcode}"
    detail = failure.message.get("message", "") if isinstance(failure.message, dict) else ""
    detail = f": {detail.splitlines()[0]}" if detail else ""
    others = sorted(r for r in err.failures if r != rank)  # type: ignore[attr-defined]
    stopped = f"; ranks {others} were stopped" if others else ""
    return (
        f"distributed run failed: rank {rank} (local rank {failure.local_rank}, "
        f"pid {failure.pid}) {how}{detail}{stopped}"
    )


# (pattern in torch's message, what it means here); the first match wins.
RENDEZVOUS_FAILURES: list[tuple[str, str]] = [
    (
        r"EADDRINUSE|address already in use",
        "port {port} on {addr} is already in use: choose another --master-port "
        "(on one host, leave it out and archspec picks a free one)",
    ),
    (
        r"timed out .* trying to connect|Connection refused|ECONNREFUSED",
        "node {node} could not reach the master at {addr}:{port} within {timeout} s: start "
        "node 0 first and check --master-addr, --master-port and the firewall",
    ),
    (
        r"waiting for clients",
        "not every node joined the master at {addr}:{port} within {timeout} s ({detail}): "
        "start all --nnodes nodes with the same --master-addr and --master-port",
    ),
]


def describe_rendezvous_failure(message: str, launch: Launch, port: int) -> str:
    """A rendezvous error in this job's terms (which port, which node, what to check)."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    joined = re.search(r"\d+/\d+ clients joined", message)
    for pattern, text in RENDEZVOUS_FAILURES:
        if re.search(pattern, message, re.IGNORECASE):
            return text.format(
                port=port,
                addr=launch.master_addr,
                node=launch.node_rank,
                timeout=launch.timeout_s,
                detail=joined.group(0) if joined else first,
            )
    return f"torchrun could not start the job at {launch.master_addr}:{port}: {first}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m archspec.backends.torch.launch [options] SCRIPT [ARGS...]``: torchrun with
    archspec's bounded waits and one-line failures (what ``archspec train --nproc`` runs)."""
    import sys

    parser = argparse.ArgumentParser(prog="python -m archspec.backends.torch.launch")
    add_arguments(parser)
    parser.add_argument("entry", nargs=argparse.REMAINDER, help="the script and its arguments")
    args = parser.parse_args(argv)
    if not args.entry:
        parser.error("give the training script to run")
    try:
        run(from_args(args), args.entry)
    except LaunchError as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
