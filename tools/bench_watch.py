#!/usr/bin/env python3
"""Helpers for tools/bench-provision.sh that talk to the daemon's socket directly, so the figures are
the daemon's and not a CLI's start-up:

  bench_watch.py SOCKET bound NAMESPACE COUNT OUT   watch claims; write "<seconds> <name>" when each is Bound
  bench_watch.py SOCKET latency NAMESPACE RUNS      create RUNS claims one at a time; print the median ms
                                                    from POST to Bound, as seen by a watch
"""
import http.client, json, socket, statistics, sys, time

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)

def request(sock, method, path, body=None):
    c = UnixConnection(sock)
    c.request(method, path, body=json.dumps(body) if body else None, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None

def watch(sock, path):
    """Yields (seconds, event) for each line of a watch."""
    c = UnixConnection(sock)
    c.request("GET", path)
    r = c.getresponse()
    while True:
        line = r.readline()
        if not line:
            return
        yield time.monotonic(), json.loads(line)

def claim(name):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                     "resources": {"requests": {"storage": "1Mi"}}}}

def bound(sock, ns, count, out):
    _, lst = request(sock, "GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims")
    rv = lst["metadata"]["resourceVersion"]
    seen = set()
    start = time.monotonic()
    with open(out, "w") as f:
        f.write(f"{time.time() - (time.monotonic() - start):.6f} start\n")
        for t, e in watch(sock, f"/api/v1/namespaces/{ns}/persistentvolumeclaims?watch=1&resourceVersion={rv}&timeoutSeconds=1800"):
            o = e.get("object", {})
            name = o.get("metadata", {}).get("name")
            if o.get("status", {}).get("phase") == "Bound" and name not in seen:
                seen.add(name)
                f.write(f"{time.time():.6f} {name}\n")
                f.flush()
                if len(seen) >= count:
                    return

def latency(sock, ns, runs):
    times = []
    for i in range(runs):
        name = f"probe-{int(time.time() * 1000)}-{i}"
        _, lst = request(sock, "GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims?fieldSelector=metadata.name%3D{name}")
        rv = lst["metadata"]["resourceVersion"]
        t0 = time.monotonic()
        status, _ = request(sock, "POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", claim(name))
        assert status == 201, status
        for t, e in watch(sock, f"/api/v1/namespaces/{ns}/persistentvolumeclaims?watch=1&resourceVersion={rv}"
                                f"&fieldSelector=metadata.name%3D{name}&timeoutSeconds=60"):
            if e.get("object", {}).get("status", {}).get("phase") == "Bound":
                times.append((t - t0) * 1000)
                break
        time.sleep(0.2)
    print(f"{statistics.median(times):.1f}")

if __name__ == "__main__":
    sock, mode = sys.argv[1], sys.argv[2]
    if mode == "bound":
        bound(sock, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif mode == "latency":
        latency(sock, sys.argv[3], int(sys.argv[4]))
