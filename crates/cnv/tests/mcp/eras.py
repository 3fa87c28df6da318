"""Both protocol revisions on one endpoint, driven by the official Python MCP SDK.

Run by crates/cnv/tests/mcp_replicas.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python eras.py BIN SCRATCH

BIN is the `workbench` example, SCRATCH a fresh directory holding `ws/`. Clients of
2026-07-28 (no session: the version and capabilities ride on each request) and of
2025-11-25 (`initialize`, a session) call one server over HTTP and over stdio; the
quota counts the principal's calls of both.

Every check prints one line; the first that fails ends the script with exit code 1.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading

import httpx2
from mcp import Client, StdioServerParameters

BIN, SCRATCH = sys.argv[1:3]
WS = os.path.join(SCRATCH, "ws")
MODERN, LEGACY = "2026-07-28", "2025-11-25"


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def env(log, **extra):
    out = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    out.update({"CNV_WORKSPACE": WS, "CNV_AUDIT_LOG": log})
    out.update(extra)
    return out


def audit(log):
    with open(log) as file:
        return [json.loads(line) for line in file if line.strip()]


HELLO = {"path": "hello.txt"}


def text(result):
    return "".join(block.text for block in result.content if getattr(block, "text", None))


def error_of(result):
    return (result.structured_content or {}).get("error", {})


class Server:
    def __init__(self, log, **extra):
        self.proc = subprocess.Popen(
            [BIN, "--mcp-serve-http", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env(log, **extra),
        )
        self.url = None
        self.said = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.proc.kill()
            check(False, f"the server said where it serves: {self.said}")

    def _read(self):
        for line in self.proc.stderr:
            self.said.append(line.rstrip())
            served = re.search(r"serving MCP at (http://\S+/mcp)", line)
            if served:
                self.url = served.group(1)
                self.ready.set()

    def opened(self):
        return sum(1 for line in self.said if re.search(r"session \S+ opened", line))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


async def over_http():
    log = os.path.join(SCRATCH, "http-audit.jsonl")
    # `file read` answers within a second (`Fast`): a loaded machine cannot make it overrun.
    server = Server(log, CNV_MCP_QUOTA="file.read=3/h")
    try:
        async with Client(server.url, mode=MODERN) as client:
            check(client.protocol_version == MODERN, f"http: a 2026-07-28 client is served at {client.protocol_version}")
            tools = await client.list_tools()
            check(any(tool.name == "file_read" for tool in tools.tools), "http 2026-07-28: tools/list without a session")
            result = await client.call_tool("file_read", HELLO)
            check(not result.is_error and "hello" in text(result), "http 2026-07-28: tools/call without a session")
            result = await client.call_tool("file_read", HELLO)
            check(not result.is_error, "http 2026-07-28: a second call, again without a session")
        check(server.opened() == 0, "http 2026-07-28: no session was opened in the registry")

        async with Client(server.url) as client:
            check(client.protocol_version == MODERN, f"http: a client that probes (server/discover) picks 2026-07-28 ({client.protocol_version})")

        async with Client(server.url, mode="legacy") as client:
            check(client.protocol_version == LEGACY, f"http: a 2025-11-25 client is served at {client.protocol_version}, with a session")
            result = await client.call_tool("file_read", HELLO)
            check(not result.is_error and "hello" in text(result), "http 2025-11-25: tools/call in the session")
            refused = await client.call_tool("file_read", HELLO)
            check(
                refused.is_error and error_of(refused).get("rule") == "quota",
                "http: the quota counts the principal's calls of both revisions (3 admitted, the 4th refused)",
            )
        check(server.opened() == 1, f"http 2025-11-25: one session was opened in the registry ({server.opened()})")

        async with httpx2.AsyncClient(timeout=30) as http:
            meta = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            }
            headers = {
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "server/discover",
            }
            response = await http.post(
                server.url, json={"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}, headers=headers
            )
            body = response.text
            data = json.loads(body[body.index("{"):body.rindex("}") + 1])
            versions = data.get("result", {}).get("supportedVersions", [])
            check(
                response.status_code == 200 and MODERN in versions and LEGACY in versions and "mcp-session-id" not in response.headers,
                f"http: server/discover names both revisions and makes no session ({versions})",
            )

        entries = audit(log)
        origins = [e["call"]["origin"] for e in entries if e.get("event") == "create" and "call" in e]
        stateless = [o for o in origins if o.get("session_id") is None]
        in_session = [o for o in origins if o.get("session_id")]
        check(
            len(stateless) == 2 and len(in_session) == 1 and all(o["transport"] == "streamable_http" for o in origins),
            f"http: the audit trail records the 2026-07-28 calls without a session and the 2025-11-25 one in its session ({len(stateless)}, {len(in_session)})",
        )
    finally:
        server.stop()


async def over_stdio():
    for mode, version in ((MODERN, MODERN), ("legacy", LEGACY)):
        log = os.path.join(SCRATCH, f"stdio-{mode}-audit.jsonl")
        params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=env(log))
        async with Client(params, mode=mode) as client:
            check(client.protocol_version == version, f"stdio: a {version} client is served at {client.protocol_version}")
            result = await client.call_tool("file_read", HELLO)
            check(not result.is_error and "hello" in text(result), f"stdio {version}: tools/call")


async def main():
    await over_http()
    await over_stdio()
    print("ALL OK", flush=True)


asyncio.run(main())
