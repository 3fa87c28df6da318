"""The guide's MCP client configurations and Python snippet, run as they are written.

Run by crates/cnv/tests/mcp_python.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python client_docs.py GUIDE EXAMPLES SCRATCH

GUIDE is docs/guide.md, EXAMPLES the directory holding the built `workbench` example (put
first on the PATH, as `cargo install` would), SCRATCH a fresh directory. Each block is taken
from between its markers in the guide:

- `python-client`: saved as a file and run with this Python, in SCRATCH/ws (its workspace
  is the current directory); its output must be what the guide says it prints;
- `client-config:stdio`: the `mcpServers` entry's command, arguments and environment,
  started as a client would, must serve the workbench's tools (its workspace and log are
  the example paths of the guide, which no call here needs);
- `client-config:http`: the URL must be the one `--mcp-serve-http 127.0.0.1:8080` serves;
  the server is started on a free port (the one thing changed), and the URL, with that
  port, must serve the same tools.

Every check prints one line; the first that fails ends the script with exit code 1.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from urllib.parse import urlsplit, urlunsplit

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

GUIDE, EXAMPLES, SCRATCH = sys.argv[1:4]
os.environ["PATH"] = os.path.abspath(EXAMPLES) + os.pathsep + os.environ.get("PATH", "")
TOOLS = sorted(
    ["calc_sum", "clock_wait", "env_get", "file_list", "file_read", "file_write", "net_send", "proc_run", "workspace_wipe"]
)


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def block(marker):
    """The fenced block between `<!-- marker -->` and `<!-- /marker -->` in the guide."""
    with open(GUIDE) as file:
        text = file.read()
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```\n<!-- /{re.escape(marker)} -->", text, re.S)
    check(found is not None, f"the guide has the block `{marker}`")
    return found.group(1)


def snippet():
    ws = os.path.join(SCRATCH, "ws")
    os.makedirs(ws, exist_ok=True)
    path = os.path.join(SCRATCH, "snippet.py")
    with open(path, "w") as file:
        file.write(block("python-client"))
    done = subprocess.run([sys.executable, path], cwd=ws, capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    check(done.returncode == 0, f"the Python snippet runs as written ({done.returncode}): {done.stderr[-400:]}")
    check(lines[:1] == [repr(TOOLS)], f"it prints the nine tools: {lines[:1]}")
    check(lines[1:3] == ["{'sum': 6.5}", "True min_justification"], f"it prints what the guide says: {lines[1:3]}")
    check(not os.path.exists(os.path.join(ws, "notes.txt")), "the unjustified write wrote nothing")


async def listed(session):
    await session.initialize()
    return sorted(tool.name for tool in (await session.list_tools()).tools)


async def stdio_config():
    config = json.loads(block("client-config:stdio"))
    entry = config["mcpServers"]["workbench"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"])
    with open(os.path.join(SCRATCH, "stdio-config.err"), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                tools = await listed(session)
    check(tools == TOOLS, f"the stdio configuration starts a server of the nine tools ({entry['command']} {' '.join(entry['args'])})")


async def http_config():
    config = json.loads(block("client-config:http"))
    entry = config["mcpServers"]["workbench"]
    url = urlsplit(entry["url"])
    check(entry.get("type") == "http" and (url.hostname, url.port, url.path) == ("127.0.0.1", 8080, "/mcp"), f"the HTTP configuration names {entry['url']}")
    proc = subprocess.Popen(
        ["workbench", "--mcp-serve-http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CNV_WORKSPACE": os.path.join(SCRATCH, "ws")},
    )
    served = {}
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            found = re.search(r"serving MCP at (http://\S+/mcp)", line)
            if found:
                served["url"] = found.group(1)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        check(ready.wait(60), "the HTTP server started")
        port = urlsplit(served["url"]).port
        target = urlunsplit(url._replace(netloc=f"{url.hostname}:{port}"))
        async with streamable_http_client(target) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                tools = await listed(session)
        check(tools == TOOLS, f"the HTTP configuration's URL (port {port}) serves the nine tools")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def main():
    snippet()
    await stdio_config()
    await http_config()
    print("ALL OK", flush=True)


asyncio.run(main())
