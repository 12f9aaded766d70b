"""A DNS server on loopback for the tests (python3-dnslib): TXT records from
a dict, every query counted, names that never get an answer (a timeout)
and names that get SERVFAIL.

    srv = DnsServer({"_dmarc.example.com": "v=DMARC1; p=reject"}, silent={...})
    srv.start(); ...; srv.address  -> "127.0.0.1:PORT" for DNS_SERVERS
"""
import socket
import threading

from dnslib import DNSRecord, QTYPE, RCODE, RR, SOA, TXT


class DnsServer:
    def __init__(self, txt=None, silent=(), servfail=(), ttl=300, negative_ttl=600):
        self.txt = {k.lower().rstrip("."): (v if isinstance(v, list) else [v])
                    for k, v in (txt or {}).items()}
        self.silent = {n.lower() for n in silent}
        self.servfail = {n.lower() for n in servfail}
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stopping = False

    def count(self, name):
        return sum(1 for q in self.queries if q == name.lower())

    def start(self):
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        self.sock.close()

    def serve(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                q = DNSRecord.parse(data)
            except Exception:
                continue
            name = str(q.q.qname).lower().rstrip(".")
            self.queries.append(name)
            if name in self.silent:
                continue
            a = q.reply()
            if name in self.servfail:
                a.header.rcode = RCODE.SERVFAIL
            elif q.q.qtype == QTYPE.TXT and name in self.txt:
                for v in self.txt[name]:
                    parts = [v[i:i + 255] for i in range(0, len(v), 255)] or [""]
                    a.add_answer(RR(q.q.qname, QTYPE.TXT, ttl=self.ttl, rdata=TXT(parts)))
            else:
                if not any(k == name or k.endswith("." + name) for k in self.txt):
                    a.header.rcode = RCODE.NXDOMAIN
                a.add_auth(RR("test.", QTYPE.SOA, ttl=self.negative_ttl,
                              rdata=SOA("ns.test.", "hostmaster.test.",
                                        (1, 3600, 600, 86400, self.negative_ttl))))
            self.sock.sendto(a.pack(), peer)
