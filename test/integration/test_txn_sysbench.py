"""Issue 3: sysbench read/write workloads at 16 threads: no errors other
than retried deadlocks / lock wait timeouts (--mysql-ignore-errors)."""
import re
import shutil
import subprocess

import pytest

TABLES = 4
TABLE_SIZE = 10000
SECONDS = 10


def sysbench(node, workload, action, threads=16, secs=SECONDS, extra=()):
    cmd = ["sysbench", workload, "--db-driver=mysql", "--mysql-host=127.0.0.1",
           "--mysql-port=%d" % node.port, "--mysql-user=root", "--mysql-password=",
           "--mysql-db=sbtest", "--tables=%d" % TABLES, "--table-size=%d" % TABLE_SIZE,
           "--threads=%d" % threads, "--time=%d" % secs, "--report-interval=0",
           "--mysql-ignore-errors=1213,1205"] + list(extra) + [action]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 240)


@pytest.fixture(scope="module")
def sb_node(mmsqld):
    if not shutil.which("sysbench"):
        pytest.skip("sysbench not installed")
    c = mmsqld.connect()
    c.cursor().execute("CREATE DATABASE IF NOT EXISTS sbtest")
    c.close()
    p = sysbench(mmsqld, "oltp_read_write", "prepare", threads=TABLES, secs=1)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return mmsqld


def check_tables(node):
    c = node.connect(database="sbtest")
    cur = c.cursor()
    for i in range(1, TABLES + 1):
        cur.execute("SELECT COUNT(*) FROM sbtest%d" % i)
        n = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM sbtest%d WHERE k >= 0" % i)
        assert cur.fetchone()[0] == n  # secondary index agrees with rows
    c.close()


@pytest.mark.parametrize("workload", ["oltp_read_write", "oltp_write_only", "oltp_update_index"])
def test_sysbench(sb_node, workload):
    p = sysbench(sb_node, workload, "run")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "FATAL" not in out, out[-3000:]
    m = re.search(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec", out)
    assert m and int(m.group(1)) > 0, out[-3000:]
    errs = re.search(r"ignored errors:\s+(\d+)", out)
    print("%s: %s tps, ignored errors (1213/1205 retried) %s" % (workload, m.group(2),
                                                                errs.group(1) if errs else "?"))
    assert sb_node.alive()
    check_tables(sb_node)
