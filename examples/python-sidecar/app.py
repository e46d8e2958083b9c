#!/usr/bin/env python3
"""A Python app in the micro world through `micro sidecar`, with the standard library only.

    python3 app.py                       # serves HTTP on 127.0.0.1:5000 (PORT=0 picks a free port)
    micro sidecar --app_name pyapp --app_address 127.0.0.1:5000 \
        --app_health http://127.0.0.1:5000/health --app_endpoints Greeter.Hello \
        --app_subscribe orders=/events/orders
    micro call pyapp Greeter.Hello '{"name":"John"}'

What the sidecar sends it:
  POST /Greeter/Hello       a call of pyapp's Greeter.Hello (the endpoint's dots become slashes); the JSON
                            request in, the JSON reply out; an error is {"id","code","detail","status"}
  GET  /health              the sidecar's health check: 2xx keeps pyapp registered
  POST /events/orders       each message published on "orders" (--app_subscribe orders=/events/orders);
                            a non-2xx answer makes the broker deliver it again

What it asks the sidecar (SIDECAR, default http://127.0.0.1:8081): call() is POST /rpc, publish() is
POST /broker/<topic>. The /control/* paths let a test (or you, with curl) drive it.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIDECAR = os.environ.get("SIDECAR", "http://127.0.0.1:8081")
state = {"healthy": True, "received": []}
lock = threading.Lock()


def sidecar(method, path, body=None):
    """One request to the sidecar's HTTP API; returns (status, decoded JSON)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(SIDECAR + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as rsp:
            return rsp.status, json.loads(rsp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def call(service, endpoint, request, **options):
    """Call any micro service by name (through discovery, as a micro-ts client does)."""
    return sidecar("POST", "/rpc", {"service": service, "endpoint": endpoint, "request": request, **options})


def publish(topic, message):
    return sidecar("POST", "/broker/" + topic, message)


def micro_error(code, detail):
    return {"id": "pyapp", "code": code, "detail": detail, "status": ""}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: stdout carries JSON events
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def do_GET(self):
        if self.path == "/health":
            ok = state["healthy"]
            return self.reply(200 if ok else 503, {"status": "ok" if ok else "failing"})
        if self.path == "/control/received":
            with lock:
                return self.reply(200, state["received"])
        self.reply(404, micro_error(404, "no such path " + self.path))

    def do_POST(self):
        try:
            req = self.body()
        except ValueError as e:
            return self.reply(400, micro_error(400, "bad JSON: %s" % e))
        # Endpoints of pyapp, as the sidecar forwards them.
        if self.path == "/Greeter/Hello":
            name = req.get("name", "")
            if not name:
                return self.reply(400, micro_error(400, "name is required"))
            return self.reply(200, {"message": "Hello %s from Python" % name, "caller": self.headers.get("Micro-Service", "")})
        if self.path == "/Greeter/Garbage":
            return self.reply(200, b"this is not JSON", "text/plain")
        if self.path == "/Greeter/Slow":
            time.sleep(float(req.get("seconds", 5)))
            return self.reply(200, {"message": "slow"})
        if self.path.startswith("/events/"):
            if req.get("reject"):  # refuse it: the broker reports (or redelivers) the failed delivery
                return self.reply(422, micro_error(422, "refused: %s" % req["reject"]))
            with lock:
                state["received"].append({"path": self.path, "message": req, "topic": self.headers.get("Micro-Topic", "")})
            return self.reply(200, {})
        # Controls for tests and curl.
        if self.path == "/control/sidecar":
            global SIDECAR
            SIDECAR = req["url"]
            return self.reply(200, {"sidecar": SIDECAR})
        if self.path == "/control/health":
            state["healthy"] = bool(req.get("ok"))
            return self.reply(200, {"healthy": state["healthy"]})
        if self.path == "/control/call":
            status, rsp = call(req["service"], req["endpoint"], req.get("request", {}))
            return self.reply(200, {"status": status, "reply": rsp})
        if self.path == "/control/publish":
            status, rsp = publish(req["topic"], req["message"])
            return self.reply(200, {"status": status, "reply": rsp})
        self.reply(404, micro_error(404, "no such path " + self.path))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "5000"))), Handler)
    server.daemon_threads = True
    print(json.dumps({"event": "ready", "address": "127.0.0.1:%d" % server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
