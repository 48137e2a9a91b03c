#!/usr/bin/env python3
"""receiver.py — the reference receiver of the upload protocol, for tests and the demo.

    receiver.py [--host 127.0.0.1] [--port 0] [--port-file F] [--store DIR]
                [--tls CERT KEY] [--client-ca CA] [--token T] [--idle-timeout S]
                [--verbose]

The other end of firmware/upload.c (interfaces.md, "Upload protocol"): each
POST (any path but /_control) carries one edXML envelope (QCVN 102:2016)
with the header `Idempotency-Key: <DocumentId>`. The receiver reads the
body (Content-Length, or chunked), parses the envelope, decodes the PDF
attachment and answers:

  200  an edXML Status packet, code 01 (đã đến), for a new document, which
       is stored as DIR/<n>.xml and appended to DIR/received.jsonl as
       {n, document_id, idempotency_key, pdf_sha256, pdf_bytes, priority,
        bytes, time, replay: false};
  200  the same, with the header `Idempotent-Replayed: true`, for a key seen
       before with the same PDF (SHA-256): not stored again, a line with
       replay: true is appended and it counts in "replays";
  409  text "conflict: ..." for a key seen before with a different PDF;
  400  a Status packet, code 02 (từ chối), for a body that is not a
       well-formed envelope (or has no DocumentId, no attachment, no key);
  401  with --token T, when the request lacks "Authorization: Bearer T".

A DIR reused across runs keeps its numbering and its keys (received.jsonl
is read at start), so a replay after a restart is still a replay. Without
--store nothing is written and the state lives in memory.

Test hooks (no authentication; the receiver is for loopback):
  POST /_control {"mode": M, "status": 503, "count": N, "delay": S}
      the next N document requests (count -1, the default: until changed)
      get the fault M:
        ok      normal answers (clears any fault)
        error   HTTP `status` (default 503) with a text body
        reject  422 with a Status packet, code 02, and a Description
        hang    the body is read, then no answer for `delay` s (default
                3600), then the connection is closed
        reset   part of the body is read, then the socket is closed
                abortively (SO_LINGER 0: the client sees a reset)
        slow    `delay` s (default 5) of silence, then the normal answer
      answers the resulting state as JSON.
  GET /_stats -> {"documents": [received.jsonl objects without replays],
                  "replays": n, "requests": n (document requests, faults included),
                  "connections": n (accepted; shows whether clients keep them alive)}

Prints one line per document on stdout (flushed) for the demo:
  received 000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH (305 KB, sha256 ab12…)

--tls serves HTTPS (TLS 1.2+; CERT may hold the chain); --client-ca also
requires a client certificate issued under CA. --port-file F receives the
bound port (written atomically) once the socket listens. A kept-alive
connection idle for --idle-timeout seconds (default 300) is closed. SIGTERM and SIGINT
stop it cleanly (exit 0). Python 3.11 standard library only.
"""
import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
VN_TIME = datetime.timezone(datetime.timedelta(hours=7))
MODES = ("ok", "error", "reject", "hang", "reset", "slow")
MAX_BODY = 256 * 1024 * 1024


class BadRequest(Exception):
    """The request cannot be taken as a document; the message says why."""


