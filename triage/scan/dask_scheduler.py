"""The scheduler seam on a Dask ``distributed`` cluster (``triage scan --cluster tcp://HOST:8786``).

Only this module imports ``distributed``, and only when a cluster is asked for, so the default
embedded pool needs neither the package nor a server. The machine running ``triage`` stays the
case store's only writer; the workers get work items (addresses in the evidence, never bytes) and
read the evidence themselves from the same path, the lab's shared read-only mount.

How Dask is used, and why:

- Before anything is written, every worker is checked (:mod:`triage.scan.guard`, through
  ``Client.run``); one that cannot open the evidence or runs other software refuses the scan.
  Items are then pinned to the checked workers (``workers=``, ``allow_other_workers=False``); a
  worker joining later is checked before it gets any, one leaving is written to the audit log.
- Each item runs in a child process of the worker (:mod:`triage.scan.child`), so a decoder that
  crashes or hangs costs that item (a :class:`WorkerFailure`, sent again file by file by the feed
  as the local pool's are), never the worker. A worker killed outright is Dask's business: its
  items run again elsewhere; results are pure functions of the items, so running one twice
  changes nothing, and each is recorded once (the client keeps the key of every item).
- A few futures per worker thread are in flight, refilled as results come (the feed batches
  small files), so the client streams results into the store and never holds a disk's worth.
- Keys carry a random prefix per run, and workers keep no scan's state: several scans can share
  one cluster at once.
- A scheduler that goes away ends the scan with a :class:`ClusterError` (exit 2); what finished is
  in the case, which ``triage scan --resume CASE --cluster ...`` continues.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NoReturn

from triage.errors import ClusterError
from triage.scan.guard import compare, probe
from triage.scan.scheduler import WorkerFailure, WorkItem

GUARD_TASK = "triage.scan.guard:probe"
#: Futures in flight per worker thread: enough that no worker waits for the client's next item.
PER_THREAD = 3
#: Seconds between looks at whether a result has come.
POLL = 0.002
#: Seconds between looks at who is in the cluster (and whether its scheduler still answers).
WATCH_EVERY = 2.0
#: Seconds a scan waits with no checked worker in the cluster before it ends (resumable).
NO_WORKER_WAIT = 300.0
#: Seconds a worker may take to answer its check (it starts its child process first).
CHECK_TIMEOUT = 180.0


def security_for(ca: str | None, cert: str | None, key: str | None) -> Any:
    """Dask's TLS settings from certificate files, or None (Dask's own configuration applies)."""
    if not (ca or cert or key):
        return None
    if not (ca and cert):
        raise ClusterError("TLS needs --cluster-ca and --cluster-cert (and --cluster-key unless in the cert)")
    from distributed.security import Security

    return Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)


class DaskScheduler:
    """Runs work items on the Dask cluster whose scheduler is at ``address``."""

    #: Small-file batches 8 times the local pool's (512 files, 1.6 s of work at most): a Dask
    #: task's round trip costs ~4 ms, and 20,000 small files in 64-file batches spent a third of
    #: the scan on them (benchmarks/cluster.py: 1.51x the pool; with 8x, see docs/scaling.md).
    batch_scale = 8

    def __init__(self, address: str, security: Any = None) -> None:
        self.address = address
        self._security = security
        self._client: Any = None
        self._here: dict[str, Any] = {}
        self._specs: list[Any] = []
        self._names: list[str] = []
        self._allowed: dict[str, dict[str, Any]] = {}  # checked workers and what they told
        self._seen: set[str] = set()  # every worker address seen, checked or refused
        self._store: Any = None

    # -- connection ------------------------------------------------------------------------
    def warm_up(self) -> None:
        if self._client is not None:
            return
        try:
            from distributed import Client
            from distributed.security import Security
        except ImportError as e:
            raise ClusterError("--cluster needs Dask's distributed: pip install 'triage[cluster]'") from e
        if self.address.startswith("tls://") and self._security is None and not Security().tls_ca_file:
            raise ClusterError(
                f"{self.address} is a TLS address: give --cluster-ca and --cluster-cert (and --cluster-key),"
                " or set them in Dask's configuration (distributed.comm.tls)"
            )
        try:
            # The connect timeout (Dask's distributed.comm.timeouts.connect, 30 s by default) is
            # also how long the client waits for a lost scheduler to come back.
            self._client = Client(self.address, security=self._security, set_as_default=False)
        except Exception as e:  # OSError, TimeoutError, a bad address or TLS setting...
            text = " ".join(str(e).split())[:300]
            raise ClusterError(f"cannot connect to the Dask scheduler at {self.address}: {text}") from e

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):  # the scheduler may be gone already
                client.close(timeout=5)

    # -- the check before any work -----------------------------------------------------------
    def check(self, opened: Sequence[Any]) -> None:
        self.warm_up()
        self._specs = [ev.spec for ev in opened]
        self._names = [f"{ev.info.evidence_id} ({ev.info.source})" for ev in opened]
        self._here = probe(self._specs)
        for ev, mine in zip(opened, self._here["evidence"], strict=True):
            if "error" in mine:
                raise ClusterError(f"this machine cannot open the evidence {ev.info.source}: {mine['error']}")
        answers = self._probe(None)
        if not answers:
            raise ClusterError(f"the Dask cluster at {self.address} has no workers")
        for worker in sorted(answers):
            compare(worker, self._here, answers[worker], self._names)
        threads = self._threads()
        self._allowed = {w: _described(a, threads.get(w, 1)) for w, a in answers.items()}
        self._seen = set(answers)

    def _probe(self, workers: list[str] | None) -> dict[str, Any]:
        from triage.scan.child import run_in_child

        try:
            answers = self._client.run(
                run_in_child, GUARD_TASK, self._specs, CHECK_TIMEOUT, workers=workers, on_error="return"
            )
        except (OSError, TimeoutError) as e:
            raise ClusterError(f"the Dask scheduler at {self.address} does not answer: {e}") from e
        return {w: (a.message if isinstance(a, WorkerFailure) else a) for w, a in answers.items()}

    def record(self, store: Any) -> None:
        self._store = store
        self._record_setting()
        for worker, info in sorted(self._allowed.items()):
            store.audit("cluster worker joined", worker=worker, **info)

    def _record_setting(self) -> None:
        if self._store is None:
            return
        workers = {w: self._allowed[w] for w in sorted(self._allowed)}
        self._store.set_setting("cluster", {"scheduler": self.address, "workers": workers})

    # -- who is in the cluster ---------------------------------------------------------------
    def _threads(self) -> dict[str, int]:
        """Each worker's threads, by address, as the scheduler says now."""
        try:
            info = self._client.scheduler_info(n_workers=-1)
        except Exception as e:
            self._lost(e)
        return {w: int(i.get("nthreads", 1)) for w, i in info.get("workers", {}).items()}

    def _watch(self) -> None:
        """Audit workers that left; check workers that joined and let only the fit ones work."""
        threads = self._threads()
        now = set(threads)
        for worker in sorted(set(self._allowed) - now):
            del self._allowed[worker]
            self._seen.discard(worker)  # checked again if it comes back at the same address
            self._audit("cluster worker left", worker=worker)
        new = sorted(now - self._seen)
        if not new:
            return
        self._seen |= set(new)
        for worker, answer in sorted(self._probe(new).items()):
            try:
                compare(worker, self._here, answer, self._names)
            except ClusterError as e:
                self._audit("cluster worker refused", worker=worker, reason=str(e))
                continue
            self._allowed[worker] = _described(answer, threads[worker])
            self._audit("cluster worker joined", worker=worker, **self._allowed[worker])
        self._record_setting()

    def _audit(self, action: str, **details: Any) -> None:
        if self._store is not None:
            self._store.audit(action, **details)

    def _lost(self, cause: BaseException | None) -> NoReturn:
        reason = " ".join(str(cause or "connection closed").split())[:300]
        self._audit("cluster lost", scheduler=self.address, reason=reason)
        raise ClusterError(
            f"lost the Dask scheduler at {self.address}; what was hashed is kept in the case: continue with"
            " 'triage scan --resume CASE_DIR --cluster ...' once it is back"
        )

    def _no_worker(self) -> NoReturn:
        self._audit("cluster lost", scheduler=self.address, reason="no checked worker")
        raise ClusterError(
            f"the Dask cluster at {self.address} has had no checked worker for {NO_WORKER_WAIT:.0f} s;"
            " continue with 'triage scan --resume CASE_DIR --cluster ...'"
        )

    # -- the work ----------------------------------------------------------------------------
    def run(self, task: str, items: Iterable[WorkItem], slots: int) -> Iterator[tuple[Any, Any]]:
        """``slots`` (the local ``--jobs``) is not used: the cluster's threads decide."""
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        from triage.scan.child import run_in_child

        client = self._client
        if client is None:
            raise ClusterError("the cluster was not checked before work was sent")
        source = iter(items)
        prefix = f"triage-{uuid.uuid4().hex[:16]}"
        pending: dict[Any, tuple[WorkItem, frozenset[str]]] = {}  # future -> item, workers it may use
        count = 0
        last_watch = time.monotonic()
        alone_since: float | None = None  # when the last checked worker left
        finished = as_completed(loop=client.loop)

        def submit(item: WorkItem) -> None:
            nonlocal count
            count += 1
            workers = frozenset(self._allowed)
            future = client.submit(
                run_in_child,
                task,
                item.payload,
                item.timeout,
                key=f"{prefix}-{count}",
                workers=sorted(workers),
                allow_other_workers=False,
                pure=False,
            )
            pending[future] = (item, workers)
            finished.add(future)

        try:
            while True:
                while self._allowed and len(pending) < self._limit():
                    item = next(source, None)
                    if item is None:
                        break
                    submit(item)
                if not pending and self._allowed:
                    self._watch()  # the audit log then has who left while the last items ran
                    return
                # as_completed fills its queue from the client's event loop as futures finish;
                # looking at it costs nothing, where a wait() per result costs a round trip.
                deadline = time.monotonic() + WATCH_EVERY
                while not finished.has_ready() and time.monotonic() < deadline:
                    if client.status not in ("running", "connecting"):
                        self._lost(None)
                    time.sleep(POLL)
                done = finished.next_batch(block=False) if finished.has_ready() else []
                if not done or time.monotonic() - last_watch > WATCH_EVERY:
                    self._watch()
                    last_watch = time.monotonic()
                    # Items pinned to workers that have all left would wait for ever: send them
                    # again to the checked workers there are now (a new key; the old is cancelled).
                    for future, (item, workers) in list(pending.items()):
                        if self._allowed and not workers & set(self._allowed):
                            future.cancel()
                            del pending[future]
                            submit(item)
                    alone_since = None if self._allowed else (alone_since or time.monotonic())
                    if alone_since is not None and time.monotonic() - alone_since > NO_WORKER_WAIT:
                        self._no_worker()
                for future in done:
                    if future not in pending:  # cancelled and sent again under another key
                        continue
                    item, _ = pending.pop(future)
                    try:
                        value = future.result()
                    except KilledWorker as e:
                        value = WorkerFailure(f"cluster workers died while processing this item ({e})")
                    except FutureCancelledError as e:
                        if client.status != "running":
                            self._lost(e)
                        value = WorkerFailure("cancelled on the cluster")
                    except Exception as e:
                        value = WorkerFailure(" ".join(f"{type(e).__name__}: {e}".split())[:500])
                    future.release()
                    yield item.key, value
        finally:
            for future in pending:
                future.cancel()

    def _limit(self) -> int:
        threads = sum(int(info.get("threads", 1)) for info in self._allowed.values())
        return max(2, PER_THREAD * threads)


def _described(answer: dict[str, Any], threads: int) -> dict[str, Any]:
    """What the report keeps of a worker's check: its host and the software it hashes with."""
    return {
        "host": answer["host"],
        "triage": answer["triage"],
        "python": answer["python"],
        "libraries": answer["libraries"],
        "threads": threads,
    }
