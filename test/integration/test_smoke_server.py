"""mmsqld as a process: start, data kept across restarts, clean SIGTERM,
one server per data directory, options from a defaults file, error log."""
import os
import subprocess
import time

import pymysql
import pytest

from conftest import BINARY, Node, free_port


def test_smoke_select(mmsqld):
    c = mmsqld.connect()
    cur = c.cursor()
    cur.execute("SELECT 1 + 1, 'a'")
    assert cur.fetchone() == (2, "a")


def test_data_survives_restart_and_sigterm_is_clean(fresh_mmsqld):
    n = fresh_mmsqld
    c = n.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE d")
    cur.execute("CREATE TABLE d.t (id INT PRIMARY KEY, s VARCHAR(10))")
    cur.execute("INSERT INTO d.t VALUES (1, 'x'), (2, 'y')")
    c.close()
    assert n.stop() == 0
    assert "shutdown complete" in n.log_tail()
    n.start()
    cur = n.connect().cursor()
    cur.execute("SELECT id, s FROM d.t ORDER BY id")
    assert cur.fetchall() == ((1, "x"), (2, "y"))


def test_refuses_second_server_on_same_datadir(fresh_mmsqld):
    other = Node(datadir=fresh_mmsqld.datadir)
    p = subprocess.run(other.args(), capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "already running" in (open(other.errlog).read() + p.stderr)
    # the first one still serves
    fresh_mmsqld.connect().cursor().execute("SELECT 1")


def test_defaults_file_and_root_password(tmp_path):
    port = free_port()
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[client]\nport=1\n[mmsqld]\ndatadir=%s\nport=%d\nroot-password=s3cret\n"
                   "auto_increment_offset=2\nserver-id=7\nlog-error=%s\n" % (
                       tmp_path / "data", port, tmp_path / "err.log"))
    p = subprocess.Popen([BINARY, "--defaults-file=%s" % cnf])
    try:
        for _ in range(100):
            try:
                c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="s3cret")
                break
            except pymysql.err.OperationalError as e:
                if e.args[0] == 1045:
                    raise
                time.sleep(0.1)
        cur = c.cursor()
        cur.execute("SELECT @@server_id, @@auto_increment_offset, @@auto_increment_increment, @@aurora_server_id")
        assert cur.fetchone() == (7, 2, 16, "7")
        with pytest.raises(pymysql.err.OperationalError) as e:
            pymysql.connect(host="127.0.0.1", port=port, user="root", password="wrong")
        assert e.value.args[0] == 1045
        cur.execute("CREATE DATABASE a")
        cur.execute("CREATE TABLE a.t (id INT AUTO_INCREMENT PRIMARY KEY, s TEXT)")
        cur.execute("INSERT INTO a.t (s) VALUES ('a'),('b'),('c')")
        cur.execute("SELECT id FROM a.t ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == [2, 18, 34]
        cur.execute("SELECT LAST_INSERT_ID()")
        assert cur.fetchone()[0] == 2
        assert (tmp_path / "err.log").read_text().count("ready for connections") == 1
    finally:
        p.terminate()
        assert p.wait(30) == 0


def test_general_log(tmp_path):
    n = Node(extra_args=["--general-log", "--general-log-file=%s" % (tmp_path / "g.log")])
    try:
        n.start()
        n.connect().cursor().execute("SELECT 'logged-statement'")
        n.stop()
        assert "logged-statement" in (tmp_path / "g.log").read_text()
    finally:
        n.cleanup()


def test_slow_query_log(tmp_path):
    n = Node(extra_args=["--slow-query-log", "--slow-query-log-file=%s" % (tmp_path / "s.log"),
                         "--long-query-time=0"])
    try:
        n.start()
        cur = n.connect().cursor()
        cur.execute("SELECT 'slow-one'")
        cur.execute("SHOW GLOBAL STATUS LIKE 'Slow_queries'")
        assert int(cur.fetchone()[1]) >= 1
        n.stop()
        assert "slow-one" in (tmp_path / "s.log").read_text()
    finally:
        n.cleanup()
