"""Options of ``triage scan`` that send its work to a Dask cluster (issue 14), kept apart so the
scan command stays readable: ``--cluster`` and the TLS files. Without ``--cluster`` nothing here
imports Dask."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from triage.errors import UsageError
from triage.scan.scheduler import Scheduler

F = TypeVar("F", bound=Callable[..., Any])

#: Names of the options, for the check that --resume takes only these besides --jobs and --quiet.
CLUSTER_PARAMS = ("cluster", "cluster_ca", "cluster_cert", "cluster_key")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def cluster_options(f: F) -> F:
    for option in reversed(
        [
            click.option(
                "--cluster",
                default=None,
                metavar="ADDRESS",
                help="Run the hashing on a Dask cluster (tcp://HOST:8786 or tls://HOST:8786) instead of"
                " this machine's processes (--jobs then has no effect); its workers read the evidence"
                " from the same path. Needs pip install 'triage[cluster]'; see README.",
            ),
            click.option("--cluster-ca", type=_FILE, default=None, help="TLS: the cluster's CA certificate."),
            click.option("--cluster-cert", type=_FILE, default=None, help="TLS: this client's certificate."),
            click.option(
                "--cluster-key", type=_FILE, default=None, help="TLS: this client's key (if not in the cert)."
            ),
        ]
    ):
        f = option(f)
    return f


@contextmanager
def cluster_scheduler(params: dict[str, Any]) -> Iterator[Scheduler | None]:
    """The Dask scheduler the options ask for (closed afterwards), or None for the local pool."""
    address = params.pop("cluster", None)
    tls = [params.pop(name, None) for name in CLUSTER_PARAMS[1:]]
    if address is None:
        if any(tls):
            raise UsageError("--cluster-ca, --cluster-cert and --cluster-key need --cluster")
        yield None
        return
    from triage.scan.dask_scheduler import DaskScheduler, security_for

    _quiet_dask()
    files = [str(p) if p else None for p in tls]
    scheduler = DaskScheduler(address, security_for(*files))
    try:
        yield scheduler
    finally:
        scheduler.close()


def _quiet_dask() -> None:
    """Dask logs its reconnection attempts and cancelled futures to stderr; the one line this
    command prints for a lost cluster says what matters, and how to continue. Its loggers get
    their levels when it is imported, so it is imported first."""
    try:
        import distributed  # noqa: F401
    except ImportError as e:
        raise UsageError("--cluster needs Dask's distributed: pip install 'triage[cluster]'") from e
    for name in list(logging.root.manager.loggerDict):
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)
