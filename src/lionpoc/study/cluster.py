"""The study on a Dask cluster (``lionpoc study --cluster ADDRESS | local:N``, ``--scheduler-file FILE``).

Two kinds of task: the feature pass in shards of images (a worker receives the bytes of its images and
returns their features and block-13 activations; the client puts the cache together in file order), and
notebook executions: one per (optimizer, seed) when the cluster can run them all at once, else the seeds
of one optimizer grouped so that they can (:func:`plan`; each execution pays a kernel start, its imports
and the compilation of its grid, which an execution of several seeds pays once). An execution's work is
done by its kernel, a process of its own, which leaves about a quarter of its core idle; so, as the
study on one machine runs its three notebooks at once on two cores, a CPU cluster keeps
:data:`KERNELS_PER_SLOT` executions in flight per task slot (the task leaves its worker's thread pool
while its kernel runs); a GPU cluster, one per GPU. No shared file system is assumed: the split, the feature
cache and the notebook template go once to every worker (the result of one task, which they fetch),
each execution runs in a temporary folder of its worker and returns its files as data, and the client
writes every run folder atomically into the results folder, as a study on one machine does.

Faults: a worker that dies takes its task elsewhere (the scheduler's ``allowed-failures``, set to
:data:`ALLOWED_FAILURES` for a local cluster); a scheduler that cannot be reached is one sentence before
any work; Ctrl-C cancels the futures and keeps the runs already written; a real error in a notebook is
the same sentence as on one machine, with the failed notebook and the kernel log copied beside the results.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from lionpoc import files
from lionpoc import machine
from lionpoc.errors import LionpocError
from lionpoc.study import bundle
from lionpoc.study import execute
from lionpoc.study import layout
from lionpoc.study.config import RunConfig

LOCAL = "local:"
CONNECT_TIMEOUT = 10        # seconds to reach a scheduler (and to see a first worker) before giving up
ALLOWED_FAILURES = 2        # a task whose worker dies is tried again elsewhere at most this many times
# Executions in flight per CPU task slot. Measured here (2 cores, 3 notebooks at once): 251 s of kernel time
# in 94 s of wall time, 2.7 kernels busy at a time; with 2 at a time the same trainings took 139 s.
KERNELS_PER_SLOT = 1.5
KERNEL_START_TRIES = 3      # kernels started at once on one machine can collide on their ports: start again
KERNEL_START_FAILURE = execute.KERNEL_START_FAILURE


# ---------------------------------------------------------------------------------- connecting
def parse_local(spec: str) -> int:
    """The N of ``local:N`` (at least 1), or one sentence."""
    count = spec[len(LOCAL):]
    if not count.isdigit() or int(count) < 1:
        raise LionpocError(f"--cluster {spec}: a local cluster is written local:N with N workers (at least 1), "
                           "e.g. local:2.")
    return int(count)


def connect(address: str | None = None, scheduler_file: str | Path | None = None, log=print) -> "DaskExecutor":
    """A client of the cluster: a LocalCluster of N single-threaded workers for ``local:N``, else the
    scheduler at ``address`` or the one named in ``scheduler_file``. Fails with one sentence when the
    scheduler cannot be reached, has no worker, or its workers cannot import lionpoc."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if address and scheduler_file:
        raise LionpocError("pass either --cluster or --scheduler-file, not both.")
    where = str(address or scheduler_file)
    local = None
    if address and address.startswith(LOCAL):
        workers = parse_local(address)
        # No MALLOC_TRIM_THRESHOLD_/OMP_NUM_THREADS from the nanny: they slow the feature pass a worker runs
        # (TensorFlow's threads are set per task, use_threads), as they slowed kernels (nanny_environment).
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                              "distributed.nanny.pre-spawn-environ": {}}):
            local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                 silence_logs=logging.CRITICAL)
        client = Client(local)
    else:
        if scheduler_file:
            check_scheduler_file(Path(scheduler_file))
        if address and "://" not in address:
            raise LionpocError(f"--cluster {address}: give a scheduler address such as tcp://host:8786, or local:N.")
        try:
            client = (Client(scheduler_file=str(scheduler_file), timeout=CONNECT_TIMEOUT) if scheduler_file
                      else Client(address, timeout=CONNECT_TIMEOUT))
        except Exception as exc:  # noqa: BLE001 - whatever distributed raises, the scheduler is not there
            reason = _first_line(exc)
            raise LionpocError(f"cannot reach the Dask scheduler at {where} ({reason}); start it with `dask scheduler` "
                               "or check the address.") from None
    engine = DaskExecutor(client, local, where)
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        engine.close()
        raise LionpocError(f"the Dask scheduler at {where} has no worker; start some with `dask worker {where}`.") \
            from None
    try:
        codes = client.run(worker_check)
    except Exception as exc:  # the function itself cannot be unpickled where lionpoc is missing
        engine.close()
        raise LionpocError(f"the workers of {where} cannot run lionpoc ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); install it on every worker.") \
            from None
    here = machine.code()["sha256"]
    other = {address: found for address, found in sorted(codes.items()) if found != here}
    if other:
        engine.close()
        address, found = next(iter(other.items()))
        raise LionpocError(f"{len(other)} of the {len(codes)} worker(s) of {where} run other lionpoc code than this "
                           f"checkout ({address}: code {found}, here {here}), and their runs would be mixed with "
                           "this code's under the same inputs: install this checkout on every worker (pip install "
                           "-e . from it) and start the workers again.")
    info = engine.describe()
    log(f"cluster: {info['workers']} worker(s), {info['threads']} thread(s), {info['gpus']} GPU(s) on "
        f"{len(info['hosts'])} host(s) ({where})")
    return engine


