"""
test/integration/test_raft_cluster.py - three real raft-node processes on
loopback replicate 100,000 entries while members are killed with SIGKILL and
restarted; at the end every acknowledged entry must be present, at the index
it was acknowledged at, in the same order, in every member's log on disk.

Run: /usr/bin/python3 -m pytest -q test/integration/test_raft_cluster.py
Env: RAFT_IT_ENTRIES (default 100000), RAFT_NODE (default build/raft-node).
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("RAFT_NODE", os.path.join(ROOT, "build", "raft-node"))
TARGET = int(os.environ.get("RAFT_IT_ENTRIES", "100000"))


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        ports = free_ports(6)
        self.raft_ports = ports[:3]
        self.client_ports = ports[3:]
        self.peers = ",".join("%d=127.0.0.1:%d" % (i + 1, p) for i, p in enumerate(self.raft_ports))
        self.procs = [None] * 3
        self.lock = threading.Lock()

    def start(self, i):
        d = os.path.join(self.tmp, "n%d" % (i + 1))
        log = open(os.path.join(self.tmp, "n%d.log" % (i + 1)), "a")
        self.procs[i] = subprocess.Popen(
            [BIN, "--id", str(i + 1), "--dir", d, "--peers", self.peers, "--client-port", str(self.client_ports[i])],
            stdout=log, stderr=log)

    def kill(self, i):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.procs[i] = None

    def status(self, i):
        try:
            with socket.create_connection(("127.0.0.1", self.client_ports[i]), timeout=1) as s:
                s.sendall(b"STATUS\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(256)
                    if not chunk:
                        return None
                    data += chunk
            f = data.decode().split()
            return {"role": f[1], "term": int(f[2]), "leader": int(f[3]), "commit": int(f[4]),
                    "applied": int(f[5]), "last": int(f[6])}
        except OSError:
            return None

    def dump(self, i):
        out = subprocess.run([BIN, "--dump", os.path.join(self.tmp, "n%d" % (i + 1))], capture_output=True,
                             text=True, check=True).stdout
        entries = []
        for line in out.splitlines():
            if line.startswith("#"):
                continue
            parts = line.split(" ", 3)
            entries.append((int(parts[0]), int(parts[1]), int(parts[2]), parts[3] if len(parts) > 3 else ""))
        return entries


class Client(threading.Thread):
    """Keeps up to `window` submissions in flight against one member; on a
    disconnect the in-flight ones have an unknown outcome (not acknowledged)."""

    def __init__(self, cl, wid, acked, stop, window=8):
        super().__init__(daemon=True)
        self.cl, self.wid, self.acked, self.stop, self.window = cl, wid, acked, stop, window
        self.seq = 0
        self.errors = 0

    def run(self):
        while not self.stop.is_set():
            i = random.randrange(3)
            try:
                s = socket.create_connection(("127.0.0.1", self.cl.client_ports[i]), timeout=2)
            except OSError:
                time.sleep(0.05)
                continue
            s.settimeout(2.0)
            inflight = {}
            buf = b""
            try:
                while not self.stop.is_set():
                    out = []
                    while len(inflight) < self.window:
                        self.seq += 1
                        tag = "%d" % self.seq
                        payload = "w%d-%d-%s" % (self.wid, self.seq, "x" * 40)
                        inflight[tag] = payload
                        out.append("S %s %s\n" % (tag, payload))
                    if out:
                        s.sendall("".join(out).encode())
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        f = line.decode().split()
                        if len(f) < 2 or f[1] not in inflight:
                            continue
                        payload = inflight.pop(f[1])
                        if f[0] == "OK":
                            with self.cl.lock:
                                self.acked.append((int(f[2]), payload))
                        else:
                            self.errors += 1
                    if len(self.acked) >= TARGET:
                        self.stop.set()
            except OSError:
                pass
            finally:
                s.close()


@pytest.mark.skipif(not os.path.exists(BIN), reason="build/raft-node not built")
def test_kill9_replication():
    tmp = tempfile.mkdtemp(prefix="raft-it-")
    cl = Cluster(tmp)
    try:
        for i in range(3):
            cl.start(i)
        deadline = time.time() + 10
        while time.time() < deadline and not any((cl.status(i) or {}).get("role") == "leader" for i in range(3)):
            time.sleep(0.1)
        acked, stop = [], threading.Event()
        clients = [Client(cl, w, acked, stop) for w in range(4)]
        for c in clients:
            c.start()
        kills = 0
        t0 = time.time()
        while not stop.is_set():
            if time.time() - t0 > 100:
                stop.set()
                break
            time.sleep(random.uniform(0.2, 0.8))
            victim = random.randrange(3)
            cl.kill(victim)
            kills += 1
            time.sleep(random.uniform(0.05, 0.5))
            cl.start(victim)
        for c in clients:
            c.join(5)
        elapsed = time.time() - t0
        assert len(acked) >= TARGET, "only %d entries acknowledged in %.0fs" % (len(acked), elapsed)

        # Converge: all members up, same commit == last, everything applied.
        deadline = time.time() + 30
        while True:
            st = [cl.status(i) for i in range(3)]
            if all(st) and len({s["commit"] for s in st}) == 1 and all(
                    s["commit"] == s["last"] == s["applied"] for s in st):
                break
            assert time.time() < deadline, "no convergence: %r" % st
            time.sleep(0.2)
        for i in range(3):
            cl.kill(i)

        dumps = [cl.dump(i) for i in range(3)]
        assert dumps[0] == dumps[1] == dumps[2], "member logs differ"
        log = dumps[0]
        by_index = {e[0]: e for e in log}
        for idx, payload in acked:
            e = by_index.get(idx)
            assert e is not None and e[3] == payload, "acknowledged entry %d (%s) lost: %r" % (idx, payload, e)
        # Same order: acknowledged entries sorted by position are distinct positions.
        assert len({idx for idx, _ in acked}) == len(acked)
        print("\n%d acknowledged entries, %d log entries, %d kill -9, %.1fs" % (len(acked), len(log), kills, elapsed))
    finally:
        for i in range(3):
            cl.kill(i)
        shutil.rmtree(tmp, ignore_errors=True)
