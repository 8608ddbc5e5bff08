"""Issue 3: an acknowledged COMMIT survives kill -9; recovery needs no
manual step; indexes agree with rows after restart."""
import random
import subprocess
import threading
import time

import pymysql


def test_kill9_during_write_load(fresh_mmsqld):
    node = fresh_mmsqld
    c = node.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE crash")
    cur.execute("USE crash")
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, u INT NOT NULL, k INT NOT NULL, pad VARCHAR(40),"
                " UNIQUE KEY uu (u), KEY kk (k))")
    cur.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)")
    cur.execute("INSERT INTO acct VALUES " + ",".join("(%d, 1000)" % i for i in range(20)))
    c.close()
    acked = []          # ids whose INSERT (autocommit) was acknowledged
    acked_txn = []      # ids inserted in acknowledged multi-statement transactions
    lock = threading.Lock()
    stop = threading.Event()

    def writer(wid):
        rnd = random.Random(wid)
        try:
            w = node.connect(database="crash")
            wc = w.cursor()
            i = 0
            while not stop.is_set():
                rid = wid * 1000000 + i
                i += 1
                if i % 3:
                    wc.execute("INSERT INTO t VALUES (%s, %s, %s, %s)", (rid, rid, rnd.randint(0, 100), "x" * 20))
                    with lock:
                        acked.append(rid)
                else:
                    a, b = rnd.sample(range(20), 2)
                    try:
                        wc.execute("BEGIN")
                        wc.execute("UPDATE acct SET bal = bal - 1 WHERE id = %s", (a,))
                        wc.execute("UPDATE acct SET bal = bal + 1 WHERE id = %s", (b,))
                        wc.execute("INSERT INTO t VALUES (%s, %s, %s, 'txn')", (rid, rid, rnd.randint(0, 100)))
                        wc.execute("COMMIT")
                        with lock:
                            acked_txn.append(rid)
                    except pymysql.err.OperationalError as e:
                        if e.args[0] != 1213:
                            raise
                        wc.execute("ROLLBACK")
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError, ConnectionError, OSError):
            pass  # the server died under us

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    time.sleep(3)
    node.kill9()
    stop.set()
    for t in ts:
        t.join(30)
    assert len(acked) + len(acked_txn) > 100, (len(acked), len(acked_txn))

    node.start()  # recovery: no manual step
    c = node.connect(database="crash")
    cur = c.cursor()
    cur.execute("SELECT id FROM t")
    present = {r[0] for r in cur.fetchall()}
    missing = [x for x in acked + acked_txn if x not in present]
    assert not missing, missing[:10]
    # indexes agree with rows
    cur.execute("SELECT COUNT(*) FROM t")
    n = cur.fetchone()[0]
    assert n == len(present)
    cur.execute("SELECT COUNT(*) FROM t WHERE k BETWEEN 0 AND 100")
    assert cur.fetchone()[0] == n
    cur.execute("SELECT COUNT(*) FROM t WHERE u >= 0")
    assert cur.fetchone()[0] == n
    for rid in random.Random(1).sample(sorted(present), min(200, len(present))):
        cur.execute("SELECT id FROM t WHERE u = %s", (rid,))
        assert cur.fetchall() == ((rid,),)
    # transfers were atomic
    cur.execute("SELECT SUM(bal) FROM acct")
    assert cur.fetchone()[0] == 20 * 1000
    # and the node takes writes again
    cur.execute("INSERT INTO t VALUES (-1, -1, 0, 'after')")
    cur.execute("SHOW STATUS LIKE 'wsrep_last_committed'")
    assert int(cur.fetchone()[1]) > 0
    c.close()


