"""MySQL semantics through PyMySQL: DDL, DML forms, errors with the right
codes, and the places where MySQL and SQLite differ."""
import datetime
import decimal

import pymysql
import pytest


@pytest.fixture(scope="module")
def db(mmsqld):
    c = mmsqld.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE sem")
    cur.execute("USE sem")
    return c


def q(c, sql, args=None):
    cur = c.cursor()
    cur.execute(sql, args)
    return cur.fetchall()


def err(c, sql):
    with pytest.raises(pymysql.err.MySQLError) as e:
        c.cursor().execute(sql)
    return e.value.args[0]


def test_errors_have_mysql_codes(db):
    q(db, "CREATE TABLE e (id INT PRIMARY KEY, u VARCHAR(5) UNIQUE, n INT NOT NULL)")
    q(db, "INSERT INTO e VALUES (1, 'a', 1)")
    assert err(db, "SELEC 1") == 1064
    assert err(db, "SELECT * FROM nosuch") == 1146
    assert err(db, "SELECT nocol FROM e") == 1054
    assert err(db, "INSERT INTO e VALUES (1, 'b', 1)") == 1062
    assert err(db, "INSERT INTO e VALUES (2, 'A', 1)") == 1062  # case-insensitive unique
    assert err(db, "INSERT INTO e VALUES (3, 'c', NULL)") == 1048
    assert err(db, "INSERT INTO e VALUES (4, 'toolong', 1)") == 1406
    assert err(db, "USE nosuchdb") == 1049
    assert err(db, "CREATE DATABASE sem") == 1007
    assert err(db, "CREATE TABLE e (x INT)") == 1050
    assert err(db, "DROP TABLE nosuch") == 1051
    assert err(db, "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE") == 1235
    assert err(db, "SET @@nosuchvar = 1") == 1193


def test_duplicate_key_message_names_key(db):
    q(db, "CREATE TABLE dk (id INT PRIMARY KEY, u INT, UNIQUE KEY uu (u))")
    q(db, "INSERT INTO dk VALUES (1, 10)")
    with pytest.raises(pymysql.err.IntegrityError) as e:
        q(db, "INSERT INTO dk VALUES (2, 10)")
    assert e.value.args[0] == 1062
    assert "'10'" in e.value.args[1] and "uu" in e.value.args[1]


def test_out_of_range_strict(db):
    q(db, "CREATE TABLE r (t TINYINT, u TINYINT UNSIGNED)")
    assert err(db, "INSERT INTO r VALUES (128, 0)") == 1264
    assert err(db, "INSERT INTO r VALUES (0, -1)") == 1264
    q(db, "INSERT INTO r VALUES (127, 255)")
    assert q(db, "SELECT t, u FROM r") == ((127, 255),)


def test_strings_escapes_and_comparisons(db):
    assert q(db, "SELECT 'it\\'s', \"dq\", 'a' 'b'")[0][:2] == ("it's", "dq")
    q(db, "CREATE TABLE s (id INT PRIMARY KEY, v VARCHAR(20))")
    q(db, "INSERT INTO s VALUES (1, 'Hello'), (2, 'world')")
    assert q(db, "SELECT id FROM s WHERE v = 'HELLO'") == ((1,),)
    assert q(db, "SELECT id FROM s WHERE v LIKE 'WOR%'") == ((2,),)
    assert q(db, "SELECT id FROM s ORDER BY v DESC") == ((2,), (1,))


def test_arithmetic(db):
    r = q(db, "SELECT 7 DIV 2, 7 MOD 3, 1 || 0, 1 && 0")[0]
    assert [int(x) for x in r] == [3, 1, 1, 0]
    assert q(db, "SELECT 1/0")[0][0] is None
    assert decimal.Decimal(str(q(db, "SELECT 5/2")[0][0])) == decimal.Decimal("2.5")


