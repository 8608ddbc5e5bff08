"""Issue 3: InnoDB-like transactions on one node (row locks, lock waits,
deadlocks, snapshots), with many real client connections."""
import random
import threading
import time

import pymysql
import pytest


def run_threads(fns):
    errors = []

    def wrap(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    ts = [threading.Thread(target=wrap, args=(f,)) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors


@pytest.fixture(scope="module")
def db(mmsqld):
    c = mmsqld.connect()
    c.cursor().execute("CREATE DATABASE IF NOT EXISTS txn3")
    c.close()
    return mmsqld


def conn(node, **kw):
    return node.connect(database="txn3", **kw)


def test_lost_update(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS counter")
    cur.execute("CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)")
    cur.execute("INSERT INTO counter VALUES (1, 0)")

    def worker():
        w = conn(db)
        wc = w.cursor()
        for _ in range(500):
            while True:
                try:
                    wc.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
                    break
                except pymysql.err.OperationalError as e:
                    if e.args[0] not in (1213, 1205):
                        raise
        w.close()
    t0 = time.time()
    run_threads([worker] * 16)
    cur.execute("SELECT n FROM counter WHERE id = 1")
    assert cur.fetchone()[0] == 8000
    assert time.time() - t0 < 60
    c.close()


def test_explicit_txn_read_modify_write(db):
    """SELECT ... FOR UPDATE then UPDATE in explicit transactions."""
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS rmw")
    cur.execute("CREATE TABLE rmw (id INT PRIMARY KEY, n INT NOT NULL)")
    cur.execute("INSERT INTO rmw VALUES (1, 0)")

    def worker():
        w = conn(db)
        wc = w.cursor()
        for _ in range(100):
            wc.execute("BEGIN")
            wc.execute("SELECT n FROM rmw WHERE id = 1 FOR UPDATE")
            n = wc.fetchone()[0]
            wc.execute("UPDATE rmw SET n = %s WHERE id = 1", (n + 1,))
            wc.execute("COMMIT")
        w.close()
    run_threads([worker] * 8)
    cur.execute("SELECT n FROM rmw")
    assert cur.fetchone()[0] == 800
    c.close()


def test_bank_total_constant(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS acct")
    cur.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)")
    cur.execute("INSERT INTO acct VALUES " + ",".join("(%d, 1000)" % i for i in range(100)))
    total = 100 * 1000
    stop = threading.Event()
    bad = []
    deadlocks = [0]

    def mover(seed):
        def f():
            rnd = random.Random(seed)
            w = conn(db)
            wc = w.cursor()
            for _ in range(150):
                a, b = rnd.sample(range(100), 2)
                amt = rnd.randint(1, 50)
                while True:
                    try:
                        wc.execute("BEGIN")
                        wc.execute("UPDATE acct SET bal = bal - %s WHERE id = %s", (amt, a))
                        wc.execute("UPDATE acct SET bal = bal + %s WHERE id = %s", (amt, b))
                        wc.execute("COMMIT")
                        break
                    except pymysql.err.OperationalError as e:
                        if e.args[0] != 1213:
                            raise
                        deadlocks[0] += 1
                        wc.execute("ROLLBACK")
            w.close()
        return f

    def reader():
        r = conn(db)
        rc = r.cursor()
        while not stop.is_set():
            rc.execute("BEGIN")
            rc.execute("SELECT SUM(bal) FROM acct")
            s1 = rc.fetchone()[0]
            rc.execute("SELECT SUM(bal) FROM acct")
            s2 = rc.fetchone()[0]
            rc.execute("COMMIT")
            rc.execute("SELECT SUM(bal) FROM acct")
            s3 = rc.fetchone()[0]
            if not (s1 == s2 == s3 == total):
                bad.append((s1, s2, s3))
        r.close()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        run_threads([mover(i) for i in range(16)])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not bad, bad[:5]
    cur.execute("SELECT SUM(bal), COUNT(*) FROM acct")
    assert cur.fetchone() == (total, 100)
    c.close()


def test_snapshot_rr_vs_rc(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS snap")
    cur.execute("CREATE TABLE snap (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO snap VALUES (1, 1)")
    rr = conn(db)
    rrc = rr.cursor()
    rrc.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    rrc.execute("BEGIN")
    rrc.execute("SELECT id, v FROM snap ORDER BY id")
    first = rrc.fetchall()
    rc = conn(db)
    rcc = rc.cursor()
    rcc.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    rcc.execute("BEGIN")
    rcc.execute("SELECT COUNT(*) FROM snap")
    assert rcc.fetchone()[0] == 1
    for i in range(2, 12):
        cur.execute("INSERT INTO snap VALUES (%s, %s)", (i, i))
        cur.execute("UPDATE snap SET v = v + 100 WHERE id = 1")
        rrc.execute("SELECT id, v FROM snap ORDER BY id")
        assert rrc.fetchall() == first
        rcc.execute("SELECT COUNT(*) FROM snap")
        assert rcc.fetchone()[0] == i
    rrc.execute("COMMIT")
    rcc.execute("COMMIT")
    rrc.execute("SELECT COUNT(*) FROM snap")
    assert rrc.fetchone()[0] == 11
    for x in (rr, rc, c):
        x.close()


def holder_and_blocked(db, table, timeout=None):
    """Table (id, v) with rows 1 and 2; session a has updated row 1 in an
    open transaction; session b (lock wait timeout `timeout`) has updated
    row 2 in an open transaction, so that b's next update of row 1 waits
    for a.  Returns (c, cur, a, ac, b, bc)."""
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, v INT)" % table)
    cur.execute("INSERT INTO %s VALUES (1, 0), (2, 0)" % table)
    a = conn(db)
    ac = a.cursor()
    ac.execute("BEGIN")
    ac.execute("UPDATE %s SET v = 1 WHERE id = 1" % table)
    b = conn(db)
    bc = b.cursor()
    if timeout is not None:
        bc.execute("SET SESSION innodb_lock_wait_timeout = %d" % timeout)
    bc.execute("BEGIN")
    bc.execute("UPDATE %s SET v = 2 WHERE id = 2" % table)
    return c, cur, a, ac, b, bc


def test_lock_wait_timeout_1205(db):
    c, cur, a, ac, b, bc = holder_and_blocked(db, "lw", timeout=1)
    t0 = time.time()
    with pytest.raises(pymysql.err.OperationalError) as ei:
        bc.execute("UPDATE lw SET v = 2 WHERE id = 1")
    took = time.time() - t0
    assert ei.value.args[0] == 1205
    assert 0.8 < took < 3.0, took
    # only the statement was rolled back: b's first update is still there
    bc.execute("SELECT v FROM lw WHERE id = 2")
    assert bc.fetchone()[0] == 2
    ac.execute("COMMIT")
    bc.execute("UPDATE lw SET v = 2 WHERE id = 1")
    bc.execute("COMMIT")
    cur.execute("SELECT v FROM lw ORDER BY id")
    assert cur.fetchall() == ((2,), (2,))
    a.close()
    b.close()
    c.close()


def test_kill_ends_a_lock_wait(db):
    """KILL QUERY ends a lock wait at once with 1317 and keeps the
    connection and its transaction; KILL CONNECTION drops the connection
    and rolls its transaction back."""
    c, cur, a, ac, b, bc = holder_and_blocked(db, "kw")
    bc.execute("SELECT CONNECTION_ID()")
    bid = bc.fetchone()[0]
    result = {}

    def blocked():
        t0 = time.time()
        try:
            bc.execute("UPDATE kw SET v = 2 WHERE id = 1")  # waits (timeout 50 s)
            result["err"] = None
        except pymysql.err.MySQLError as e:
            result["err"] = e.args[0]
        result["took"] = time.time() - t0

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.5)
    cur.execute("KILL QUERY %d" % bid)
    t.join(10)
    assert result.get("err") == 1317, result
    assert result["took"] < 3.0, result
    # the connection and the transaction's earlier work are still there
    bc.execute("SELECT v FROM kw WHERE id = 2")
    assert bc.fetchone()[0] == 2
    cur.execute("SHOW STATUS LIKE 'Innodb_row_lock_current_waits'")
    assert int(cur.fetchone()[1]) == 0

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.5)
    cur.execute("KILL %d" % bid)
    t.join(10)
    assert not t.is_alive()
    assert result["err"] is not None and result["took"] < 3.0, result
    with pytest.raises(pymysql.err.MySQLError):
        bc.execute("SELECT 1")
    ac.execute("COMMIT")
    cur.execute("SELECT v FROM kw ORDER BY id")  # b's update of row 2 was rolled back
    assert cur.fetchall() == ((1,), (0,))
    a.close()
    c.close()


def test_deadlock_1213_at_once(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS dl")
    cur.execute("CREATE TABLE dl (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO dl VALUES (1, 0), (2, 0)")
    a, b = conn(db), conn(db)
    ac, bc = a.cursor(), b.cursor()
    ac.execute("BEGIN")
    bc.execute("BEGIN")
    ac.execute("UPDATE dl SET v = 10 WHERE id = 1")
    bc.execute("UPDATE dl SET v = 20 WHERE id = 2")
    res = {}

    def a_second():
        try:
            ac.execute("UPDATE dl SET v = 10 WHERE id = 2")
            res["a"] = "ok"
        except pymysql.err.OperationalError as e:
            res["a"] = e.args[0]
    t = threading.Thread(target=a_second)
    t.start()
    time.sleep(0.3)  # a is now waiting for b
    t0 = time.time()
    try:
        bc.execute("UPDATE dl SET v = 20 WHERE id = 1")
        res["b"] = "ok"
    except pymysql.err.OperationalError as e:
        res["b"] = e.args[0]
    t.join(10)
    took = time.time() - t0
    assert sorted(map(str, res.values())) == ["1213", "ok"], res
    assert took < 2.0, took
    # the victim's whole transaction was rolled back
    winner, wc = (a, ac) if res["a"] == "ok" else (b, bc)
    wc.execute("COMMIT")
    cur.execute("SELECT v FROM dl ORDER BY id")
    rows = cur.fetchall()
    assert rows in (((10,), (10,)), ((20,), (20,))), rows
    a.close()
    b.close()
    c.close()


def test_nowait_and_skip_locked(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS q")
    cur.execute("CREATE TABLE q (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO q VALUES (1, 0), (2, 0), (3, 0)")
    a, b = conn(db), conn(db)
    ac, bc = a.cursor(), b.cursor()
    ac.execute("BEGIN")
    ac.execute("SELECT id FROM q WHERE id = 2 FOR UPDATE")
    bc.execute("BEGIN")
    bc.execute("SELECT id FROM q ORDER BY id FOR UPDATE SKIP LOCKED")
    assert bc.fetchall() == ((1,), (3,))
    with pytest.raises(pymysql.err.OperationalError) as ei:
        bc.execute("SELECT id FROM q WHERE id = 2 FOR UPDATE NOWAIT")
    assert ei.value.args[0] == 3572
    # shared locks are compatible with each other, not with FOR UPDATE
    bc.execute("ROLLBACK")
    ac.execute("ROLLBACK")
    a2, b2 = conn(db), conn(db)
    a2c, b2c = a2.cursor(), b2.cursor()
    a2c.execute("BEGIN")
    b2c.execute("BEGIN")
    a2c.execute("SELECT id FROM q WHERE id = 1 LOCK IN SHARE MODE")
    b2c.execute("SELECT id FROM q WHERE id = 1 FOR SHARE NOWAIT")
    with pytest.raises(pymysql.err.OperationalError) as ei:
        b2c.execute("SELECT id FROM q WHERE id = 1 FOR UPDATE NOWAIT")
    assert ei.value.args[0] == 3572
    a2c.execute("COMMIT")
    b2c.execute("COMMIT")
    for x in (a, b, a2, b2, c):
        x.close()


def test_unique_insert_waits_then_duplicates(db):
    c = conn(db)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS uq")
    cur.execute("CREATE TABLE uq (id INT PRIMARY KEY, u INT, UNIQUE KEY (u))")
    a, b = conn(db), conn(db)
    ac, bc = a.cursor(), b.cursor()
    ac.execute("BEGIN")
    ac.execute("INSERT INTO uq VALUES (1, 7)")
    res = {}

    def b_insert():
        try:
            bc.execute("INSERT INTO uq VALUES (2, 7)")
            res["b"] = "ok"
        except pymysql.err.MySQLError as e:
            res["b"] = e.args[0]
    t = threading.Thread(target=b_insert)
    t.start()
    time.sleep(0.3)
    assert "b" not in res  # waiting on a's unique key
    ac.execute("COMMIT")
    t.join(10)
    assert res["b"] == 1062
    a.close()
    b.close()
    c.close()


def test_oldest_snapshot_status(db):
    c = conn(db)
    cur = c.cursor()
    r = conn(db)
    rc = r.cursor()
    rc.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    time.sleep(0.3)
    cur.execute("SHOW STATUS LIKE 'mmsql_oldest_snapshot_age_ms'")
    row = cur.fetchone()
    assert row is not None and int(row[1]) >= 250, row
    rc.execute("COMMIT")
    cur.execute("SHOW STATUS LIKE 'mmsql_oldest_snapshot_age_ms'")
    assert int(cur.fetchone()[1]) < 250
    r.close()
    c.close()