def check_scheduler_file(path: Path) -> None:
    """A scheduler file is what ``dask scheduler --scheduler-file`` writes: a JSON mapping with the scheduler's
    ``address``. Anything else is one sentence, before trying to connect."""
    start = f"start the scheduler with `dask scheduler --scheduler-file {path}`, which writes it"
    if path.is_dir():
        raise LionpocError(f"--scheduler-file {path} is a folder; give the file the scheduler wrote ({start}).")
    if not path.is_file():
        raise LionpocError(f"the scheduler file {path} does not exist; {start}, first.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LionpocError(f"the scheduler file {path} cannot be read ({getattr(exc, 'strerror', None) or exc}).") \
            from None
    if not text.strip():
        raise LionpocError(f"the scheduler file {path} is empty: the scheduler has not written it yet, or it was "
                           f"cut short; {start}.")
    try:
        found = json.loads(text)
    except ValueError:
        raise LionpocError(f"the scheduler file {path} is not a scheduler file (not JSON); {start}.") from None
    if not isinstance(found, dict) or not isinstance(found.get("address"), str) or "://" not in found["address"]:
        raise LionpocError(f"the scheduler file {path} holds no scheduler address (a JSON mapping with "
                           f"\"address\": \"tcp://...\" is expected); {start}.")


def worker_check() -> str:
    """Runs on every worker when the study connects: lionpoc is importable there; returns the identity of
    its code (:func:`lionpoc.machine.code`), which must be the client's."""
    from lionpoc import machine as worker_machine

    return worker_machine.code()["sha256"]


# ---------------------------------------------------------------------------------- the executor
class DaskExecutor:
    """The study's executor on a Dask cluster: the feature pass (:meth:`extract`) and the notebook
    executions (:meth:`run`) as tasks; a context manager that closes the client (and a local cluster)."""

    def __init__(self, client, local=None, where: str = ""):
        self.client, self.local, self.where = client, local, where
        self.tasks: list[dict] = []     # every task that came back: what, worker, host, seconds
        self.phases: dict = {}          # wall time of each phase, for the idle time

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for thing in (self.client, self.local):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing after an interruption: nothing left to save
                    pass

    # ------------------------------------------------------------------ what the cluster is
    def workers(self) -> dict:
        try:
            return self.client.scheduler_info(n_workers=-1)["workers"]  # every worker, not the first five
        except TypeError:  # distributed before 2025 lists them all anyway
            return self.client.scheduler_info()["workers"]

    def describe(self) -> dict:
        """Where the study ran, for ``study.json``: workers, threads, GPUs, hosts, tasks and idle time."""
        workers = self.workers().values()
        threads = sum(w.get("nthreads", 1) for w in workers)
        busy = sum(t["seconds"] for t in self.tasks)
        wall = sum(self.phases.values())
        return {"address": self.where, "kind": "local" if self.local is not None else "scheduler",
                "workers": len(workers), "threads": threads,
                "gpus": int(sum(w.get("resources", {}).get("GPU", 0) for w in workers)),
                "hosts": sorted({w.get("host", "?") for w in workers}),
                "tasks": self.tasks, "phases_seconds": self.phases, "busy_seconds": busy,
                "idle_seconds": max(0.0, threads * wall - busy)}

    def hosts(self) -> dict:
        """Workers per host: a host's cores are shared by the workers on it."""
        return dict(Counter(w.get("host", "?") for w in self.workers().values()))

    def resources(self) -> dict | None:
        """Each execution asks for one GPU when the cluster has GPU workers (one training per GPU)."""
        return {"GPU": 1} if any(w.get("resources", {}).get("GPU") for w in self.workers().values()) else None

    # ------------------------------------------------------------------ running tasks
    def gather(self, futures: "Submitted", on_result, log=print, then=None) -> None:
        """Wait for ``futures`` (future -> label) as they finish, calling ``on_result(label, result)``, then
        ``then(result)``, which may submit a next task (into ``futures``) and return it to be waited for too.
        Ctrl-C or a failure cancels the rest; a task lost with its worker too many times is one sentence."""
        from concurrent.futures import CancelledError

        from distributed import KilledWorker, as_completed

        try:
            pending = as_completed(list(futures))
            for future in pending:
                label = futures[future]
                try:
                    result = future.result()
                except KilledWorker:
                    raise LionpocError(f"{label} was lost with its worker {ALLOWED_FAILURES + 1} times in a row "
                                       f"(a worker that dies, e.g. out of memory); the runs already finished are "
                                       "kept: run the same command again to resume.") from None
                except CancelledError as exc:  # the scheduler dropped it (restarted, or its inputs lost)
                    raise LionpocError(f"{label} was cancelled by the scheduler ({_first_line(exc)}); the runs "
                                       "already finished are kept: run the same command again to resume.") from None
                self.tasks.append({"task": label, "worker": result.get("worker"), "host": result.get("host"),
                                   "seconds": result.get("task_seconds", 0.0),
                                   "submitted": futures.times[future], "received": time.time(),
                                   "started": result.get("started"), "ended": result.get("ended")})
                following = then(result) if then is not None else None  # the slot gets its next task first
                if following is not None:
                    pending.add(following)
                on_result(label, result)
        except BaseException:
            self.client.cancel(list(futures), force=True)
            raise

    def extract(self, names: list[str], root: Path, image_size: int, weights: str, batch_size: int = 32,
                log=print, backbone: str | None = None):
        """The feature pass in shards of images, one per worker thread, put back together in file order."""
        from lionpoc.model import features

        threads = sum(w.get("nthreads", 1) for w in self.workers().values())
        parts = features.shards(len(names), threads, batch_size)
        hosts, token = self.hosts(), uuid.uuid4().hex[:8]
        log(f"features: {len(names)} images in {len(parts)} shard(s) on the cluster")
        start = time.perf_counter()
        futures = Submitted()
        for i, part in enumerate(parts):
            shard = [names[j] for j in part]
            blobs = [_read_bytes(root / name) for name in shard]
            future = self.client.submit(extract_shard, shard, blobs, image_size, weights, batch_size,
                                        backbone or features.backbones.DEFAULT, hosts,
                                        key=f"features-shard-{i}-{token}", pure=False)
            futures.add(future, f"feature shard {i + 1} of {len(parts)}")
        results = {}
        self.gather(futures, lambda label, result: results.__setitem__(label, result), log)
        found, activations = features.assemble([results[futures[f]] for f in futures], log)
        found.seconds = time.perf_counter() - start
        self.phases["features"] = found.seconds
        log(f"features: {len(found.files)} images in {found.seconds:.1f} s "
            f"({len(found.files) / max(found.seconds, 1e-9):.1f} images/s) on {threads} worker thread(s)")
        return found, activations

    def slots(self) -> list[str]:
        """One entry per task the cluster runs at once: a worker's address once per thread (per GPU when the
        cluster has GPU workers, since each execution then asks for one)."""
        workers = self.workers()
        gpu = self.resources() is not None
        return [address for address, w in sorted(workers.items())
                for _ in range(int(w.get("resources", {}).get("GPU", 0)) if gpu else max(1, w.get("nthreads", 1)))]

    def run(self, todo: list[RunConfig], study, log=print) -> list[dict]:
        """The executions with work left (:func:`plan`); each finished run is written as it comes back."""
        from lionpoc.study import run_files

        key = study.prep.features.key
        pairs = [(cfg, seed) for cfg in todo for seed in cfg.seeds if cfg.force or not run_files.is_done(cfg, seed, key)]
        slots = self.slots()
        hosts, resources, token = self.hosts(), self.resources(), uuid.uuid4().hex[:8]
        share = resources is None  # CPU kernels share their cores; a GPU trains one execution at a time
        in_flight = math.ceil(KERNELS_PER_SLOT * len(slots)) if share else len(slots)
        queue = plan(pairs, in_flight)
        log(f"study: {len(pairs)} (optimizer, seed) run(s) in {len(queue)} notebook execution(s) of "
            f"{execute.TEMPLATE} with papermill on the cluster, {in_flight} at a time on its {len(slots)} task "
            "slot(s)" + ("" if len(queue) == len(pairs) else ", an optimizer's seeds grouped to start fewer kernels"))
        start = time.perf_counter()
        # The bundle is a task of its own rather than scattered data: a worker fetches it once from a peer,
        # and when the workers that held it die (scattered data would then be lost for good, Dask's memory
        # manager keeping one replica), the scheduler makes it again from the task.
        shared = self.client.submit(received, bundle.pack(study.prep, study.root, activations=study.configs[0].fine_tune),
                                    key=f"bundle-{token}", pure=False)
        futures = Submitted()
        by_label = {}

        def submit(worker: str | None = None):
            """The next execution of the queue, on ``worker`` (the one that just became free) if it can."""
            if not queue:
                return None
            cfg, seeds = queue.pop(0)
            where = {"workers": [worker], "allow_other_workers": True} if worker else {}
            future = self.client.submit(execute_seeds, shared, cfg.to_params(), seeds, hosts, share, resources=resources,
                                        key=f"execute-{cfg.optimizer}-seeds-{'-'.join(map(str, seeds))}-{token}",
                                        pure=False, **where)
            label = task_label(cfg, seeds)
            by_label[label] = (cfg, seeds)
            return futures.add(future, label)

        # As many executions as may run at once, then the next one each time one finishes (the longest first):
        # a slot never waits while another holds a queue of its own, whatever each execution turns out to cost.
        for i in range(min(in_flight, len(queue))):
            submit(slots[i % len(slots)])  # spread over the slots (a seceded task frees its own at once)
        done = []

        def write(label, result):
            cfg, seeds = by_label[label]
            for seed in seeds:
                notebook = write_run(cfg, seed, seeds, result, study.results_dir)
                log(execute.seed_line(cfg, seed))
            log(f"{label}: notebook {notebook} ({result['seconds']:.0f} s on {result['worker']})")
            end = time.perf_counter()
            done.append({"optimizer": cfg.optimizer, "seeds": list(seeds), "seconds": result["seconds"],
                         "start": end - result["task_seconds"], "end": end, "worker": result["worker"],
                         "host": result["host"]})

        try:
            self.gather(futures, write, log, then=lambda result: submit(result.get("worker")))
        finally:
            for cfg in todo:  # the per-optimizer view of every seed done so far
                seeds = [s for s in cfg.seeds
                         if (layout.run_dir(cfg.results_dir, cfg.optimizer, s) / "training.ipynb").is_file()]
                if seeds:
                    execute.combine(cfg, seeds)
        self.phases["executions"] = time.perf_counter() - start
        return done


def plan(pairs: list[tuple[RunConfig, int]], at_once: int) -> list[tuple[RunConfig, list[int]]]:
    """The executions of ``pairs`` (optimizer, seed) on a cluster that runs ``at_once`` executions at a
    time, as ``(run, seeds)``, longest first: the order in which they are handed out.

    When the cluster can run every pair at once, one execution per pair. Otherwise an optimizer's seeds
    are grouped by ``ceil(pairs / at_once)``, so that the executions still run together, each kernel
    start, its imports and the compilation of its grid serving several seeds: 3 optimizers x 3 seeds, 3 at
    once, are the 3 executions of the study on one machine; 3 x 10 seeds, 6 at once, are 6 executions of 5.
    """
    if len(pairs) <= at_once:
        return [(cfg, [seed]) for cfg, seed in pairs]
    size = math.ceil(len(pairs) / max(1, at_once))
    groups: list[tuple[RunConfig, list[int]]] = []
    for cfg, seed in pairs:
        if groups and groups[-1][0] is cfg and len(groups[-1][1]) < size:
            groups[-1][1].append(seed)
        else:
            groups.append((cfg, [seed]))
    return sorted(groups, key=lambda group: -len(group[1]))  # stable: the study's order within a size


def task_label(cfg: RunConfig, seeds: list[int]) -> str:
    if len(seeds) == 1:
        return f"the {cfg.optimizer} seed {seeds[0]} execution"
    return f"the {cfg.optimizer} seeds {', '.join(map(str, seeds))} execution"


class Submitted(dict):
    """Futures and their labels, with the time each was submitted."""

    def __init__(self):
        super().__init__()
        self.times: dict = {}

    def add(self, future, label: str):
        self[future], self.times[future] = label, time.time()
        return future


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""  # decoded as "not an image", skipped and listed like any unreadable file


# ---------------------------------------------------------------------------------- on the workers
def received(shared: dict) -> dict:
    """The bundle, as a task's result: what every execution of the study depends on."""
    return shared


def host_threads(hosts: dict) -> int:
    """This worker's share of its host's cores: the cores divided by the workers on that host."""
    return max(1, (os.cpu_count() or 1) // max(1, hosts.get(_where()["host"], 1)))


def use_threads(hosts: dict) -> int:
    """TensorFlow threads for this worker (:func:`host_threads`), set in its own process."""
    threads = host_threads(hosts)
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started in this worker (an earlier task): keep its threads
        pass
    return threads


def _where() -> dict:
    from distributed import get_worker

    worker = get_worker()
    return {"worker": worker.address, "host": worker.address.split("://")[-1].rsplit(":", 1)[0]}


@contextlib.contextmanager
def own_default_seeds(seed: int):
    """Keras gives each initializer without a seed one drawn from Python's global ``random``, which the
    worker's other threads (its event loop) draw from too: a random-weight base built in a task would
    differ from one machine's. The build gets its own generator, seeded as ``set_random_seed`` seeds the
    global one, so the weights are those of a quiet process."""
    import random

    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


def extract_shard(names: list[str], blobs: list[bytes], image_size: int, weights: str, batch_size: int,
                  backbone: str, hosts: dict) -> dict:
    """A worker's part of the feature pass."""
    from lionpoc.model import features

    started = time.time()
    use_threads(hosts)
    with own_default_seeds(features.RANDOM_WEIGHTS_SEED):
        result = features.extract_shard(names, blobs, image_size, weights, batch_size, backbone)
    return {**result, **_where(), "started": started, "ended": time.time(), "task_seconds": time.time() - started}


def execute_seeds(shared: dict, params: dict, seeds: list[int], hosts: dict, share: bool = False) -> dict:
    """One execution of the template for an optimizer's ``seeds``, in a temporary folder of this worker;
    returns its files. ``share``: the task leaves the worker's thread pool once its inputs are unpacked, so
    that the worker may start another execution while this one's kernel runs (CPU kernels share cores)."""
    from distributed import get_worker, secede

    started = time.time()
    base = Path(get_worker().local_directory)
    folder = bundle.unpack(shared, base)
    if share:
        secede()
    threads = host_threads(hosts)
    with tempfile.TemporaryDirectory(prefix="lionpoc-run-", dir=base) as tmp:
        results = Path(tmp) / "results"
        cfg = RunConfig.from_params({**params, "seeds": list(seeds), "results_dir": str(results),
                                     "cache_dir": str(folder / "cache")}, source="the study's parameters")
        for attempt in range(KERNEL_START_TRIES):
            kernels: set = set()
            try:
                _, seconds = execute.execute(cfg, folder, threads, kernels,
                                             {"LIONPOC_PREPARED": str(folder), **nanny_environment()})
                break
            except execute.KernelStartFailed as exc:  # kernels started at once collide on their ports: again
                if attempt + 1 == KERNEL_START_TRIES:
                    return {"error": str(exc), "tmp": str(results), "files": collect(results), **_where()}
                time.sleep(1 + attempt)
            except LionpocError as exc:  # a real error: the sentence, the failed notebook and the log, as data
                return {"error": str(exc), "tmp": str(results), "files": collect(results), **_where()}
            except Exception as exc:
                if attempt + 1 == KERNEL_START_TRIES or not KERNEL_START_FAILURE.search(f"{type(exc).__name__} {exc}"):
                    raise
                time.sleep(1 + attempt)
            finally:
                execute.stop_kernels(kernels)
        return {"files": collect(results), "tmp": str(results), "seconds": seconds, "threads": threads, **_where(),
                "started": started, "ended": time.time(), "task_seconds": time.time() - started}


def nanny_environment() -> dict:
    """The variables a Dask nanny sets for its worker (``distributed.nanny.pre-spawn-environ``), each mapped
    to None: removed from a kernel's environment. A kernel is not a worker: it runs as a process started
    by hand would (measured here: with ``MALLOC_TRIM_THRESHOLD_=65536`` and ``OMP_NUM_THREADS=1`` the
    trainings of a study took 117 s instead of 94 s), its threads set by ``LIONPOC_THREADS``."""
    import dask

    return {name: None for name in dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}}


def collect(results: Path) -> dict:
    """Every file an execution wrote, as ``{relative path: bytes}`` (the split is the client's own)."""
    return {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("*"))
            if p.is_file() and p.name != "split.csv"}


