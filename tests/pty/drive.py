#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and plays a script of keys at it,
for credctl's tests of prompts, spinners and Ctrl-C.

    python3 tests/pty/drive.py SPEC.json

SPEC: {"argv": [...], "env": {...}, "steps": [{"expect": "text", "send": "keys"}],
       "timeout": 30}
Each step waits (at most `timeout` seconds) until the output so far holds
`expect`, then types `send`. After the last step it reads until the command
ends. Prints one JSON object: {"exit": code or null, "signal": n or null,
"output": everything the terminal showed, "missed": the expectation that
never came, or null}.
"""
import json
import os
import pty
import select
import sys
import time


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    timeout = spec.get("timeout", 30)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    output = b""
    missed = None

    def read_some(deadline):
        nonlocal output
        left = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        output += chunk
        return True

    for step in spec.get("steps", []):
        deadline = time.monotonic() + timeout
        want = step["expect"].encode()
        while want not in output and time.monotonic() < deadline:
            if not read_some(deadline):
                break
        if want not in output:
            missed = step["expect"]
            break
        os.write(fd, step["send"].encode())
    deadline = time.monotonic() + timeout
    status = None
    while status is None and time.monotonic() < deadline:
        alive = read_some(deadline)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
        elif not alive:
            time.sleep(0.05)
    if status is None:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
    # What the terminal still holds after the command ended.
    while read_some(time.monotonic() + 0.2):
        pass
    print(json.dumps({
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "output": output.decode("utf-8", "replace"),
        "missed": missed,
    }))


main()
