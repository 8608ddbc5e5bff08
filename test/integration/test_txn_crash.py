"""Issue 3: an acknowledged COMMIT survives kill -9; recovery needs no
manual step; indexes agree with rows after restart."""
import random
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