def test_insert_forms_and_upsert(db):
    q(db, "CREATE TABLE u (id INT PRIMARY KEY, n INT DEFAULT 5, s VARCHAR(10) DEFAULT 'x')")
    q(db, "INSERT INTO u (id) VALUES (1)")
    assert q(db, "SELECT n, s FROM u WHERE id=1") == ((5, "x"),)
    q(db, "INSERT INTO u SET id=2, n=7")
    cur = db.cursor()
    assert cur.execute("INSERT IGNORE INTO u VALUES (1, 1, 'dup'), (3, 3, 'c')") == 1
    assert cur.execute("REPLACE INTO u VALUES (3, 33, 'r')") == 2
    assert cur.execute("INSERT INTO u VALUES (1, 0, 'z') ON DUPLICATE KEY UPDATE n = n + VALUES(n) + 100") == 2
    assert q(db, "SELECT id, n, s FROM u ORDER BY id") == ((1, 105, "x"), (2, 7, "x"), (3, 33, "r"))
    q(db, "INSERT INTO u SELECT id + 10, n, s FROM u WHERE id < 3")
    assert q(db, "SELECT COUNT(*) FROM u") == ((5,),)
    assert cur.execute("UPDATE u SET n = 0 ORDER BY id DESC LIMIT 2") == 2
    assert q(db, "SELECT id FROM u WHERE n = 0 ORDER BY id") == ((11,), (12,))
    assert cur.execute("DELETE FROM u ORDER BY id LIMIT 1") == 1
    assert q(db, "SELECT MIN(id) FROM u") == ((2,),)


def test_select_features(db):
    q(db, "CREATE TABLE a (id INT PRIMARY KEY, g INT, v INT)")
    q(db, "CREATE TABLE b (id INT PRIMARY KEY, a_id INT, w VARCHAR(10))")
    q(db, "INSERT INTO a VALUES (1,1,10),(2,1,20),(3,2,30)")
    q(db, "INSERT INTO b VALUES (1,1,'x'),(2,3,'y')")
    assert q(db, "SELECT a.id, b.w FROM a JOIN b ON b.a_id = a.id ORDER BY a.id") == ((1, "x"), (3, "y"))
    assert q(db, "SELECT a.id, b.w FROM a LEFT JOIN b ON b.a_id = a.id ORDER BY a.id") == ((1, "x"), (2, None), (3, "y"))
    assert q(db, "SELECT g, SUM(v) s FROM a GROUP BY g HAVING s > 25 ORDER BY g") == ((1, 30), (2, 30))
    assert q(db, "SELECT DISTINCT g FROM a ORDER BY g") == ((1,), (2,))
    assert q(db, "SELECT id FROM a WHERE id IN (SELECT a_id FROM b) ORDER BY id") == ((1,), (3,))
    assert q(db, "SELECT id FROM a UNION SELECT id FROM b ORDER BY id") == ((1,), (2,), (3,))
    assert q(db, "SELECT id FROM a ORDER BY id LIMIT 1, 1") == ((2,),)
    assert q(db, "SELECT id FROM a ORDER BY id LIMIT 1 OFFSET 2") == ((3,),)
    assert q(db, "SELECT GROUP_CONCAT(id ORDER BY id DESC SEPARATOR '-') FROM a") == (("3-2-1",),)
    assert q(db, "SELECT CONCAT('a', 1, 'b'), IFNULL(NULL, 2), IF(1 > 2, 'y', 'n'), COALESCE(NULL, NULL, 3)") == (("a1b", 2, "n", 3),)
    assert q(db, "SELECT UPPER('abc'), LENGTH('é'), CHAR_LENGTH('é'), SUBSTRING('hello', 2, 3), LPAD('7', 3, '0')") == (("ABC", 2, 1, "ell", "007"),)
    assert q(db, "SELECT DATE_FORMAT('2026-11-21 10:05:00', '%Y/%m/%d %H:%i'), DATE_ADD('2026-01-31', INTERVAL 1 DAY)")[0][0] == "2026/11/21 10:05"
    assert q(db, "SELECT GREATEST(1, 5, 3), LEAST(4, 2), MD5('a'), HEX('A')") == ((5, 2, "0cc175b9c0f1b6a831c399e269772661", "41"),)


