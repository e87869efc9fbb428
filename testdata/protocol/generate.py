#!/usr/bin/env python3
"""Writes the golden vectors of docs/PROTOCOL.md. Run once by hand when the protocol changes; the Rust and the Java
codecs are tested against the files it writes, never against this script."""
import json, struct, zlib, pathlib

HERE = pathlib.Path(__file__).parent
TYPES = {"HELLO": 1, "LOG": 2, "ACK": 3, "EXIT": 4, "EXIT_ACK": 5, "CONTROL": 6, "CONTROL_REPLY": 7, "METRICS": 8}


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

singles = {
    "hello.bin": hello, "log-stdout.bin": log1, "log-stderr-binary.bin": log2, "log-init.bin": log_init,
    "log-max.bin": log_max, "ack.bin": ack, "ack-max.bin": ack_max, "exit.bin": exit_, "exit-error.bin": exit_err,
    "exit-ack.bin": exit_ack, "control-stop.bin": stop, "control-signal.bin": signal,
    "control-reply.bin": reply, "metrics.bin": metrics,
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

(HERE / "vectors.json").write_text(json.dumps({
    "comment": "Golden vectors of docs/PROTOCOL.md. u64 fields are decimal strings; byte fields are hex. "
               "encodes=true: encoding the frames must give the file's bytes exactly.",
    "vectors": vectors}, indent=2) + "\n")
