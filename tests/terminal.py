"""Running `likeness` on a pseudo-terminal: progress bars draw only on one, so `-q` can only be checked there."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios


def on_a_terminal(args: list, cwd, env) -> str:
    """Run `likeness` with stdout and stderr on a pseudo-terminal (progress bars draw only on one); its output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    child = subprocess.Popen([sys.executable, "-m", "likeness", *map(str, args)], stdout=follower, stderr=follower,
                             cwd=cwd, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.wait(timeout=300) == 0, b"".join(chunks)
    return b"".join(chunks).decode(errors="replace")

