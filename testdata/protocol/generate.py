#!/usr/bin/env python3
"""Writes the golden vectors of docs/PROTOCOL.md. Run once by hand when the protocol changes; the Rust and the Java
codecs are tested against the files it writes, never against this script."""
import json, struct, zlib, pathlib

HERE = pathlib.Path(__file__).parent
TYPES = {"HELLO": 1, "LOG": 2, "ACK": 3, "EXIT": 4, "EXIT_ACK": 5, "CONTROL": 6, "CONTROL_REPLY": 7, "METRICS": 8,
         "OPEN": 9, "STARTED": 10, "DATA": 11, "EOF": 12, "WINDOW": 13, "RESIZE": 14, "SIGNAL": 15, "CLOSED": 16}


def frame(ftype, payload, version=1):
    head = b"IF" + struct.pack(">BBII", version, ftype, len(payload), zlib.crc32(payload) & 0xFFFFFFFF)
    return head + struct.pack(">I", zlib.crc32(head) & 0xFFFFFFFF) + payload


def encode(f):
    t = f["type"]
    if t == "HELLO":
        p = struct.pack(">BQ", f["channel"], int(f["boot_id"])) + f["vm_id"].encode()
    elif t == "LOG":
        p = struct.pack(">QQB", int(f["seq"]), int(f["guest_time_ns"]), f["stream"]) + bytes.fromhex(f["data_hex"])
    elif t == "ACK":
        p = struct.pack(">Q", int(f["seq"]))
    elif t == "EXIT_ACK":
        p = b""
    elif t in ("OPEN", "CLOSED"):
        p = struct.pack(">I", f["session"]) + f["json"].encode()
    elif t == "STARTED":
        p = struct.pack(">II", f["session"], f["pid"])
    elif t == "DATA":
        p = struct.pack(">IB", f["session"], f["stream"]) + bytes.fromhex(f["data_hex"])
    elif t == "EOF":
        p = struct.pack(">IB", f["session"], f["stream"])
    elif t == "WINDOW":
        p = struct.pack(">IBI", f["session"], f["stream"], f["bytes"])
    elif t == "RESIZE":
        p = struct.pack(">IHH", f["session"], f["rows"], f["cols"])
    elif t == "SIGNAL":
        p = struct.pack(">II", f["session"], f["signal"])
    else:
        p = f["json"].encode()
    return frame(TYPES[t], p)


hello = {"type": "HELLO", "channel": 1, "boot_id": str(0x0123456789ABCDEF), "vm_id": "9f86d081884c7d65"}
log1 = {"type": "LOG", "seq": "1", "guest_time_ns": "1764355200123456789", "stream": 1, "data_hex": b"hello\n".hex()}
log2 = {"type": "LOG", "seq": "2", "guest_time_ns": "1764355200223456789", "stream": 2,
        "data_hex": bytes([0x00, 0xFF, 0x0A, 0x49, 0x46, 0x01, 0x02]).hex()}
log_init = {"type": "LOG", "seq": "3", "guest_time_ns": "1764355200323456789", "stream": 3,
            "data_hex": b"inferno-init: dropped 4096 bytes of output\n".hex()}
log_max = {"type": "LOG", "seq": "18446744073709551615", "guest_time_ns": "0", "stream": 1,
           "data_hex": bytes(i % 251 for i in range(65519)).hex()}
ack = {"type": "ACK", "seq": "42"}
ack_max = {"type": "ACK", "seq": "18446744073709551615"}
exit_ = {"type": "EXIT", "json": '{"code":137,"signal":9,"oom":false,"started_ns":1764355200000000000,'
         '"finished_ns":1764355203500000000,"error":null}'}
exit_err = {"type": "EXIT", "json": '{"code":127,"signal":null,"oom":false,"started_ns":1764355200000000000,'
            '"finished_ns":1764355200000000000,"error":"exec: \\"nosuchcmd\\": executable file not found in $PATH"}'}
exit_ack = {"type": "EXIT_ACK"}
stop = {"type": "CONTROL", "json": '{"op":"stop"}'}
signal = {"type": "CONTROL", "json": '{"op":"signal","signal":10}'}
reply = {"type": "CONTROL_REPLY", "json": '{"ok":false,"error":"no such process"}'}
metrics = {"type": "METRICS", "json": '{"time_ns":1764355200000000000,"cpu":{"user_ms":10,"system_ms":20,'
           '"idle_ms":3000},"memory":{"total_bytes":268435456,"available_bytes":200000000,'
           '"cgroup_current_bytes":1048576},"disk":{"read_bytes":4096,"write_bytes":0},'
           '"network":{"rx_bytes":0,"tx_bytes":0},"log_dropped_bytes":0}'}

# Sessions (section 10)
open_exec = {"type": "OPEN", "session": 1, "json": '{"kind":"exec","argv":["sh","-c","echo hi"],"env":["PATH=/usr/bin:/bin",'
             '"TERM=xterm"],"user":"nobody","workdir":"/tmp","tty":true,"stdin":true,"console_size":[24,80]}'}
