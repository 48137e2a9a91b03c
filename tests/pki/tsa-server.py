#!/usr/bin/env python3
"""tsa-server.py PKI_DIR PORT_FILE [--fail-status N] — a test RFC 3161 TSA on loopback.

Answers each POST with `openssl ts -reply` using the TSA of make-pki.sh
(PKI_DIR/tsa.cnf). Listens on 127.0.0.1 on a free port, written to
PORT_FILE once it is ready. With --fail-status N it answers every request
with HTTP status N instead (a TSA in trouble).
"""
import http.server
import os
import subprocess
import sys
import tempfile

pki, port_file = sys.argv[1], sys.argv[2]
fail_status = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--fail-status" else 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if fail_status:
            self.send_response(fail_status)
            self.end_headers()
            return
        with tempfile.TemporaryDirectory() as d:
            q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
            open(q, "wb").write(body)
            ok = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(pki, "tsa.cnf"),
                                 "-queryfile", q, "-out", r], capture_output=True).returncode == 0
            data = open(r, "rb").read() if ok and os.path.exists(r) else b""
        self.send_response(200 if data else 500)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
