"""Fixtures that start real mmsqld processes for the integration tests.

`mmsqld` (module scope): a fresh node on a free port with its own data
directory, shared by the tests of one module.  `fresh_mmsqld` (function
scope): a node for one test.  Both yield a `Node` that can connect, stop,
restart and kill -9 itself.  The binary is build/mmsqld, or $MMSQLD.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MMSQLD", os.path.join(ROOT, "build", "mmsqld"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, datadir=None, extra_args=()):
        self.host = "127.0.0.1"
        self.user = "root"
        self.password = ""
        self.port = free_port()
        self.own_dir = datadir is None
        self.datadir = datadir or tempfile.mkdtemp(prefix="mmsql-test-")
        self.errlog = os.path.join(self.datadir, "error.log")
        self.extra_args = list(extra_args)
        self.proc = None

    def args(self):
        return [BINARY, "--datadir=%s" % os.path.join(self.datadir, "data"),
                "--port=%d" % self.port, "--log-error=%s" % self.errlog] + self.extra_args

    def start(self, timeout=20):
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mmsqld exited with %s: %s\n%s" % (
                    self.proc.returncode, self.proc.stderr.read().decode(errors="replace"),
                    self.log_tail()))
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mmsqld did not start:\n" + self.log_tail())

    def log_tail(self, n=30):
        try:
            with open(self.errlog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        if not self.alive():
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill9(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def connect(self, **kw):
        import pymysql
        args = dict(host=self.host, port=self.port, user=self.user, password=self.password,
                    charset="utf8mb4", autocommit=True)
        args.update(kw)
        return pymysql.connect(**args)

    def mariadb(self, sql, db=None, check=True, args=()):
        """Run the mariadb CLI with -e; returns (rc, stdout, stderr)."""
        cmd = ["mariadb", "-h", self.host, "-P", str(self.port), "-u", self.user, "--batch",
               "--skip-ssl"] + list(args)
        if db:
            cmd += ["-D", db]
        p = subprocess.run(cmd + ["-e", sql], capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("mariadb failed (%d): %s" % (p.returncode, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def cleanup(self):
        self.kill9()
        if self.own_dir:
            shutil.rmtree(self.datadir, ignore_errors=True)


def _running_node():
    if not os.path.exists(BINARY):
        pytest.skip("%s not built" % BINARY)
    node = Node().start()
    yield node
    node.stop()
    node.cleanup()


@pytest.fixture(scope="module")
def mmsqld():
    yield from _running_node()


@pytest.fixture
def fresh_mmsqld():
    yield from _running_node()


@pytest.fixture
def node_factory():
    nodes = []

    def make(**kw):
        n = Node(**kw)
        nodes.append(n)
        return n
    yield make
    for n in nodes:
        n.cleanup()