# ---------------------------------------------------------------------------------- back on the client
def write_run(cfg: RunConfig, seed: int, seeds: list[int], result: dict, results_dir: Path) -> Path:
    """Write ``seed``'s part of what the execution of ``seeds`` returned: the run folder (atomically,
    metrics.json last) with the executed notebook inside it (the same notebook in the folder of each seed
    it ran), the kernel log under ``logs/``. A failed execution: its notebook and log, then the
    execution's own sentence with this machine's paths."""
    got, tmp, name = result["files"], result["tmp"], cfg.optimizer
    log_file = Path(results_dir) / "logs" / f"{name}-seed-{seed}.log"
    if f"logs/{name}.log" in got:
        files.atomic_write_bytes(log_file, got[f"logs/{name}.log"])
    if "error" in result:
        failed = Path(results_dir) / name / f"training-seed-{'-'.join(map(str, seeds))}.failed.ipynb"
        if f"{name}/training.failed.ipynb" in got:
            files.atomic_write_bytes(failed, got[f"{name}/training.failed.ipynb"])
        message = (result["error"].replace(f"{tmp}/{name}/training.failed.ipynb", str(failed))
                   .replace(f"{tmp}/logs/{name}.log", str(log_file)))
        raise LionpocError(message)
    run = layout.run_dir(results_dir, name, seed)
    prefix = f"{name}/seed-{seed}/"
    with files.atomic_dir(run) as folder:
        for relative, blob in got.items():
            if relative.startswith(prefix) and relative != prefix + "metrics.json":
                target = folder / relative[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blob)
        for suffix in (".ipynb", ".html"):
            if f"{name}/training{suffix}" in got:
                (folder / f"training{suffix}").write_bytes(got[f"{name}/training{suffix}"])
        metrics = json.loads(got[prefix + "metrics.json"])
        # The run's parameters say where its results are on this machine, not in the worker's temporary folder.
        metrics["params"].update(results_dir=str(cfg.results_dir), cache_dir=str(cfg.cache_dir))
        files.write_json(folder / "metrics.json", metrics)
    return run / "training.ipynb"

