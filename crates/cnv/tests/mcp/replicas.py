"""Quotas per principal and replicas sharing state, driven by the official Python MCP SDK.

Run by crates/cnv/tests/mcp_replicas.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python replicas.py BIN REDIS_SERVER SCRATCH

BIN is the `workbench` example, REDIS_SERVER the `redis-server` program (`cargo xtask
redis` installs it), SCRATCH a fresh directory holding `ws/`. Every Redis this script
starts listens on a free loopback port with no persistence and is killed at the end; the
replicas are BIN processes with `CNV_MCP_STATE` naming it, behind a small round-robin
proxy (one backend per connection, the next one when a backend is down), and the client
opens a new connection for every request, so that its requests go round the replicas.

Every check prints one line; the first that fails ends the script with exit code 1.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx2
import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

BIN, REDIS_SERVER, SCRATCH = sys.argv[1:4]
WS = os.path.join(SCRATCH, "ws")
CLIENT = types.Implementation(name="py-replicas", version="1.0.0")
CHILDREN = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env(log, **extra):
    """A server's environment: a minimal one, with the operator's settings."""
    out = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    out.update({"CNV_WORKSPACE": WS, "CNV_AUDIT_LOG": log})
    out.update(extra)
    return out


def audit(log):
    try:
        with open(log) as file:
            return [json.loads(line) for line in file if line.strip()]
    except FileNotFoundError:
        return []


def quota_refusals(log):
    return [
        entry
        for entry in audit(log)
        if entry.get("event") == "finish"
        and entry.get("result", {}).get("status") == "denied"
        and entry.get("result", {}).get("rule") == "quota"
    ]


def error_of(result):
    return (result.structured_content or {}).get("error", {})


def over_quota(result):
    return result.is_error and error_of(result).get("rule") == "quota"


def text(result):
    return "".join(block.text for block in result.content if getattr(block, "text", None))


class Redis:
    """A redis-server of this script's own on a free loopback port, without persistence."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        CHILDREN.append(self.proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        check(False, f"redis-server answers on port {self.port}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Replica:
    """The workbench serving over HTTP, and what its standard error says."""

    def __init__(self, log, **extra):
        self.proc = subprocess.Popen(
            [BIN, "--mcp-serve-http", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env(log, **extra),
        )
        CHILDREN.append(self.proc)
        self.port = None
        self.said = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.proc.kill()
            check(False, f"the replica said where it serves: {self.said}")

    def _read(self):
        for line in self.proc.stderr:
            self.said.append(line.rstrip())
            served = re.search(r"serving MCP at http://127\.0\.0\.1:(\d+)/mcp", line)
            if served:
                self.port = int(served.group(1))
                self.ready.set()

    def opened(self, session):
        return any(f"session {session} opened" in line for line in self.said)

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class Proxy:
    """A round-robin TCP proxy: each connection goes to the next backend that accepts it."""

    def __init__(self, ports):
        self.ports = list(ports)
        self.next = 0
        self.served = {port: 0 for port in self.ports}
        self.port = None

    async def start(self):
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self.server = server

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/mcp"

    async def _serve(self, client_reader, client_writer):
        upstream = None
        for _ in range(len(self.ports)):
            port = self.ports[self.next % len(self.ports)]
            self.next += 1
            try:
                upstream = await asyncio.open_connection("127.0.0.1", port)
                self.served[port] += 1
                break
            except OSError:
                continue
        if upstream is None:
            client_writer.close()
            return
        up_reader, up_writer = upstream

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                try:
                    writer.close()
                except Exception:
                    pass

        try:
            await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
        except asyncio.CancelledError:
            pass

    def close(self):
        self.server.close()


def one_request_per_connection():
    """An HTTP client that opens a new connection for every request."""
    return httpx2.AsyncClient(
        limits=httpx2.Limits(max_keepalive_connections=0),
        timeout=httpx2.Timeout(30, read=60),
    )


# The verb the quotas count (`file list`, `Fast`: a second to answer, so that a loaded
# machine cannot turn a call into an overrun) and one no quota counts (`file read`).
QUOTA_VERB = "file_list"


async def quota_calls(session, count):
    results = []
    for _ in range(count):
        results.append(await session.call_tool(QUOTA_VERB, {}))
    return results


async def read_hello(session):
    return await session.call_tool("file_read", {"path": "hello.txt"})


def check_quota_results(results, allowed, quota, label):
    admitted = [r for r in results if not over_quota(r)]
    refused = [r for r in results if over_quota(r)]
    check(
        len(admitted) == allowed and len(refused) == len(results) - allowed,
        f"{label}: exactly {allowed} of {len(results)} calls were admitted under {quota} ({len(admitted)})",
    )
    first = refused[0]
    said = text(first)
    check(
        f"over the quota `{quota}`" in said
        and "the principal `anonymous`" in said
        and re.search(r"it frees in \d+ s", said) is not None
        and isinstance(error_of(first).get("retry_after_seconds"), int)
        and error_of(first)["retry_after_seconds"] > 0,
        f"{label}: the refusal names the quota, the principal and when it frees: {said!r}",
    )


def check_refusals_audited(log, count, label):
    refusals = quota_refusals(log)
    check(
        len(refusals) == count
        and all(entry["call"]["command"] == "file list" for entry in refusals)
        and all(entry["call"]["origin"]["via"] == "mcp" for entry in refusals)
        and all("over the quota" in entry["result"]["message"] for entry in refusals),
        f"{label}: every refused call is in the audit trail, denied by the rule quota ({len(refusals)})",
    )


# ---------------------------------------------------------------------------------------
# One server, state in memory.


async def stdio_quota():
    log = os.path.join(SCRATCH, "stdio-audit.jsonl")
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=env(log, CNV_MCP_QUOTA="file.list=3/h"))
    with open(os.path.join(SCRATCH, "stdio-stderr.txt"), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await session.initialize()
                results = await quota_calls(session, 5)
                read = await read_hello(session)
    check_quota_results(results, 3, "file.list=3/h", "stdio")
    check(not read.is_error, "stdio: a verb no quota counts still runs")
    check_refusals_audited(log, 2, "stdio")


async def http_quota():
    log = os.path.join(SCRATCH, "http-audit.jsonl")
    replica = Replica(log, CNV_MCP_QUOTA="ReadOnlyFS=4/h")
    try:
        async with streamable_http_client(f"http://127.0.0.1:{replica.port}/mcp") as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await session.initialize()
                results = await quota_calls(session, 7)
        check_quota_results(results, 4, "ReadOnlyFS=4/h", "http")
        check_refusals_audited(log, 3, "http")
    finally:
        replica.kill()


def refused_at_start(label, expected_code, said, **extra):
    out = subprocess.run(
        [BIN, "--mcp-serve-http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env(os.path.join(SCRATCH, "start-audit.jsonl"), **extra),
    )
    check(
        out.returncode == expected_code and said in out.stderr,
        f"start: {label} refuses to serve (exit {out.returncode}): {out.stderr.strip()!r}",
    )


def start_refusals():
    refused_at_start("a quota that does not read", 2, "not `s`, `min` or `h`", CNV_MCP_QUOTA="calc.sum=5/day")
    refused_at_start("a quota of a verb the program does not have", 2, "which this program does not have", CNV_MCP_QUOTA="calc.product=5/min")
    refused_at_start("a state that is not memory or Redis", 2, "redis://HOST:PORT/DB", CNV_MCP_STATE="postgres://db")
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    refused_at_start("a Redis that cannot be reached", 1, f"the shared state at {nobody} is unavailable", CNV_MCP_STATE=nobody)


HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def sse_events(body):
    """The events of an SSE body: (id, data) pairs."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        if "id" in fields or "data" in fields:
            events.append((fields.get("id"), fields.get("data", "")))
    return events


async def resumption(a, b):
    """A stream answered by one replica is resumed (`Last-Event-ID`) at the other."""
    url_a, url_b = (f"http://127.0.0.1:{r.port}/mcp" for r in (a, b))
    async with httpx2.AsyncClient(timeout=30) as http:
        init = {
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
        }
        response = await http.post(url_a, json=init, headers=HEADERS)
        session = response.headers["mcp-session-id"]
        headers = dict(HEADERS, **{"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
        await http.post(url_a, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "file_list", "arguments": {}}}
        answered = sse_events((await http.post(url_a, json=call, headers=headers)).text)
        first_id = answered[0][0]
        check(
            first_id and any('"id":2' in data for _, data in answered),
            f"resumption: replica A answered the call on a stream of resumable events ({[i for i, _ in answered]})",
        )
        replay = {}
        async with http.stream("GET", url_b, headers=dict(headers, **{"Last-Event-ID": first_id})) as stream:
            body = ""
            async for chunk in stream.aiter_text():
                body += chunk
                if '"id":2' in body:
                    break
            replay = {"status": stream.status_code, "events": sse_events(body)}
        check(
            replay["status"] == 200
            and any('"id":2' in data and '"result"' in data for _, data in replay["events"]),
            f"resumption: replica B replayed the call's answer after {first_id} ({replay['status']}, {replay['events']})",
        )
        # Replica B's line saying it restored the session is read from its standard error
        # by a thread of ours: it may come a moment after the answer.
        for _ in range(100):
            if b.opened(session):
                break
            await asyncio.sleep(0.05)
        check(b.opened(session), f"resumption: replica B restored the session {session} to replay it")


# ---------------------------------------------------------------------------------------
# Two replicas sharing Redis.


async def replicas():
    redis = Redis()
    logs = [os.path.join(SCRATCH, f"replica-{n}-audit.jsonl") for n in "ab"]
    settings = {"CNV_MCP_STATE": redis.url, "CNV_MCP_QUOTA": "file.list=5/h,env.get=6/h"}
    a, b = Replica(logs[0], **settings), Replica(logs[1], **settings)
    proxy = Proxy([a.port, b.port])
    await proxy.start()
    try:
        async with one_request_per_connection() as http:
            async with streamable_http_client(proxy.url, http_client=http) as (read, write):
                async with ClientSession(read, write, client_info=CLIENT) as session:
                    await session.initialize()
                    session_id = None
                    for _ in range(4):
                        read = await read_hello(session)
                        check(not read.is_error, "replicas: a call of the session is served")
                    tools = await session.list_tools()
                    check(len(tools.tools) > 0, "replicas: tools/list is served")
                    session_ids = {
                        match.group(1)
                        for replica in (a, b)
                        for line in replica.said
                        for match in [re.search(r"session (\S+) opened", line)]
                        if match
                    }
                    check(len(session_ids) == 1, f"replicas: one session id on both replicas ({session_ids})")
                    session_id = session_ids.pop()
                    check(
                        a.opened(session_id) and b.opened(session_id) and min(proxy.served.values()) >= 2,
                        f"replicas: the session made on one replica went on at the other with the same Mcp-Session-Id ({proxy.served})",
                    )

                    results = await quota_calls(session, 8)
                    check_quota_results(results, 5, "file.list=5/h", "replicas")
                    refused = sum(len(quota_refusals(log)) for log in logs)
                    check(refused == 3, f"replicas: the 3 refusals are in the replicas' audit trails ({refused})")
                    ran_on = [
                        sum(1 for e in audit(log) if e.get("event") == "finish" and e.get("session") == "workbench file list")
                        for log in logs
                    ]
                    check(min(ran_on) >= 1, f"replicas: both replicas counted calls against the one quota ({ran_on})")

                    # A burst at once, spread over both replicas: the one quota still admits
                    # exactly its count (the check and the count are one step in Redis).
                    # Whatever the gate then decides, an admitted call has used its place.
                    burst = await asyncio.gather(
                        *(session.call_tool("env_get", {"name": "HOME"}) for _ in range(10))
                    )
                    admitted = sum(1 for result in burst if not over_quota(result))
                    per_replica = [
                        sum(
                            1
                            for e in audit(log)
                            if e.get("event") == "finish" and e.get("session") == "workbench env get"
                        )
                        for log in logs
                    ]
                    check(
                        admitted == 6 and min(per_replica) >= 1,
                        f"replicas: 10 calls at once over both replicas ({per_replica}), exactly 6 admitted under env.get=6/h ({admitted})",
                    )

                    # Redis stops: a call that needs the shared state is refused, one that
                    # does not is served; Redis comes back, and so does the quota.
                    redis.stop()
                    down = await session.call_tool(QUOTA_VERB, {})
                    check(
                        over_quota(down) and "cannot be checked" in text(down) and "unavailable" in text(down),
                        f"redis down: a call under a quota is refused, the quota failing closed: {text(down)!r}",
                    )
                    read = await read_hello(session)
                    check(not read.is_error, "redis down: a call under no quota is still served")
                    redis.start()
                    back = None
                    for _ in range(100):
                        back = await session.call_tool(QUOTA_VERB, {})
                        if not (over_quota(back) and "cannot be checked" in text(back)):
                            break
                        await asyncio.sleep(0.1)
                    check(
                        not back.is_error and "hello.txt" in text(back),
                        f"redis back: the quota is checked again and the call runs ({text(back)!r})",
                    )
                    # The restarted Redis has no persistence: the sessions it held are
                    # gone, and each replica goes on with the copy it holds.

                    await resumption(a, b)

                    # A replica is killed: the client goes on at the other.
                    a.kill()
                    for n in range(4):
                        read = await read_hello(session)
                        check(not read.is_error, f"replica killed: call {n + 1} is served by the other replica")
    finally:
        proxy.close()
        for replica in (a, b):
            replica.kill()
        redis.stop()


async def main():
    start_refusals()
    await stdio_quota()
    await http_quota()
    await replicas()
    print("ALL OK", flush=True)


try:
    asyncio.run(main())
finally:
    for child in CHILDREN:
        if child.poll() is None:
            child.kill()
            child.wait()