def test_alter_table_converts_rows(db):
    q(db, "CREATE TABLE al (id INT PRIMARY KEY, a INT)")
    q(db, "INSERT INTO al VALUES (1, 10), (2, 20)")
    q(db, "ALTER TABLE al ADD COLUMN b VARCHAR(10) DEFAULT 'z' AFTER id, ADD INDEX ia (a)")
    assert q(db, "SELECT id, b, a FROM al ORDER BY id") == ((1, "z", 10), (2, "z", 20))
    q(db, "ALTER TABLE al MODIFY a BIGINT NOT NULL, DROP COLUMN b")
    assert q(db, "SELECT * FROM al WHERE a = 20") == ((2, 20),)
    q(db, "RENAME TABLE al TO al2")
    assert q(db, "SELECT COUNT(*) FROM al2") == ((2,),)
    q(db, "TRUNCATE TABLE al2")
    assert q(db, "SELECT COUNT(*) FROM al2") == ((0,),)
    q(db, "CREATE TABLE nopk (a INT, b INT)")
    q(db, "INSERT INTO nopk VALUES (1, 1), (1, 1)")
    assert q(db, "SELECT COUNT(*) FROM nopk") == ((2,),)
    assert db.cursor().execute("DELETE FROM nopk WHERE a = 1 LIMIT 1") == 1


