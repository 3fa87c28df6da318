"""Progress notifications of a slow verb, heard by the official Python MCP SDK.

Run by crates/cnv/tests/mcp_python.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python progress.py BIN SCRATCH

BIN is the workbench example (its `clock wait` is a `Slow` verb, its `calc sum` an
`Instant` one), SCRATCH a fresh directory holding `ws/`. Over stdio and streamable HTTP:
a call that sends a progress token hears from a slow verb while it runs, every
notification before the result and with a higher `progress` than the one before; a fast
verb sends none, and no notification follows a result (checked on the wire: the server's
standard output, and the call's HTTP event stream, in the order they were sent).

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
import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

BIN, SCRATCH = sys.argv[1:3]
WS = os.path.join(SCRATCH, "ws")
CLIENT = types.Implementation(name="py-progress", version="1")


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def operator_env(log):
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    env.update({"CNV_WORKSPACE": WS, "CNV_AUDIT_LOG": log})
    return env


async def exercise(session, label):
    await session.initialize()
    heard = []

    async def on_progress(progress, total, message):
        heard.append((progress, total, message))

    result = await session.call_tool("clock_wait", {"ms": 2500}, progress_callback=on_progress)
    check(
        not result.is_error and result.structured_content == {"waited_ms": 2500},
        f"{label}: the slow verb ran: {result.structured_content}",
    )
    check(len(heard) >= 1, f"{label}: the slow verb sent progress while it ran ({len(heard)} notifications)")
    steps = [progress for progress, _, _ in heard]
    check(all(b > a for a, b in zip(steps, steps[1:])), f"{label}: progress increases: {steps}")
    check(all(total is None for _, total, _ in heard), f"{label}: no total is claimed (a call's length is not known)")
    check(
        all(message is not None and "clock_wait" in message for _, _, message in heard),
        f"{label}: each says what runs: {heard[0][2]!r}",
    )

    fast = []

    async def on_fast(progress, total, message):
        fast.append(progress)

    for numbers in ([1, 2], [3, 4], [5, 6]):
        result = await session.call_tool("calc_sum", {"numbers": numbers}, progress_callback=on_fast)
        check(not result.is_error, f"{label}: calc_sum {numbers} ran")
    check(fast == [], f"{label}: an Instant verb sends no progress, even when asked ({fast})")

    result = await session.call_tool("clock_wait", {"ms": 10})
    check(not result.is_error, f"{label}: a slow call without a progress token runs as before")


def order_on_the_wire(messages, label):
    """The wire's order: the slow call's progress, every one before its response."""
    progress = [
        index
        for index, message in enumerate(messages)
        if message.get("method") == "notifications/progress" and message["params"]["progressToken"] == "slow"
    ]
    answer = [index for index, message in enumerate(messages) if message.get("id") == 2]
    check(len(answer) == 1 and "result" in messages[answer[0]], f"{label}: the slow call was answered")
    check(progress and max(progress) < answer[0], f"{label}: {len(progress)} progress notifications, all before the response")
    fast = [message for message in messages if message.get("method") == "notifications/progress" and message["params"]["progressToken"] == "fast"]
    check(fast == [], f"{label}: none for the Instant verb")


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
SLOW = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "clock_wait", "arguments": {"ms": 2500}, "_meta": {"progressToken": "slow"}},
}
FAST = {
    "jsonrpc": "2.0",
    "id": 3,
    "method": "tools/call",
    "params": {"name": "calc_sum", "arguments": {"numbers": [1]}, "_meta": {"progressToken": "fast"}},
}


def stdio_raw():
    """The messages as the server writes them on its standard output, in order: its input
    stays open until both calls are answered, then closes, and what the server writes
    until it ends is read too."""
    proc = subprocess.Popen(
        [BIN, "--mcp-serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=operator_env(os.path.join(SCRATCH, "progress-raw.jsonl")),
    )
    for message in (INITIALIZE, INITIALIZED, SLOW, FAST):
        proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    messages = []
    answered = set()
    for line in proc.stdout:
        messages.append(json.loads(line))
        answered.add(messages[-1].get("id"))
        if {2, 3} <= answered:
            break
    proc.stdin.close()
    messages += [json.loads(line) for line in proc.stdout]
    proc.wait(timeout=20)
    order_on_the_wire(messages, "stdio raw")


async def http_raw(url):
    """The slow call's event stream as the server sends it, in order."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=60) as client:
        response = await client.post(url, json=INITIALIZE, headers=headers)
        headers = {**headers, "Mcp-Session-Id": response.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
        await client.post(url, json=INITIALIZED, headers=headers)
        messages = []
        for request in (SLOW, FAST):
            response = await client.post(url, json=request, headers=headers)
            messages += [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        order_on_the_wire(messages, "http raw")
        await client.delete(url, headers=headers)


async def stdio():
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=operator_env(os.path.join(SCRATCH, "progress-stdio.jsonl")))
    with open(os.path.join(SCRATCH, "progress-stdio-stderr.txt"), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await exercise(session, "stdio")


async def http():
    proc = subprocess.Popen(
        [BIN, "--mcp-serve-http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=operator_env(os.path.join(SCRATCH, "progress-http.jsonl")),
    )
    found = {}
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            served = re.search(r"serving MCP at (http://\S+/mcp)", line)
            if served:
                found["url"] = served.group(1)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        check(ready.wait(60), "http: the server said where it serves")
        async with streamable_http_client(found["url"]) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream, client_info=CLIENT) as session:
                await exercise(session, "http")
        await http_raw(found["url"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def main():
    await stdio()
    stdio_raw()
    await http()
    print("ALL OK", flush=True)


asyncio.run(main())