def local(tag):
    """Element name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def first(elem, name):
    """The first descendant (or elem itself) named `name`, in any namespace."""
    for e in elem.iter():
        if local(e.tag) == name:
            return e
    return None


def parse_envelope(body):
    """(document_id, priority, pdf bytes) from an edXML envelope, or BadRequest."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise BadRequest(f"malformed XML: {e}") from None
    if root.tag != f"{{{NS}}}edXMLEnvelope":
        raise BadRequest(f"root element is {local(root.tag)}, not edXML:edXMLEnvelope in {NS}")
    header = next((c for c in root if c.tag == f"{{{NS}}}edXMLHeader"), None)
    if header is None:
        raise BadRequest("no edXML:edXMLHeader")
    msg = first(header, "MessageHeader")
    if msg is None:
        raise BadRequest("no MessageHeader in edXML:edXMLHeader")
    # The document's own DocumentId, a child of MessageHeader (ResponseFor
    # holds others').
    doc = next((c for c in msg if local(c.tag) == "DocumentId"), None)
    doc_id = (doc.text or "").strip() if doc is not None else ""
    if not doc_id:
        raise BadRequest("MessageHeader has no DocumentId")
    priority = None
    other = first(msg, "OtherInfo")
    prio = first(other, "Priority") if other is not None else None
    if prio is not None and (prio.text or "").strip():
        try:
            priority = int(prio.text.strip())
        except ValueError:
            raise BadRequest(f"OtherInfo/Priority {prio.text.strip()!r} is not a number") from None
    # Attachments: the PDF is the one whose ContentType says so, else the first.
    pdf = None
    for att in root.iter():
        if local(att.tag) != "Attachment":
            continue
        enc = first(att, "ContentTransferEncoded")
        if enc is None:
            continue
        try:
            data = base64.b64decode(b"".join((enc.text or "").encode("ascii").split()),
                                    validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise BadRequest("attachment is not valid base64") from None
        ctype = first(att, "ContentType")
        is_pdf = ctype is not None and (ctype.text or "").strip().lower() == "application/pdf"
        if pdf is None or is_pdf:
            pdf = data
        if is_pdf:
            break
    if pdf is None:
        raise BadRequest("no Attachment with ContentTransferEncoded")
    return doc_id, priority, pdf


def status_packet(doc_id, code, description):
    """An edXML Status packet (MessageStatus) answering `doc_id`; every element
    in the edXML namespace (edxml.xsd: elementFormDefault qualified)."""
    now = datetime.datetime.now(VN_TIME).strftime("%Y/%m/%d %H:%M:%S")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<edXML:edXMLEnvelope xmlns:edXML="{NS}">\n'
        "  <edXML:edXMLHeader>\n"
        "    <edXML:MessageStatus>\n"
        "      <edXML:ResponseFor><edXML:DocumentId>"
        f"{escape(doc_id or 'unknown')}</edXML:DocumentId></edXML:ResponseFor>\n"
        "      <edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId></edXML:From>\n"
        f"      <edXML:StatusCode>{code}</edXML:StatusCode>\n"
        f"      <edXML:Description>{escape(description)}</edXML:Description>\n"
        f"      <edXML:Timestamp>{now}</edXML:Timestamp>\n"
        "    </edXML:MessageStatus>\n"
        "  </edXML:edXMLHeader>\n"
        "</edXML:edXMLEnvelope>\n"
    ).encode("utf-8")


class Store:
    """Documents received, by idempotency key; DIR/received.jsonl when a DIR is given."""

    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0
        self.keys = {}  # idempotency key -> (pdf sha256, n)
        self.documents = []
        self.replays = 0
        self.requests = 0
        self.connections = 0
        self.journal = None
        if directory:
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, "received.jsonl")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        if line.strip():
                            self._note(json.loads(line))
            self.journal = open(path, "a", encoding="utf-8")

    def _note(self, rec):
        if rec.get("replay"):
            self.replays += 1
            return
        self.documents.append(rec)
        self.n = max(self.n, rec["n"])
        self.keys[rec["idempotency_key"]] = (rec["pdf_sha256"], rec["n"])

    def _journal(self, rec):
        if self.journal:
            self.journal.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.journal.flush()

    def add(self, key, doc_id, priority, sha, pdf_len, body):
        """("new" | "replay", record) or ("conflict", sha256 recorded for key)."""
        with self.lock:
            rec = {"n": 0, "document_id": doc_id, "idempotency_key": key, "pdf_sha256": sha,
                   "pdf_bytes": pdf_len, "priority": priority, "bytes": len(body),
                   "time": datetime.datetime.now(VN_TIME).isoformat(timespec="seconds")}
            seen = self.keys.get(key)
            if seen and seen[0] != sha:
                return "conflict", seen[0]
            if seen:
                rec.update(n=seen[1], replay=True)
                self.replays += 1
                self._journal(rec)
                return "replay", rec
            rec.update(n=self.n + 1, replay=False)
            if self.dir:
                tmp = os.path.join(self.dir, f".{rec['n']}.xml.tmp")
                with open(tmp, "wb") as f:
                    f.write(body)
                os.rename(tmp, os.path.join(self.dir, f"{rec['n']}.xml"))
            self.n += 1
            self._note(rec)
            self._journal(rec)
            return "new", rec

    def stats(self):
        with self.lock:
            return {"documents": list(self.documents), "replays": self.replays,
                    "requests": self.requests, "connections": self.connections}


