"""A small LMTP server (RFC 2033) for the transport tests.

It speaks enough of the protocol to check a client: a 220 greeting, LHLO
(EHLO and HELO are refused with 500, as RFC 2033 4.1 wants), MAIL, RCPT,
DATA with one reply per accepted recipient after the final dot, RSET, NOOP
and QUIT, PIPELINING (commands are read line by line, so pipelined ones
simply queue up), with CRLF checked on every line.

Knobs, per recipient address:
  rcpt_replies  {addr: "550 5.1.1 no such user"}  reply to RCPT TO instead of 250
  data_replies  {addr: "452 4.2.2 mailbox full"}  reply after the final dot
and for the whole server:
  drop_after    a command ("DATA", ".", "RCPT") after which the connection
                is closed without a reply
Every message is recorded in .messages as (sender, [rcpts], data bytes with
dot-stuffing undone and CRLF kept); protocol errors in .errors.

Use it in-process (LMTPServer(...).start(), .port or .path, .stop()) or
run it: python3 lmtp_server.py PORT|/unix/path [addr=REPLY-after-DATA ...].
"""
import os
import re
import socket
import socketserver
import sys
import threading


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(10000)
        if not line:
            return None
        if not line.endswith(b"\r\n"):
            self.server.lmtp.errors.append("line without CRLF: %r" % line)
        return line

    def handle(self):
        srv = self.server.lmtp
        self.reply("220 lmtp.test LMTP ready")
        sender, rcpts, greeted = None, [], False
        while True:
            line = self.readline()
            if line is None:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            srv.commands.append(cmd)
            if srv.drop_after == verb:
                return
            if verb == "LHLO":
                greeted = True
                self.wfile.write(b"250-lmtp.test\r\n250-PIPELINING\r\n"
                                 b"250-ENHANCEDSTATUSCODES\r\n250-SIZE 10000000\r\n"
                                 b"250 8BITMIME\r\n")
                self.wfile.flush()
            elif verb in ("EHLO", "HELO"):
                self.reply("500 5.5.1 this is LMTP: say LHLO")
            elif verb == "MAIL":
                m = re.match(r"(?i)MAIL FROM:<([^>]*)>", cmd)
                if not greeted or not m or sender is not None:
                    self.reply("503 5.5.1 bad sequence or syntax")
                    continue
                sender, rcpts = m.group(1), []
                self.reply("250 2.1.0 sender ok")
            elif verb == "RCPT":
                m = re.match(r"(?i)RCPT TO:<([^>]*)>$", cmd)
                if sender is None or not m:
                    self.reply("503 5.5.1 need MAIL first")
                    continue
                addr = m.group(1)
                r = srv.rcpt_replies.get(addr, "250 2.1.5 recipient ok")
                if r.startswith("2"):
                    rcpts.append(addr)
                self.reply(r)
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 5.5.1 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = self.read_data()
                if data is None:
                    return
                srv.messages.append((sender, list(rcpts), data))
                if srv.drop_after == ".":
                    return
                for addr in rcpts:
                    self.reply(srv.data_replies.get(addr, "250 2.0.0 <%s> delivered" % addr))
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("500 5.5.2 unknown command")

    def read_data(self):
        out = []
        while True:
            line = self.readline()
            if line is None:
                self.server.lmtp.errors.append("EOF inside DATA")
                return None
            if line == b".\r\n":
                return b"".join(out)
            if line.startswith(b"."):
                line = line[1:]
            if b"\r" in line[:-2] or b"\n" in line[:-1]:
                self.server.lmtp.errors.append("bare CR or LF: %r" % line)
            out.append(line)


class _TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class LMTPServer:
    def __init__(self, path=None, port=0, rcpt_replies=None, data_replies=None,
                 drop_after=None):
        self.rcpt_replies = dict(rcpt_replies or {})
        self.data_replies = dict(data_replies or {})
        self.drop_after = drop_after
        self.messages, self.commands, self.errors = [], [], []
        self.path = path
        if path:
            if os.path.exists(path):
                os.unlink(path)
            self.server = _Unix(path, _Handler)
        else:
            self.server = _TCP(("127.0.0.1", port), _Handler)
        self.server.lmtp = self
        self.port = None if path else self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def main(argv):
    where = argv[1]
    data_replies = dict(a.split("=", 1) for a in argv[2:])
    if where.startswith("/"):
        srv = LMTPServer(path=where, data_replies=data_replies)
    else:
        srv = LMTPServer(port=int(where), data_replies=data_replies)
    print("listening on", srv.path or "127.0.0.1:%d" % srv.port, flush=True)
    srv.server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
