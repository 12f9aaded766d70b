"""A QMQP test server after https://cr.yp.to/proto/qmqp.html.

A request is one netstring holding a netstring of the message, a netstring
of the envelope sender and one netstring per recipient; the answer is one
netstring whose first byte is K (accepted), Z (temporary failure) or D
(permanent failure), followed by a human-readable text, and then the
server closes the connection.  The request is parsed strictly (a length
with a leading zero, a missing ':' or ',' or bytes after the outer
netstring is a protocol error, answered with "Dprotocol error").

Knobs (attributes, may be changed between requests):
    answer   "K", "Z" or "D" (default "K"); the text follows it
    text     the text after the letter
    drop     close the connection without answering, after reading the
             request ("after"), as soon as it connects ("connect"), or
             only the first connection as soon as it connects ("first")
    raw      bytes sent verbatim instead of an answer netstring
    delay    seconds to wait after reading the request before answering

Every request is recorded in `requests` as a dict: message (bytes),
sender (bytes), rcpts (list of bytes), error (str or None).  The message
is kept so the tests can compare it byte for byte; it is streamed to a
temporary file when `spool_dir` is set (large messages).

Run standalone: python3 qmqp_server.py [PORT] prints "PORT" and serves.
"""
import os
import socket
import sys
import tempfile
import threading
import time


class ProtocolError(Exception):
    pass


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read(self, n):
        """Exactly N bytes (or ProtocolError at EOF)."""
        parts, need = [], n
        if self.buf:
            take = self.buf[:need]
            self.buf = self.buf[len(take):]
            parts.append(take)
            need -= len(take)
        while need > 0:
            chunk = self.sock.recv(min(need, 1 << 16))
            if not chunk:
                raise ProtocolError("EOF inside a netstring")
            parts.append(chunk)
            need -= len(chunk)
        return b"".join(parts)

    def length(self):
        """The decimal length and ':' that open a netstring."""
        digits = b""
        while True:
            c = self.read(1)
            if c == b":":
                break
            if not c.isdigit() or len(digits) >= 12:
                raise ProtocolError("bad netstring length")
            digits += c
        if not digits or (len(digits) > 1 and digits[0:1] == b"0"):
            raise ProtocolError("bad netstring length %r" % digits)
        return int(digits)

    def comma(self):
        if self.read(1) != b",":
            raise ProtocolError("netstring without ','")


class QMQPServer:
    def __init__(self, host="127.0.0.1", port=0, spool_dir=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.answer = "K"
        self.text = "ok"
        self.drop = None
        self.raw = None
        self.delay = 0
        self.spool_dir = spool_dir
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self._stop = False

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self.sock.close()

    def wait_requests(self, n, timeout=10):
        """The first N recorded requests (they are recorded after the
        answer is sent, so a client may return before)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests[:n])
            time.sleep(0.01)
        raise AssertionError("got %d QMQP requests, want %d" % (len(self.requests), n))

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            with self.lock:
                self.connections += 1
                first = self.connections == 1
            threading.Thread(target=self._handle, args=(conn, first), daemon=True).start()

    def _read_message(self, r, n):
        """The message netstring's payload: bytes, or a file path."""
        if not self.spool_dir:
            return r.read(n)
        fd, path = tempfile.mkstemp(dir=self.spool_dir, prefix="qmqp-msg.")
        with os.fdopen(fd, "wb") as f:
            left = n
            while left:
                chunk = r.read(min(left, 1 << 16))
                f.write(chunk)
                left -= len(chunk)
        return path

    def _request(self, r, req):
        total = r.length()
        # the message
        n = r.length()
        used = len(str(n)) + 1 + n + 1
        if used > total:
            raise ProtocolError("message longer than the request")
        req["message"] = self._read_message(r, n)
        r.comma()
        # sender, then recipients, until the outer length is used up
        fields = []
        while used < total:
            n = r.length()
            used += len(str(n)) + 1 + n + 1
            if used > total:
                raise ProtocolError("field longer than the request")
            fields.append(r.read(n))
            r.comma()
        if used != total:
            raise ProtocolError("outer length mismatch")
        r.comma()
        if len(fields) < 2:
            raise ProtocolError("no sender or no recipient")
        req["sender"], req["rcpts"] = fields[0], fields[1:]

    def _handle(self, conn, first):
        req = {"message": None, "sender": None, "rcpts": [], "error": None}
        try:
            conn.settimeout(60)
            if self.drop == "connect" or (self.drop == "first" and first):
                return
            r = _Reader(conn)
            try:
                self._request(r, req)
            except ProtocolError as e:
                req["error"] = str(e)
            if self.delay:
                time.sleep(self.delay)
            if self.drop == "after":
                return
            if self.raw is not None:
                conn.sendall(self.raw)
                return
            if req["error"]:
                payload = b"Dprotocol error: " + req["error"].encode()
            else:
                payload = (self.answer + self.text).encode()
            conn.sendall(b"%d:%s," % (len(payload), payload))
        except OSError as e:
            req["error"] = "socket: %s" % e
        finally:
            with self.lock:
                self.requests.append(req)
            conn.close()


if __name__ == "__main__":
    s = QMQPServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print(s.port, flush=True)
    s.thread.join()
