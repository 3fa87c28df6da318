"""The `workbench` example served over MCP, driven by the official Python MCP SDK.

Run by crates/cnv/tests/mcp_python.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python e2e.py BIN SCHEMA SCRATCH KEY

BIN is the workbench example, SCHEMA the MCP schema (2025-11-25), SCRATCH a fresh
directory holding `ws/` (the operator's workspace, with `hello.txt`), KEY the operator's
audit key. The server's audit logs are written to SCRATCH/stdio-audit.jsonl and
SCRATCH/http-audit.jsonl; the Rust test verifies them after this script.

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
import jsonschema
import mcp.types as types
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

BIN, SCHEMA_PATH, SCRATCH, KEY = sys.argv[1:5]
with open(SCHEMA_PATH) as file:
    SCHEMA = json.load(file)
WS = os.path.join(SCRATCH, "ws")
CLIENT = types.Implementation(name="py-e2e", version="1.2.3")
JUSTIFY = "the user asked to keep the meeting notes in the workspace"
HTTP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def validate(definition, value):
    """Validates `value` against one definition of the official schema."""
    schema = {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"}
    jsonschema.validate(value, schema)


def wire(model):
    """A result as it was on the wire."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def operator_env(log, **extra):
    """What the operator gives the server: the workspace, the audit log and its key."""
    env = {"CNV_WORKSPACE": WS, "CNV_AUDIT_LOG": log, "CNV_AUDIT_KEY": KEY}
    env.update(extra)
    return env


def process_env(log, **extra):
    """A child process's environment: a minimal one, as an MCP client passes."""
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    env.update(operator_env(log, **extra))
    return env


MANIFEST = json.loads(
    subprocess.run([BIN, "--mcp-tools"], capture_output=True, text=True, check=True, env=process_env("/dev/null")).stdout
)


def by_name(tools):
    return {tool["name"]: tool for tool in tools["tools"]}


def error_of(result):
    return (result.structured_content or {}).get("error", {})


async def exercise(session, label):
    """Everything an agent does through one session, over either transport."""
    init = await session.initialize()
    check(init.protocol_version == "2025-11-25", f"{label}: negotiated {init.protocol_version}")
    check(init.server_info.name == "workbench", f"{label}: serverInfo names the program")

    listed = wire(await session.list_tools())
    validate("ListToolsResult", listed)
    check(by_name(listed) == by_name(MANIFEST), f"{label}: tools/list is the --mcp-tools manifest, valid against the schema")
    tools = by_name(listed)
    check(
        "justification" in tools["file_write"]["inputSchema"]["required"]
        and tools["file_write"]["_meta"]["cnv/agent"] == {"needs": "justification", "min_chars": 20},
        f"{label}: file_write declares a required justification",
    )
    check(
        "justification" not in tools["calc_sum"]["inputSchema"]["properties"]
        and tools["workspace_wipe"]["_meta"]["cnv/agent"]["needs"] == "never",
        f"{label}: calc_sum needs nothing, workspace_wipe is listed as never for an agent",
    )
    check(
        all(name not in tool["inputSchema"]["properties"] for tool in tools.values() for name in ("workspace", "audit_log", "agent", "mode")),
        f"{label}: no tool takes the workspace, the audit log or the mode",
    )

    result = await session.call_tool("calc_sum", {"numbers": [1, 2, 3.5]})
    validate("CallToolResult", wire(result))
    check(
        not result.is_error and result.structured_content == {"sum": 6.5} and result.content[0].text == "6.5",
        f"{label}: an agent-safe call runs: structuredContent {result.structured_content}",
    )
    result = await session.call_tool("file_read", {"path": "hello.txt"})
    check(
        not result.is_error and result.structured_content["content"] == "hello from the operator",
        f"{label}: file_read reads the operator's workspace",
    )

    unjustified = f"{label}-unjustified.txt"
    result = await session.call_tool("file_write", {"path": unjustified, "content": "x"})
    validate("CallToolResult", wire(result))
    check(
        result.is_error
        and error_of(result).get("rule") == "min_justification"
        and "justification" in error_of(result).get("hint", "")
        and not os.path.exists(os.path.join(WS, unjustified)),
        f"{label}: an unjustified write is refused (rule min_justification) and nothing is written",
    )
    result = await session.call_tool("file_write", {"path": unjustified, "content": "x", "justification": "because"})
    check(
        result.is_error and error_of(result).get("rule") == "min_justification" and not os.path.exists(os.path.join(WS, unjustified)),
        f"{label}: a justification too short is refused the same way",
    )

    notes = f"{label}-notes.txt"
    result = await session.call_tool("file_write", {"path": notes, "content": "minutes", "justification": JUSTIFY})
    with open(os.path.join(WS, notes)) as file:
        written = file.read()
    check(
        not result.is_error and result.structured_content == {"path": notes, "bytes": 7, "appended": False} and written == "minutes",
        f"{label}: a justified write runs",
    )

    for arguments in ({}, {"justification": JUSTIFY + ", and then to start over from nothing"}):
        result = await session.call_tool("workspace_wipe", arguments)
        check(
            result.is_error
            and error_of(result).get("rule") == "dangerous_never_autonomous"
            and os.path.exists(os.path.join(WS, "hello.txt")),
            f"{label}: Dangerous is refused {'with' if arguments else 'without'} a justification, and the workspace is intact",
        )

    for arguments, what in (
        ({"numbers": "many"}, "a string for a list"),
        ({"numbers": ["one"]}, "a word for a number"),
        ({"numbers": [{"n": 1}]}, "an object for a number"),
        ({"numbers": [1], "bogus": 1}, "an argument the verb does not declare"),
    ):
        result = await session.call_tool("calc_sum", arguments)
        check(
            result.is_error and error_of(result).get("kind") == "invalid_arguments",
            f"{label}: wrong arguments ({what}) -> isError: {result.content[0].text[:90]!r}",
        )
    result = await session.call_tool("file_write", {"path": "switch.txt", "content": "x", "append": "yes", "justification": JUSTIFY})
    check(
        result.is_error and not os.path.exists(os.path.join(WS, "switch.txt")),
        f"{label}: a switch given a string is refused and nothing is written",
    )

    try:
        await session.call_tool("no_such_tool", {})
        check(False, f"{label}: an unknown tool is an error")
    except MCPError as err:
        check(err.code == -32602, f"{label}: an unknown tool -> JSON-RPC error {err.code}")

    # A call the client gives up on: the network verb waits for a reply that never comes
    # (the listener stays open until the cancellation has stopped the call).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        try:
            await session.call_tool(
                "net_send",
                {"addr": f"127.0.0.1:{port}", "timeout-ms": 8000, "justification": JUSTIFY},
                read_timeout_seconds=0.5,
            )
            check(False, f"{label}: the slow call timed out")
        except MCPError as err:
            check(err.code == -32001, f"{label}: the client cancels a slow call after {time.monotonic() - started:.1f} s")
        result = await session.call_tool("calc_sum", {"numbers": [2, 2]})
        check(not result.is_error and result.structured_content == {"sum": 4}, f"{label}: the server keeps serving")
        await asyncio.sleep(0.5)


def audit(log):
    with open(log) as file:
        return [json.loads(line) for line in file if line.strip()]


def check_audit(log, label):
    """Every call in the operator's log, with its MCP session and client."""
    transport = {"stdio": "stdio", "http": "streamable_http"}[label]
    entries = audit(log)
    created = [entry for entry in entries if entry.get("event") == "create"]
    origins = [entry["call"]["origin"] for entry in created]
    check(
        created
        and all(
            origin["via"] == "mcp"
            and origin["transport"] == transport
            and origin["client_name"] == "py-e2e"
            and origin["client_version"] == "1.2.3"
            and re.fullmatch(r"[0-9a-f-]{36}", origin["session_id"] or "")
            for origin in origins
        ),
        f"{label}: every call's creation names the MCP session and the client ({len(created)} calls)",
    )
    check(len({origin["session_id"] for origin in origins}) == 1, f"{label}: one MCP session made every call")
    commands = [entry["call"]["command"] for entry in created]
    check(
        commands.count("file write") == 3 and commands.count("workspace wipe") == 2 and "net send" in commands,
        f"{label}: the refused writes, the justified one and both refusals of Dangerous are recorded",
    )
    ends = {}
    for entry in entries:
        if entry.get("event") == "finish":
            ends.setdefault(entry["session"].removeprefix("workbench "), []).append(entry["result"]["status"])
    check(ends.get("file write", []).count("denied") == 2 and ends["file write"].count("ran") == 1, f"{label}: file write ended {ends.get('file write')}")
    check(ends.get("workspace wipe") == ["denied", "denied"], f"{label}: workspace wipe ended {ends.get('workspace wipe')}")
    check(ends.get("net send") == ["cancelled"], f"{label}: the cancelled call's end is recorded as cancelled")


async def stdio_tests():
    log = os.path.join(SCRATCH, "stdio-audit.jsonl")
    stderr_path = os.path.join(SCRATCH, "stdio-stderr.txt")
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=operator_env(log))
    with open(stderr_path, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await exercise(session, "stdio")
    await asyncio.sleep(0.3)
    check_audit(log, "stdio")
    with open(stderr_path) as file:
        said = file.read()
    check(
        re.search(r'session \S+ opened over stdio by "py-e2e" "1.2.3" \(1 open\)', said) is not None
        and re.search(r"session \S+ closed: its connection ended \(0 open\)", said) is not None
        and "panicked" not in said,
        "stdio: the session was in the registry while open, and is not after",
    )


def stdio_raw_tests():
    """Malformed input written straight to the server's standard input."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    call = lambda id, name, arguments: json.dumps(  # noqa: E731
        {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    )
    lines = [
        json.dumps({"jsonrpc": "2.0", "id": 0, "method": "tools/list"}),
        json.dumps(initialize),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "this is not json",
        '{"jsonrpc":"2.0","id":2,',
        json.dumps({"foo": 1}),
        json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": "not an object"}),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"arguments": {}}}),
        call(5, "calc_sum", {"numbers": [20, 22]}),
        "x" * (5 * 1024 * 1024),
        "\x00\xff\xfe not utf-8",
        call(6, "calc_sum", {"numbers": [1]}),
    ]
    log = os.path.join(SCRATCH, "raw-audit.jsonl")
    done = subprocess.run(
        [BIN, "--mcp-serve"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=process_env(log),
    )
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    by_id = {reply.get("id"): reply for reply in replies if "id" in reply}
    anonymous = [reply["error"]["code"] for reply in replies if "id" not in reply]
    check(done.returncode == 0 and "panicked" not in done.stderr, f"stdio raw: the server ended cleanly ({done.returncode})")
    check("error" in by_id.get(0, {}), "stdio raw: a request before initialize is refused")
    check(
        anonymous.count(-32700) == 4 and anonymous.count(-32600) == 1,
        f"stdio raw: not JSON, truncated JSON, a 5 MiB line and control bytes -> -32700; JSON that is no message -> -32600 ({anonymous})",
    )
    check(by_id.get(3, {}).get("error", {}).get("code") == -32600, "stdio raw: a request whose params are not an object -> -32600")
    check(by_id.get(4, {}).get("error", {}).get("code") == -32602, "stdio raw: tools/call without a name -> -32602")
    check(
        by_id.get(5, {}).get("result", {}).get("structuredContent") == {"sum": 42}
        and by_id.get(6, {}).get("result", {}).get("structuredContent") == {"sum": 1},
        "stdio raw: the server kept serving between the malformed lines",
    )


class HttpServer:
    """The workbench serving over HTTP, and what its standard error says."""

    def __init__(self, log, **extra):
        self.proc = subprocess.Popen(
            [BIN, "--mcp-serve-http", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=process_env(log, **extra),
        )
        self.url = None
        self.open = 0
        self.max_open = 0
        self.said = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.proc.kill()
            check(False, f"http: the server said where it serves: {self.said}")

    def _read(self):
        for line in self.proc.stderr:
            self.said.append(line.rstrip())
            served = re.search(r"serving MCP at (http://\S+/mcp)", line)
            if served:
                self.url = served.group(1)
                self.ready.set()
            counted = re.search(r"\((\d+) open\)$", line.rstrip())
            if counted:
                self.open = int(counted.group(1))
                self.max_open = max(self.max_open, self.open)

    async def wait_open(self, count, seconds=20):
        deadline = time.monotonic() + seconds
        while self.open != count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.open == count

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, label):
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=20)
        time.sleep(0.1)
        check(code == 0 and not any("panicked" in line for line in self.said), f"{label}: SIGINT stops the server cleanly ({code})")


async def many_sessions(url, count, hold):
    """`count` sessions at once, each calling a tool; with `hold`, all stay open until it is set."""
    called = [0]
    all_called = asyncio.Event()

    async def one(n):
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write, client_info=types.Implementation(name=f"py-{n}", version="1")) as session:
                await session.initialize()
                # A call's band runs from its request's arrival, waiting included: in a burst
                # of sessions on a small machine an `Instant` call (100 ms) may wait past it
                # and be refused as an overrun, by design. It is called again.
                for _ in range(5):
                    result = await session.call_tool("calc_sum", {"numbers": [n, 1]})
                    error = (result.structured_content or {}).get("error", {})
                    if not (result.is_error and error.get("kind") == "overrun"):
                        break
                assert not result.is_error and result.structured_content == {"sum": n + 1}, result
                called[0] += 1
                if called[0] == count:
                    all_called.set()
                if hold is not None:
                    await hold.wait()

    tasks = asyncio.gather(*(one(n) for n in range(count)))
    return tasks, all_called


async def http_tests():
    log = os.path.join(SCRATCH, "http-audit.jsonl")
    server = HttpServer(log)
    url = server.url
    try:
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await exercise(session, "http")
                check(server.open == 1, "http: the session is in the registry while open")
        check(await server.wait_open(0), "http: closing the session (DELETE) removed it from the registry")
        check_audit(log, "http")

        hold = asyncio.Event()
        started = time.monotonic()
        tasks, all_called = await many_sessions(url, 100, hold)
        await asyncio.wait_for(all_called.wait(), 120)
        registered = await server.wait_open(100)
        check(registered, f"http: 100 concurrent sessions each called a tool, all 100 registered at once ({server.open} open)")
        hold.set()
        await asyncio.wait_for(tasks, 60)
        check(await server.wait_open(0), f"http: all 100 gone from the registry after ({time.monotonic() - started:.1f} s)")

        before = server.rss_kib()
        for _ in range(2):
            tasks, _ = await many_sessions(url, 100, None)
            await asyncio.wait_for(tasks, 120)
        check(await server.wait_open(0, seconds=60), "http: 200 more sessions came and went")
        after = server.rss_kib()
        check(after - before < 16 * 1024, f"http: the server's memory did not grow with them ({before} KiB -> {after} KiB)")

        await http_raw_tests(url, server)
    finally:
        server.stop("http")
    check(server.open == 0, "http: no session is left in the registry at shutdown")


async def http_raw_tests(url, server):
    async with httpx2.AsyncClient() as client:
        response = await client.post(url, content=b"this is not json", headers=HTTP_HEADERS)
        check(response.status_code == 400 and response.json()["error"]["code"] == -32700, "http raw: malformed JSON -> 400, JSON-RPC -32700")

        response = await client.post(url, json={"jsonrpc": "2.0", "id": 6, "method": "tools/list"}, headers=HTTP_HEADERS)
        check(response.status_code == 400, f"http raw: a request without a session that is not initialize -> {response.status_code}")
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2025-11-25",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "sneaky", "version": "0"},
        }
        response = await client.post(
            url,
            json={"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "calc_sum", "arguments": {"numbers": [1]}, "_meta": meta}},
            headers={**HTTP_HEADERS, "MCP-Protocol-Version": "2025-11-25"},
        )
        check("send `initialize` first" in response.text, "http raw: a call without a session (inline _meta) is refused")

        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw-http", "version": "9"}},
        }
        response = await client.post(url, json=initialize, headers=HTTP_HEADERS)
        session_id = response.headers.get("mcp-session-id")
        headers = {**HTTP_HEADERS, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"}
        await client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        check(await server.wait_open(1), "http raw: a raw session is registered")
        response = await client.post(url, content=b'{"jsonrpc":"2.0","id":2,', headers=headers)
        check(response.status_code == 400 and "-32700" in response.text, "http raw: truncated JSON in a session -> -32700")
        response = await client.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}}, headers=headers)
        check("-32602" in response.text, "http raw: an unknown tool -> -32602")
        response = await client.post(
            url,
            json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "calc_sum", "arguments": {"numbers": [40, 2]}}},
            headers=headers,
        )
        check('"sum":42' in response.text, "http raw: the session still serves")
        response = await client.post(url, json={"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, headers={**headers, "Mcp-Session-Id": "00000000-0000-4000-8000-000000000000"})
        check(response.status_code == 404, "http raw: an unknown Mcp-Session-Id -> 404")
        response = await client.post(url, json={"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, headers={**headers, "Origin": "https://evil.example"})
        check(response.status_code == 403, "http raw: a browser's request (Origin) -> 403")
        response = await client.delete(url, headers=headers)
        check(response.status_code in (200, 204) and await server.wait_open(0), f"http raw: DELETE ({response.status_code}) removes the session from the registry")
        response = await client.post(url, json={"jsonrpc": "2.0", "id": 8, "method": "tools/list"}, headers=headers)
        check(response.status_code == 404, "http raw: the deleted session -> 404")


async def idle_tests():
    server = HttpServer(os.path.join(SCRATCH, "idle-audit.jsonl"), CNV_MCP_IDLE_TIMEOUT="1")
    try:
        async with httpx2.AsyncClient() as client:
            initialize = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "idle", "version": "0"}},
            }
            response = await client.post(server.url, json=initialize, headers=HTTP_HEADERS)
            session_id = response.headers["mcp-session-id"]
            check(await server.wait_open(1), "idle: the session is registered")
            check(await server.wait_open(0, seconds=10), "idle: the operator's idle timeout (1 s) removed it from the registry")
            response = await client.post(
                server.url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                headers={**HTTP_HEADERS, "Mcp-Session-Id": session_id},
            )
            check(response.status_code == 404, "idle: the expired session -> 404")
    finally:
        server.stop("idle")


async def main():
    started = time.monotonic()
    await stdio_tests()
    stdio_raw_tests()
    await http_tests()
    await idle_tests()
    print(f"ALL OK in {time.monotonic() - started:.1f} s", flush=True)


asyncio.run(main())
