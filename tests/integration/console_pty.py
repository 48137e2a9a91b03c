"""A scripted session on `sohoa console` over a real pseudo-terminal.

The console runs as the child of a pty, exactly as on the serial line: the
line discipline echoes (or does not, for secrets), libedit edits. The
driver sends keystrokes and waits for text, keeping the whole transcript so
that a check can also assert what never appeared (a password, a PIN).
"""
import os
import pty
import re
import select
import signal
import time


class Timeout(Exception):
    pass


class Console:
    def __init__(self, argv, env=None, cols=80, rows=24):
        self.transcript = b""
        self.seen = 0  # offset of the text already matched
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        import fcntl
        import struct
        import termios
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:
            raise EOFError("the console closed its terminal")
        self.transcript += data
        return True

    def text(self, start=0):
        return self.transcript[start:].decode("utf-8", "replace")

    def expect(self, pattern, timeout=10.0):
        """Waits for `pattern` (regex) after what was matched before;
        returns the match."""
        rx = re.compile(pattern.encode("utf-8") if isinstance(pattern, str) else pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.transcript, self.seen)
            if m:
                self.seen = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise Timeout("waited %.0f s for %r; last output:\n%s"
                              % (timeout, pattern, self.text(max(0, len(self.transcript) - 600))))
            try:
                self._read(min(left, 0.5))
            except EOFError:
                m = rx.search(self.transcript, self.seen)
                if m:
                    self.seen = m.end()
                    return m
                raise Timeout("the console exited while waiting for %r; last output:\n%s"
                              % (pattern, self.text(max(0, len(self.transcript) - 600))))

    def send(self, text, enter=True):
        os.write(self.fd, (text + ("\r" if enter else "")).encode("utf-8"))

    def command(self, line, timeout=20.0):
        """Types a command at the prompt and returns its output (up to the
        next prompt)."""
        self.expect_prompt_ready()
        start = len(self.transcript)
        self.send(line)
        self.expect(r"sohoa> ", timeout)
        out = self.transcript[start:self.seen].decode("utf-8", "replace")
        self._prompt_pending = True
        return out

    _prompt_pending = False

    def expect_prompt_ready(self):
        # the first prompt after login has not been consumed yet
        if not self._prompt_pending:
            self.expect(r"sohoa> ")
            self._prompt_pending = True

    def wait_exit(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            try:
                self._read(0.2)
            except EOFError:
                pass
        raise Timeout("the console did not exit")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.wait_exit(5)
            except (ProcessLookupError, Timeout, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass
