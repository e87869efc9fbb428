#!/usr/bin/env python3
"""Drives a command through a real pseudo-terminal, as a user at a terminal would.

usage: pty_drive.py STEPS_FILE ROWS COLS -- CMD...

The command gets a new session whose controlling terminal is the pty's slave (stdin, stdout and
stderr), sized ROWS x COLS. STEPS_FILE has one step a line:
  send TEXT          write TEXT (Python escapes: \\r, \\x03, \\x10) to the master
  expect REGEX SECS  wait until the output since the last expect matches REGEX
  resize ROWS COLS   set the pty's size (the kernel sends the foreground group SIGWINCH)
  sleep SECS
  exit CODE SECS     wait for the command to exit with CODE (CODE "!0": any but 0)
  mark PATH          create the file PATH (for the test to act at this point)
  stty-same          the slave's `stty -g` now equals what it was before the command ran
Prints the transcript; exits 0 when every step passed, 1 (saying which failed) otherwise.
"""
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time


def stty_g(slave):
    return subprocess.run(["stty", "-g"], stdin=slave, capture_output=True, text=True).stdout


def main():
    steps_file, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    before = stty_g(slave)

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=child_setup, close_fds=True)
    out = b""
    seen = 0

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            out += data
            return bool(data)
        return False

    def fail(msg):
        sys.stdout.write("TRANSCRIPT:\n" + out.decode("utf-8", "replace") + "\nFAILED: " + msg + "\n")
        proc.kill()
        sys.exit(1)

    for line in open(steps_file).read().splitlines():
        if not line.strip():
            continue
        op, _, arg = line.partition(" ")
        if op == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif op == "expect":
            regex, secs = arg.rsplit(" ", 1)
            deadline = time.time() + float(secs)
            while True:
                m = re.search(regex.encode(), out[seen:])
                if m:
                    seen += m.end()
                    break
                if time.time() > deadline:
                    fail("no %r within %s s" % (regex, secs))
                pump(0.1)
        elif op == "resize":
            r, c = arg.split()
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", int(r), int(c), 0, 0))
        elif op == "sleep":
            end = time.time() + float(arg)
            while time.time() < end:
                pump(0.05)
        elif op == "exit":
            code, secs = arg.split()
            deadline = time.time() + float(secs)
            while proc.poll() is None and time.time() < deadline:
                pump(0.05)
            if proc.poll() is None:
                fail("still running after %s s" % secs)
            while pump(0.05):
                pass
            if (proc.returncode == 0) if code == "!0" else (proc.returncode != int(code)):
                fail("exit %d, expected %s" % (proc.returncode, code))
        elif op == "mark":
            open(arg, "w").close()
        elif op == "stty-same":
            after = stty_g(slave)
            if after != before:
                fail("the terminal's settings changed: %r -> %r" % (before, after))
        else:
            fail("unknown step " + line)
    sys.stdout.write("TRANSCRIPT:\n" + out.decode("utf-8", "replace") + "\nPASSED\n")


main()