open_get = {"type": "OPEN", "session": 2, "json": '{"kind":"archive-get","path":"/var/log/app.log"}'}
open_put = {"type": "OPEN", "session": 3, "json": '{"kind":"archive-put","path":"/srv/data"}'}
open_top = {"type": "OPEN", "session": 4294967295, "json": '{"kind":"top"}'}
open_stat = {"type": "OPEN", "session": 6, "json": '{"kind":"stat","path":"/srv/data"}'}
started = {"type": "STARTED", "session": 1, "pid": 42}
data_stdin = {"type": "DATA", "session": 0, "stream": 0, "data_hex": b"hello\x04\n".hex()}
data_stderr = {"type": "DATA", "session": 7, "stream": 2, "data_hex": bytes([0x00, 0xFF, 0x49, 0x46, 0x01]).hex()}
data_max = {"type": "DATA", "session": 1, "stream": 1, "data_hex": bytes(i % 253 for i in range(65531)).hex()}
eof = {"type": "EOF", "session": 0, "stream": 0}
window = {"type": "WINDOW", "session": 1, "stream": 1, "bytes": 262144}
window_max = {"type": "WINDOW", "session": 4294967295, "stream": 2, "bytes": 4294967295}
resize = {"type": "RESIZE", "session": 0, "rows": 50, "cols": 132}
sig = {"type": "SIGNAL", "session": 2, "signal": 15}
closed = {"type": "CLOSED", "session": 1, "json": '{"code":3,"signal":null,"oom":false,"started_ns":1764355200000000000,'
          '"finished_ns":1764355201000000000,"error":null}'}
closed_127 = {"type": "CLOSED", "session": 5, "json": '{"code":127,"signal":null,"oom":false,"started_ns":0,'
              '"finished_ns":0,"error":"exec: \\"nosuch\\": executable file not found in $PATH"}'}

singles = {
    "hello.bin": hello, "log-stdout.bin": log1, "log-stderr-binary.bin": log2, "log-init.bin": log_init,
    "log-max.bin": log_max, "ack.bin": ack, "ack-max.bin": ack_max, "exit.bin": exit_, "exit-error.bin": exit_err,
    "exit-ack.bin": exit_ack, "control-stop.bin": stop, "control-signal.bin": signal,
    "control-reply.bin": reply, "metrics.bin": metrics,
    "open-exec.bin": open_exec, "open-archive-get.bin": open_get, "open-archive-put.bin": open_put,
    "open-top.bin": open_top, "open-stat.bin": open_stat, "started.bin": started, "data-stdin.bin": data_stdin, "data-stderr.bin": data_stderr,
    "data-max.bin": data_max, "eof.bin": eof, "window.bin": window, "window-max.bin": window_max,
    "resize.bin": resize, "signal.bin": sig, "closed.bin": closed, "closed-127.bin": closed_127,
}
vectors = []
for name, f in singles.items():
    (HERE / name).write_bytes(encode(f))
    vectors.append({"file": name, "frames": [f], "encodes": True})

# A stream a reader must resynchronise on: garbage, a frame cut short, a CRC-corrupted frame, an oversized length,
# a wrong version, and an unknown type (valid CRC: skipped whole). Only the listed frames may come out.
cut = encode(log_init)[:20]
bad_crc = bytearray(encode(log1)); bad_crc[-1] ^= 0xFF  # payload CRC fails
bad_head = bytearray(encode(log2)); bad_head[3] = 9  # header CRC fails
too_long_head = b"IF" + struct.pack(">BBII", 1, 2, 65537, 0)
too_long = too_long_head + struct.pack(">I", zlib.crc32(too_long_head) & 0xFFFFFFFF)
wrong_version = frame(2, b"\0" * 17 + b"x", version=2)
unknown = frame(0x7F, b"from the future")
stream = (b"garbage\x00IF" + encode(hello) + cut + encode(log1) + bytes(bad_crc) + bytes(bad_head) + too_long + wrong_version
          + encode(log2) + unknown + encode(ack) + b"IF\x01")
(HERE / "stream-resync.bin").write_bytes(stream)
vectors.append({"file": "stream-resync.bin", "frames": [hello, log1, log2, ack], "encodes": False})

# A session conversation as one stream: the frames of one exec, interleaved with session 0's stdin.
conversation = [open_exec, started, data_stdin, window, data_stderr, eof, resize, closed]
(HERE / "session-stream.bin").write_bytes(b"".join(encode(f) for f in conversation))
vectors.append({"file": "session-stream.bin", "frames": conversation, "encodes": True})

(HERE / "vectors.json").write_text(json.dumps({
    "comment": "Golden vectors of docs/PROTOCOL.md. u64 fields are decimal strings; byte fields are hex. "
               "encodes=true: encoding the frames must give the file's bytes exactly.",
    "vectors": vectors}, indent=2) + "\n")