def test_commit_log_restores_what_rocksdb_lost(fresh_mmsqld):
    """A power failure can leave RocksDB (written without fsync at commit)
    with only a prefix of its WAL; the commit log, fsynced per group, holds
    the rest.  Simulated by putting back a copy of the RocksDB directory
    taken earlier: on restart every acknowledged commit made since, with
    the AUTO_INCREMENT counters, is back.  (Only commits happen after the
    copy: DDL writes the catalog with a synced RocksDB write, which a real
    power failure cannot lose, nor anything written before it.)"""
    import os
    import shutil
    node = fresh_mmsqld
    c = node.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE pl")
    cur.execute("USE pl")
    cur.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT, KEY kv (v))")
    cur.executemany("INSERT INTO t (v) VALUES (%s)", [(i,) for i in range(5)])
    cur.execute("CREATE TABLE t2 (id INT PRIMARY KEY, s VARCHAR(10))")
    c.close()
    node.stop()
    db = os.path.join(node.datadir, "data", "db")
    shutil.copytree(db, db + ".old")

    node.start()
    c = node.connect(database="pl")
    cur = c.cursor()
    cur.executemany("INSERT INTO t (v) VALUES (%s)", [(i,) for i in range(5, 25)])
    cur.execute("BEGIN")
    cur.execute("INSERT INTO t2 VALUES (1, 'one'), (2, 'two')")
    cur.execute("UPDATE t SET v = v + 100 WHERE v < 3")
    cur.execute("COMMIT")
    cur.execute("SELECT id, v FROM t ORDER BY id")
    before = cur.fetchall()
    cur.execute("SELECT MAX(id) FROM t")
    max_id = cur.fetchone()[0]
    c.close()
    node.kill9()

    shutil.rmtree(db)
    os.rename(db + ".old", db)  # RocksDB as it was before the second run
    node.start()
    with open(node.errlog, errors="replace") as f:
        assert "that RocksDB had lost" in f.read()
    c = node.connect(database="pl")
    cur = c.cursor()
    cur.execute("SELECT id, v FROM t ORDER BY id")
    assert cur.fetchall() == before
    cur.execute("SELECT COUNT(*) FROM t WHERE v >= 0")  # the index agrees
    assert cur.fetchone()[0] == 25
    cur.execute("SELECT s FROM t2 ORDER BY id")
    assert [r[0] for r in cur.fetchall()] == ["one", "two"]
    # the AUTO_INCREMENT counter came back with the rows: no reused id
    cur.execute("INSERT INTO t (v) VALUES (999)")
    cur.execute("SELECT LAST_INSERT_ID()")
    assert cur.fetchone()[0] > max_id
    c.close()


def test_flush_log_at_trx_commit_modes(node_factory):
    """innodb_flush_log_at_trx_commit: 1 fdatasyncs the commit log per
    commit group; 2 (and 0) leave it to a once-a-second sync, and commits
    still survive kill -9 of mmsqld (they are in the page cache)."""
    node = node_factory(extra_args=["--innodb-flush-log-at-trx-commit=2"]).start()
    c = node.connect()
    cur = c.cursor()

    def syncs():
        cur.execute("SHOW GLOBAL STATUS LIKE 'mmsql_commit_log_syncs'")
        return int(cur.fetchone()[1])

    cur.execute("SELECT @@global.innodb_flush_log_at_trx_commit")
    assert cur.fetchone()[0] == 2
    cur.execute("CREATE DATABASE fm")
    cur.execute("CREATE TABLE fm.t (id INT PRIMARY KEY)")
    s0 = syncs()
    for i in range(40):
        cur.execute("INSERT INTO fm.t VALUES (%s)", (i,))
    assert syncs() - s0 < 20  # at most one a second, not one per commit
    cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 1")
    s1 = syncs()
    for i in range(40, 60):
        cur.execute("INSERT INTO fm.t VALUES (%s)", (i,))
    assert syncs() - s1 >= 20
    cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 0")
    for i in range(60, 80):
        cur.execute("INSERT INTO fm.t VALUES (%s)", (i,))
    c.close()
    node.kill9()
    node.start()
    c = node.connect()
    cur = c.cursor()
    cur.execute("SELECT COUNT(*) FROM fm.t")
    assert cur.fetchone()[0] == 80
    cur.execute("SELECT @@global.innodb_flush_log_at_trx_commit")  # back to the option's value
    assert cur.fetchone()[0] == 2
    c.close()
    node.kill9()
    bad = node_factory(extra_args=["--innodb-flush-log-at-trx-commit=3"])
    p = subprocess.run(bad.args(), capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "must be 0, 1 or 2" in p.stderr
