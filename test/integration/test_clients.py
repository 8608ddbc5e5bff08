"""Real clients from Debian against a fresh node: PyMySQL, MySQLdb, the
mariadb CLI, mariadb-dump round trip, sysbench oltp_* scripts."""
import datetime
import decimal
import os
import re
import shutil
import subprocess

import pymysql
import pytest

from conftest import Node

SCHEMA = """
CREATE TABLE alltypes (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED,
  de DECIMAL(12,3), f FLOAT, d DOUBLE, bt BIT(8),
  ch CHAR(10), vc VARCHAR(100), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  bn BINARY(4), vb VARBINARY(20), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  dt DATE, tm TIME, dtt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, yr YEAR,
  en ENUM('a','b','c'), bo BOOL, created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY u_vc (vc), KEY k_i (i), KEY k_multi (ti, si)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

ROWS = [
    (1, -128, 65535, -8388608, -2147483648, -9223372036854775808, 18446744073709551615,
     decimal.Decimal("123456789.125"), 1.5, 3.141592653589793, b"\x05",
     "ch", "vc1 it's \"q\" é中😀", "tt", "tx\n\\", "mt", "lt" * 1000,
     b"\x00\x01\x02\x03", b"\xff\x00binary\x80", b"t", b"\x00" * 300, b"mb", bytes(range(256)) * 10,
     datetime.date(2026, 11, 21), datetime.timedelta(hours=10, minutes=5, seconds=7),
     datetime.datetime(2026, 11, 21, 10, 5, 7), datetime.datetime(2026, 11, 21, 10, 5, 7, 123456),
     datetime.datetime(2020, 1, 2, 3, 4, 5), 2026, "b", 1),
    (2,) + (None,) * 30,
]
COLS = ("id, ti, si, mi, i, bi, ubi, de, f, d, bt, ch, vc, tt, tx, mt, lt, bn, vb, tb, bl, mb, lb, "
        "dt, tm, dtt, dt6, ts, yr, en, bo")


def load(c):
    cur = c.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS types")
    cur.execute("USE types")
    cur.execute(SCHEMA)
    ph = ", ".join(["%s"] * 31)
    cur.executemany("INSERT INTO alltypes (%s) VALUES (%s)" % (COLS, ph), ROWS)
    return cur


def fetch(cur):
    cur.execute("SELECT %s FROM alltypes ORDER BY id" % COLS)
    return cur.fetchall()


def test_pymysql_roundtrip(fresh_mmsqld):
    c = fresh_mmsqld.connect()
    cur = load(c)
    got = fetch(cur)
    assert len(got) == 2
    r = got[0]
    exp = ROWS[0]
    for i, (g, e) in enumerate(zip(r, exp)):
        if isinstance(e, float) and i == 8:
            assert abs(g - e) < 1e-6
        else:
            assert g == e, (COLS.split(", ")[i], g, e)
    assert got[1] == ROWS[1]


def test_pymysql_errors_and_transactions(fresh_mmsqld):
    c = fresh_mmsqld.connect(autocommit=False)
    cur = c.cursor()
    cur.execute("CREATE DATABASE tx")
    cur.execute("CREATE TABLE tx.t (id INT PRIMARY KEY)")
    cur.execute("INSERT INTO tx.t VALUES (1)")
    c.rollback()
    cur.execute("SELECT COUNT(*) FROM tx.t")
    assert cur.fetchone()[0] == 0
    cur.execute("INSERT INTO tx.t VALUES (1)")
    c.commit()
    with pytest.raises(pymysql.err.IntegrityError) as e:
        cur.execute("INSERT INTO tx.t VALUES (1)")
    assert e.value.args[0] == 1062
    with pytest.raises(pymysql.err.ProgrammingError) as e:
        cur.execute("SELECT * FROM tx.nosuch")
    assert e.value.args[0] == 1146


def test_mysqldb_roundtrip(fresh_mmsqld):
    MySQLdb = pytest.importorskip("MySQLdb")
    c = MySQLdb.connect(host="127.0.0.1", port=fresh_mmsqld.port, user="root", passwd="", charset="utf8mb4")
    cur = c.cursor()
    cur.execute("CREATE DATABASE m")
    cur.execute("CREATE TABLE m.t (id INT PRIMARY KEY, d DECIMAL(10,2), s VARCHAR(20), b BLOB, t DATETIME)")
    rows = [(1, decimal.Decimal("1.50"), "é中", b"\x00\xff", datetime.datetime(2026, 1, 2, 3, 4, 5)),
            (2, None, None, None, None)]
    cur.executemany("INSERT INTO m.t VALUES (%s, %s, %s, %s, %s)", rows)
    c.commit()
    cur.execute("SELECT * FROM m.t ORDER BY id")
    assert tuple(cur.fetchall()) == tuple(rows)
    with pytest.raises(MySQLdb.IntegrityError) as e:
        cur.execute("INSERT INTO m.t (id) VALUES (1)")
    assert e.value.args[0] == 1062


def test_mariadb_cli(mmsqld):
    rc, out, _ = mmsqld.mariadb("SELECT 1 AS one, 'x' AS two; SELECT @@version_comment")
    assert out.splitlines()[:2] == ["one\ttwo", "1\tx"]
    rc, out, err = mmsqld.mariadb("SELECT * FROM nosuchdb.t", check=False)
    assert rc != 0 and "1146" in err
    # interactive-style statements the CLI sends
    mmsqld.mariadb("CREATE DATABASE cli; USE cli; CREATE TABLE t (a INT); SHOW TABLES")


def test_dump_and_restore(node_factory):
    a = node_factory().start()
    b = node_factory().start()
    c = a.connect()
    cur = load(c)
    cur.execute("CREATE TABLE other (k VARCHAR(10) PRIMARY KEY, v INT NOT NULL DEFAULT 3, KEY iv (v))")
    cur.execute("INSERT INTO other VALUES ('a', 1), ('b', 2)")
    before = fetch(cur)
    dump = subprocess.run(["mariadb-dump", "-h127.0.0.1", "-P%d" % a.port, "-uroot", "--skip-ssl",
                           "--databases", "types"], capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr.decode()
    assert b"CREATE TABLE `alltypes`" in dump.stdout
    r = subprocess.run(["mariadb", "-h127.0.0.1", "-P%d" % b.port, "-uroot", "--skip-ssl"],
                       input=dump.stdout, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[:3000]
    cur2 = b.connect().cursor()
    cur2.execute("USE types")
    assert fetch(cur2) == before
    cur2.execute("SELECT * FROM other ORDER BY k")
    assert cur2.fetchall() == (("a", 1), ("b", 2))
    cur.execute("SHOW CREATE TABLE other")
    cur2.execute("SHOW CREATE TABLE other")
    assert cur.fetchone() == cur2.fetchone()


SYSBENCH = shutil.which("sysbench")


@pytest.mark.skipif(not SYSBENCH, reason="sysbench not installed")
@pytest.mark.parametrize("ps_mode", ["auto", "disable"])
def test_sysbench_oltp(fresh_mmsqld, ps_mode):
    n = fresh_mmsqld
    n.connect().cursor().execute("CREATE DATABASE sbtest")
    base = ["sysbench", "--db-driver=mysql", "--mysql-host=127.0.0.1", "--mysql-port=%d" % n.port,
            "--mysql-user=root", "--mysql-password=", "--mysql-db=sbtest", "--tables=2",
            "--table-size=500", "--threads=1", "--time=3", "--db-ps-mode=%s" % ps_mode]
    for script in ["oltp_read_write", "oltp_read_only", "oltp_point_select", "oltp_write_only",
                   "oltp_update_index", "oltp_update_non_index", "oltp_insert", "oltp_delete"]:
        for phase in ["prepare", "run", "cleanup"]:
            p = subprocess.run(base + [script, phase], capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, "%s %s: %s %s" % (script, phase, p.stdout[-2000:], p.stderr[-2000:])
            if phase == "run":
                m = re.search(r"errors:\s+(\d+)", p.stdout)
                assert m and m.group(1) == "0", p.stdout
