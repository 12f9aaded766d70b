"""A real web server on loopback for fmlweb: lighttpd with mod_cgi, as an
admin would run it (doc/fmlweb.8), started and stopped by a test.

lighttpd starts as root and runs as the lists' owner (nobody), so fmlweb
runs as the owner, never as root.  /fml/... is fmlweb (PATH_INFO the rest),
everything else is static files under DOCROOT (the HTML archive).
"""
import os
import shutil
import socket
import subprocess
import time

from conftest import ROOT, free_port, owner_ids

FMLWEB = os.path.join(ROOT, "fml", "fmlweb")
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"

CONF = """\
server.modules = ("mod_alias", "mod_cgi", "mod_setenv", "mod_accesslog")
server.bind = "127.0.0.1"
server.port = {port}
server.document-root = "{docroot}"
server.username = "nobody"
server.groupname = "{group}"
server.errorlog = "{base}/error.log"
server.pid-file = "{base}/lighttpd.pid"
accesslog.filename = "{base}/access.log"
mimetype.assign = (".html" => "text/html; charset=utf-8", ".xml" => "application/atom+xml",
                   ".css" => "text/css", ".pdf" => "application/pdf",
                   ".txt" => "text/plain; charset=utf-8", "" => "application/octet-stream")
alias.url = ("/fml" => "{fmlweb}")
$HTTP["url"] =~ "^/fml(/|$)" {{
    cgi.assign = ("" => "")
}}
setenv.add-environment = ("FML_ML_DIR" => "{ml_dir}")
"""


class WebServer:
    def __init__(self, base, ml_dir, docroot=None):
        self.base = base
        self.ml_dir = ml_dir
        self.docroot = docroot or os.path.join(base, "htdocs")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        os.makedirs(self.base, exist_ok=True)
        uid, gid = owner_ids()
        if not os.path.isdir(self.docroot):  # a list's htdocs/ is the list owner's
            os.makedirs(self.docroot)
            os.chown(self.docroot, uid, gid)
        os.chown(self.base, uid, gid)
        import grp
        conf = os.path.join(self.base, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(port=self.port, docroot=self.docroot, base=self.base,
                                fmlweb=FMLWEB, ml_dir=self.ml_dir,
                                group=grp.getgrgid(gid).gr_name))
        self.proc = subprocess.Popen([LIGHTTPD, "-D", "-f", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("lighttpd: " + self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise AssertionError("lighttpd did not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def error_log(self):
        p = os.path.join(self.base, "error.log")
        return open(p).read() if os.path.exists(p) else ""