class Faults:
    """The fault injected into the next document requests (POST /_control)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.status, self.count, self.delay = "ok", 503, 0, 0.0

    def set(self, req):
        mode = req.get("mode", "ok")
        if mode not in MODES:
            raise BadRequest(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        status, count = int(req.get("status", 503)), int(req.get("count", -1))
        if not 100 <= status <= 599:
            raise BadRequest(f"status {status}: expected 100..599")
        default_delay = {"hang": 3600.0, "slow": 5.0}.get(mode, 0.0)
        delay = float(req.get("delay", default_delay))
        with self.lock:
            self.mode, self.status, self.count, self.delay = mode, status, count, delay
            return self.state()

    def state(self):
        return {"mode": self.mode, "status": self.status, "count": self.count,
                "delay": self.delay}

    def take(self):
        """(mode, status, delay) for this request; counts it down."""
        with self.lock:
            if self.mode == "ok" or self.count == 0:
                return "ok", 200, 0.0
            got = (self.mode, self.status, self.delay)
            if self.count > 0:
                self.count -= 1
                if self.count == 0:
                    self.mode = "ok"
            return got


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the uploader reuses its connection
    server_version = "sohoa-receiver/1"

    # ---- plumbing ----

    def setup(self):
        self.timeout = self.server.idle_timeout  # used by super().setup()
        super().setup()
        # Headers and body leave in two writes; with Nagle the second waits
        # for the client's delayed ACK (40 ms a request on keep-alive).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(f"receiver: {self.address_string()} {fmt % args}\n")

    def reply(self, status, body, ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def text(self, status, msg, headers=()):
        self.reply(status, (msg + "\n").encode("utf-8"), headers=headers)

    def read_body(self):
        """The request body; BadRequest (and the connection closed) when it cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise BadRequest("no Content-Length")
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise BadRequest(f"Content-Length {length!r} is not a size") from None
        if n > MAX_BODY:
            self.close_connection = True
            raise BadRequest(f"body of {n} bytes is over the limit of {MAX_BODY}")
        body = self.rfile.read(n)
        if len(body) != n:
            self.close_connection = True
            raise BadRequest(f"body ended after {len(body)} of {n} bytes")
        return body

    def read_chunked(self):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise BadRequest(f"body over the limit of {MAX_BODY}")
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)

    def key_hint(self):
        """The Idempotency-Key (the DocumentId, by the protocol) for a Status
        packet about a request whose envelope could not be read."""
        raw = (self.headers.get("Idempotency-Key") or "").strip()
        try:
            return raw.encode("latin-1").decode("utf-8") or "unknown"
        except UnicodeError:
            return "unknown"

    def abort_connection(self):
        """Closes the socket so that the peer sees a reset, not an orderly end."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # drops the makefile reference so that close() is real
            self.connection.close()
        except OSError:
            pass

    # ---- endpoints ----

    def do_GET(self):
        if self.path.split("?")[0] == "/_stats":
            body = json.dumps(self.server.store.stats(), ensure_ascii=False).encode("utf-8")
            self.reply(200, body, "application/json")
        else:
            self.text(404, f"not found: {self.path}; POST documents, GET /_stats")

    def do_POST(self):
        if self.path.split("?")[0] == "/_control":
            self.control()
        else:
            self.document()

    def control(self):
        try:
            req = json.loads(self.read_body() or b"{}")
            if not isinstance(req, dict):
                raise BadRequest("expected a JSON object")
            state = self.server.faults.set(req)
        except (BadRequest, ValueError, TypeError) as e:
            self.text(400, f"control: {e}")
            return
        self.reply(200, json.dumps(state).encode(), "application/json")

    def document(self):
        srv = self.server
        with srv.store.lock:
            srv.store.requests += 1
        mode, status, delay = srv.faults.take()
        if mode == "reset":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            if length > 1:
                self.rfile.read(min(length // 2, 65536))
            self.abort_connection()
            return
        try:
            body = self.read_body()
        except BadRequest as e:
            self.reply(400, status_packet(self.key_hint(), "02", f"unreadable request: {e}"),
                       "application/xml")
            return
        if srv.token is not None:
            auth = self.headers.get("Authorization", "")
            if not hmac.compare_digest(auth.encode("latin-1", "replace"),
                                       f"Bearer {srv.token}".encode("latin-1", "replace")):
                self.text(401, "unauthorized: missing or wrong bearer token",
                          headers=[("WWW-Authenticate", 'Bearer realm="sohoa"')])
                return
        if mode == "error":
            self.text(status,
                      f"injected error {status}: the receiver is pretending to be in trouble")
            return
        if mode == "hang":
            srv.stopping.wait(delay)
            self.abort_connection()
            return
        if mode == "slow":
            srv.stopping.wait(delay)
        try:
            doc_id, priority, pdf = parse_envelope(body)
        except BadRequest as e:
            self.reply(400, status_packet(self.key_hint(), "02", f"malformed edXML envelope: {e}"),
                       "application/xml")
            return
        # HTTP headers arrive as Latin-1; the key is the UTF-8 DocumentId.
        raw_key = (self.headers.get("Idempotency-Key") or "").strip()
        try:
            key = raw_key.encode("latin-1").decode("utf-8")
        except UnicodeError:
            key = None
        if not key:
            why = "is not UTF-8" if raw_key else "is missing"
            self.reply(400, status_packet(doc_id, "02", f"the Idempotency-Key header {why}"),
                       "application/xml")
            return
        if mode == "reject":
            self.reply(422, status_packet(doc_id, "02", "rejected by the test receiver "
                                          "(fault injection)"), "application/xml")
            return
        sha = hashlib.sha256(pdf).hexdigest()
        try:
            what, rec = srv.store.add(key, doc_id, priority, sha, len(pdf), body)
        except OSError as e:
            self.text(507, f"cannot store the document: {e}")
            return
        if what == "conflict":
            self.text(409, f"conflict: Idempotency-Key {key} was used for a different document "
                      f"(PDF sha256 {rec[:12]}…, this one {sha[:12]}…)")
            return
        kb = (len(pdf) + 512) // 1024
        if what == "replay":
            print(f"replay   {doc_id} (already received as no. {rec['n']})", flush=True)
            self.reply(200, status_packet(doc_id, "01", f"đã đến (already received as no. "
                                          f"{rec['n']})"), "application/xml",
                       headers=[("Idempotent-Replayed", "true")])
            return
        print(f"received {doc_id} ({kb} KB, sha256 {sha[:4]}…)", flush=True)
        self.reply(200, status_packet(doc_id, "01", f"đã đến (no. {rec['n']})"),
                   "application/xml")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr, ssl_ctx, store, token, verbose, idle_timeout=300.0):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)
        self.ssl_ctx, self.store, self.token, self.verbose = ssl_ctx, store, token, verbose
        self.idle_timeout = idle_timeout
        self.faults = Faults()
        self.stopping = threading.Event()

    def finish_request(self, request, client_address):
        with self.store.lock:
            self.store.connections += 1
        # The TLS handshake runs here, in the connection's own thread, so a
        # slow or failing client never holds up accept().
        if self.ssl_ctx is None:
            return super().finish_request(request, client_address)
        request.settimeout(30)
        try:
            conn = self.ssl_ctx.wrap_socket(request, server_side=True,
                                            do_handshake_on_connect=False)
        except (ssl.SSLError, OSError):
            return
        try:
            conn.do_handshake()
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write(f"receiver: TLS handshake with {client_address[0]} failed: {e}\n")
            # OpenSSL has queued its alert (e.g. "certificate required"); an
            # orderly close after reading what the client already sent lets
            # the client see the alert instead of a bare reset.
            try:
                socket.socket.shutdown(conn, socket.SHUT_WR)
                conn.settimeout(1)
                while socket.socket.recv(conn, 65536):
                    pass
            except OSError:
                pass
            conn.close()
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="Reference receiver of sohoa's uploads.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--store")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--client-ca", metavar="CA")
    ap.add_argument("--token")
    ap.add_argument("--idle-timeout", type=float, default=300.0, metavar="S",
                    help="close a kept-alive connection idle for S seconds")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    # The demo's lines carry Vietnamese whatever the locale says.
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    if args.client_ca and not args.tls:
        ap.error("--client-ca needs --tls")

    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)

    srv = Server((args.host, args.port), ctx, Store(args.store), args.token, args.verbose,
                 args.idle_timeout)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{srv.server_address[1]}\n")
        os.rename(tmp, args.port_file)

    def stop(signum, frame):
        srv.stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.verbose:
        scheme = "https" if ctx else "http"
        port = srv.server_address[1]
        sys.stderr.write(f"receiver: listening on {scheme}://{args.host}:{port}/\n")
    srv.serve_forever(poll_interval=0.2)
    srv.stopping.set()
    srv.server_close()
    if srv.store.journal:
        srv.store.journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