def test_show_and_information_schema(db):
    q(db, "CREATE TABLE sh (id INT PRIMARY KEY, k INT, KEY kk (k)) COMMENT 'c'")
    assert ("sh",) in q(db, "SHOW TABLES")
    cols = q(db, "SHOW COLUMNS FROM sh")
    assert cols[0][:4] == ("id", "int(11)", "NO", "PRI")
    assert q(db, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='sem' AND TABLE_NAME='sh' ORDER BY ORDINAL_POSITION") == (("id",), ("k",))
    assert [r[2] for r in q(db, "SHOW INDEX FROM sh")] == ["PRIMARY", "kk"]
    assert q(db, "SHOW VARIABLES LIKE 'auto_increment_increment'") == (("auto_increment_increment", "16"),)
    assert any(r[0] == "wsrep_cluster_size" for r in q(db, "SHOW STATUS LIKE 'wsrep%'"))
    assert len(q(db, "SHOW PROCESSLIST")) >= 1
    q(db, "SET @x = 5")
    assert q(db, "SELECT @x + 1") == ((6,),)
    q(db, "SET SESSION sql_mode = 'TRADITIONAL'")
    assert "STRICT_TRANS_TABLES" in q(db, "SELECT @@sql_mode")[0][0]
    q(db, "SET NAMES utf8mb4")
    assert q(db, "SELECT @@character_set_client") == (("utf8mb4",),)


def test_kill_query_and_connection(mmsqld):
    a = mmsqld.connect()
    b = mmsqld.connect()
    aid = q(a, "SELECT CONNECTION_ID()")[0][0]
    q(b, "KILL %d" % aid)
    with pytest.raises(pymysql.err.MySQLError):
        q(a, "SELECT 1")
    assert q(b, "SELECT 1") == ((1,),)


def test_multi_statements(mmsqld):
    c = mmsqld.connect(client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
    cur = c.cursor()
    cur.execute("SELECT 1; SELECT 2 AS two; SELECT 'x'")
    assert cur.fetchall() == ((1,),)
    assert cur.nextset()
    assert cur.fetchall() == ((2,),)
    assert cur.nextset()
    assert cur.fetchall() == (("x",),)


def test_explain_shows_index_plans(db):
    q(db, "CREATE TABLE ex (id INT PRIMARY KEY, k INT, c CHAR(10), KEY k_1 (k))")
    q(db, "INSERT INTO ex VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')")
    def plan(sql):
        r = q(db, "EXPLAIN " + sql)[0]
        return r[4], r[6]
    assert plan("SELECT c FROM ex WHERE id = 2") == ("const", "PRIMARY")
    assert plan("SELECT c FROM ex WHERE id BETWEEN 1 AND 2") == ("range", "PRIMARY")
    assert plan("SELECT c FROM ex WHERE k = 2") == ("ref", "k_1")
    assert plan("SELECT c FROM ex WHERE k IN (1, 3)") == ("ref", "k_1")
    assert plan("SELECT c FROM ex WHERE c = 'a'") == ("ALL", None)


def test_found_rows(db):
    q(db, "CREATE TABLE fr (id INT PRIMARY KEY)")
    q(db, "INSERT INTO fr VALUES (1), (2), (3), (4), (5)")
    assert q(db, "SELECT SQL_CALC_FOUND_ROWS id FROM fr WHERE id > 1 ORDER BY id LIMIT 2") == ((2,), (3,))
    assert q(db, "SELECT FOUND_ROWS()") == ((4,),)
    assert q(db, "SELECT id FROM fr LIMIT 3") == ((1,), (2,), (3,))
    assert q(db, "SELECT FOUND_ROWS()") == ((3,),)


def test_set_from_subquery(db):
    q(db, "CREATE TABLE sv (id INT PRIMARY KEY)")
    q(db, "INSERT INTO sv VALUES (1), (2), (3)")
    q(db, "SET @n = (SELECT COUNT(*) FROM sv), @m = (SELECT MAX(id) FROM sv)")
    assert q(db, "SELECT @n, @m") == ((3, 3),)
    q(db, "SET SESSION group_concat_max_len = (SELECT 2048)")
    assert q(db, "SELECT @@group_concat_max_len") == ((2048,),)


def test_garbage_sql_gets_errors_and_node_keeps_serving(mmsqld):
    import random
    rnd = random.Random(20261121)
    words = ["SELECT", "FROM", "WHERE", "(", ")", "'", "`", "\"", ",", "*", "1", "0x", "@@", "@",
             "INSERT", "INTO", "VALUES", "UPDATE", "SET", "=", "/*!", "*/", "--", "#", ";", "\\",
             "LIMIT", "ORDER BY", "GROUP_CONCAT(", "INTERVAL", "CAST(", "AS", "sem.e", "NULL", "?"]
    c = mmsqld.connect()
    errors = 0
    for _ in range(400):
        sql = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12)))
        if rnd.random() < 0.3:
            sql += bytes(rnd.randrange(256) for _ in range(8)).decode("latin1")
        try:
            c.cursor().execute(sql.replace("%", "%%"))
        except pymysql.err.MySQLError as e:
            assert e.args[0] >= 1000, (sql, e)  # a server error, not a dropped connection
            errors += 1
    assert errors > 300
    assert q(c, "SELECT 1") == ((1,),)


def test_client_vanishing_mid_transaction_is_rolled_back(mmsqld):
    c = mmsqld.connect()
    q(c, "CREATE DATABASE IF NOT EXISTS van")
    q(c, "CREATE TABLE van.t (id INT PRIMARY KEY)")
    d = mmsqld.connect(autocommit=False)
    q(d, "INSERT INTO van.t VALUES (1)")
    import socket
    d._sock.shutdown(socket.SHUT_RDWR)  # vanish without COM_QUIT
    d._sock.close()
    import time
    for _ in range(50):
        # the row lock of the vanished transaction must go away with it
        c2 = mmsqld.connect()
        try:
            q(c2, "SET innodb_lock_wait_timeout = 1")
            q(c2, "INSERT INTO van.t VALUES (1)")
            break
        except pymysql.err.MySQLError:
            time.sleep(0.1)
    assert q(c, "SELECT COUNT(*) FROM van.t") == ((1,),)
