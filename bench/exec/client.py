#!/usr/bin/env python3
"""A minimal client of inferno's interactive API (docs/api.yaml) for bench/exec/run.sh: HTTP/1.1 over the
daemon's unix socket with Connection: Upgrade, then Docker's stream format. Standard library only, so the
figures are the daemon's and the guest's, not a JVM's startup.

  client.py SOCKET exec-rtt VM N         N round trips of `exec VM true`; prints one ms figure per line
  client.py SOCKET stdin-vs-log VM MIB   MIB MiB into the main process's stdin, then MIB MiB of its output;
                                         prints "stdin_mib_s log_mib_s"
"""
import json, socket, sys, time


def request(sock_path, method, path, body=None, upgrade=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: inferno\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    head += "Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else "Connection: close\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit(f"{method} {path}: the daemon closed the connection")
        buf += chunk
    header, rest = buf.split(b"\r\n\r\n", 1)
    status = int(header.split(b" ", 2)[1])
    return s, status, header.decode("latin-1"), rest


def call(sock_path, method, path, body=None):
    s, status, header, rest = request(sock_path, method, path, body)
    while True:  # Connection: close: read to the end
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    if "transfer-encoding: chunked" in header.lower():
        out, i = b"", 0
        while True:
            j = rest.index(b"\r\n", i)
            n = int(rest[i:j], 16)
            if n == 0:
                break
            out += rest[j + 2:j + 2 + n]
            i = j + 2 + n + 2
        rest = out
    if status >= 300:
        raise SystemExit(f"{method} {path}: {status} {rest.decode(errors='replace')}")
    return json.loads(rest) if rest.strip() else None


def demux(s, rest, on_data):
    """Reads Docker's multiplexed stream until the server closes."""
    buf = rest
    while True:
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            on_data(buf[0], buf[8:8 + size])
            buf = buf[8 + size:]
        chunk = s.recv(262144)
        if not chunk:
            return
        buf += chunk


def exec_rtt(sock_path, vm, n):
    for _ in range(n):
        t0 = time.perf_counter()
        ex = call(sock_path, "POST", f"/v1/vms/{vm}/exec", {"cmd": ["true"]})
        s, status, _, rest = request(sock_path, "POST", f"/v1/exec/{ex['id']}/start", {"detach": False}, True)
        if status != 101:
            raise SystemExit(f"exec start: {status}")
        demux(s, rest, lambda st, d: None)
        s.close()
        info = call(sock_path, "GET", f"/v1/exec/{ex['id']}")
        t1 = time.perf_counter()
        if info.get("exitCode") != 0:
            raise SystemExit(f"exec true exited {info.get('exitCode')}: {info}")
        print(f"{(t1 - t0) * 1000:.2f}", flush=True)


def stdin_vs_log(sock_path, vm, mib):
    total = mib << 20
    s, status, _, rest = request(sock_path, "POST", f"/v1/vms/{vm}/attach?stdin=1&stdinOnce=1&logs=1", None, True)
    if status != 101:
        raise SystemExit(f"attach: {status}")
    marks = {}
    seen = bytearray()
    got = [0]

    def on_data(stream, data):
        if "stdin" not in marks:
            seen.extend(data)
            if b"READ-DONE\n" in seen:
                marks["stdin"] = time.perf_counter()
                got[0] = len(seen) - seen.index(b"READ-DONE\n") - len(b"READ-DONE\n")
        else:
            got[0] += len(data)
        if "stdin" in marks and got[0] >= total and "log" not in marks:
            marks["log"] = time.perf_counter()

    import threading
    reader = threading.Thread(target=demux, args=(s, rest, on_data))
    reader.start()
    block = bytes(range(256)) * 256  # 64 KiB
    t0 = time.perf_counter()
    sent = 0
    while sent < total:
        s.sendall(block)
        sent += len(block)
    s.shutdown(socket.SHUT_WR)
    reader.join()
    s.close()
    if "log" not in marks:
        raise SystemExit(f"incomplete: marks {marks}, output bytes {got[0]} of {total}")
    stdin_rate = mib / (marks["stdin"] - t0)
    log_rate = mib / (marks["log"] - marks["stdin"])
    print(f"{stdin_rate:.2f} {log_rate:.2f}")


if __name__ == "__main__":
    sock, what, vm = sys.argv[1:4]
    if what == "exec-rtt":
        exec_rtt(sock, vm, int(sys.argv[4]))
    elif what == "stdin-vs-log":
        stdin_vs_log(sock, vm, int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown measurement {what}")
