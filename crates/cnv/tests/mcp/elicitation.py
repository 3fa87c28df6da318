"""A person at an MCP client approves, or not, through elicitation: the official Python
MCP SDK's `elicitation_callback` plays the person.

Run by crates/cnv/tests/mcp_python.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python elicitation.py BIN SCRATCH

BIN is the workbench example, SCRATCH a fresh directory. Each part serves the workbench
with a workspace of its own, SCRATCH/<part>/ws, and its audit log SCRATCH/<part>.jsonl:

- supervised (CNV_MCP_SUPERVISED=elicit), a client that can ask its user, over stdio and
  HTTP: an agent-safe call asks nobody; a write is confirmed by the person (recorded as
  the approval), or declined, cancelled, answered wrongly (refused, nothing written);
  `Dangerous` needs the justification first, then the person's approval;
- autonomous (the default), the same client: nobody is ever asked;
- supervised, a client without elicitation: the refusal says what approval needs.

Every check prints one line; the first that fails ends the script with exit code 1.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading

import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

BIN, SCRATCH = sys.argv[1:3]
CLIENT = types.Implementation(name="py-person", version="1")
JUSTIFY = "the user asked to start over from an empty workspace before the import"
assert len(JUSTIFY) >= 50


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def part(name):
    """A workspace with one file, its audit log, and the server's environment."""
    ws = os.path.join(SCRATCH, name, "ws")
    os.makedirs(ws, exist_ok=True)
    with open(os.path.join(ws, "hello.txt"), "w") as file:
        file.write("hello")
    log = os.path.join(SCRATCH, f"{name}.jsonl")
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    env.update({"CNV_WORKSPACE": ws, "CNV_AUDIT_LOG": log})
    return ws, log, env


def audit(log):
    with open(log) as file:
        return [json.loads(line) for line in file if line.strip()]


def error_of(result):
    return (result.structured_content or {}).get("error", {})


class Person:
    """The person at the client: answers each question with the next planned answer."""

    def __init__(self):
        self.asked = []
        self.answers = []

    def plan(self, *answers):
        self.answers = list(answers)

    async def __call__(self, context, params):
        self.asked.append(params)
        action, typed = self.answers.pop(0)
        content = {"approve": typed} if action == "accept" else None
        return types.ElicitResult(action=action, content=content)


class Nobody:
    """A client that declared elicitation on a server that must never use it."""

    def __init__(self):
        self.asked = []

    async def __call__(self, context, params):
        self.asked.append(params)
        return types.ElicitResult(action="decline")


async def supervised(session, person, ws, label):
    init = await session.initialize()
    check("This server is supervised" in (init.instructions or ""), f"{label}: the server's instructions say it is supervised")

    result = await session.call_tool("calc_sum", {"numbers": [1, 2]})
    check(not result.is_error and person.asked == [], f"{label}: an agent-safe call runs and asks nobody")

    # A value that tries to pass for more lines of the question, with a terminal escape.
    sneaky = "x\nIf approved, it runs: something else\x1b[2J"
    person.plan(("accept", "ReadWriteFS"))
    result = await session.call_tool("file_write", {"path": "confirmed.txt", "content": sneaky})
    check(not result.is_error and os.path.exists(os.path.join(ws, "confirmed.txt")), f"{label}: a write the person confirmed ran")
    question = person.asked[-1]
    message = question.message
    check(
        "file write" in message and "ReadWriteFS" in message and "path: confirmed.txt" in message,
        f"{label}: the person was shown the command, its class and each argument",
    )
    check(
        "\x1b" not in message and "\nIf approved, it runs: something else" not in message and "\\u{000a}If approved" in message,
        f"{label}: an argument cannot pose as a line of the question (escaped: {message.splitlines()[-3]!r})",
    )
    check(
        list(question.requested_schema["properties"]) == ["approve"] and question.requested_schema["required"] == ["approve"],
        f"{label}: the form asks for one answer, the class's name",
    )

    for answer, what in ((("decline", None), "declined"), (("cancel", None), "cancelled"), (("accept", "yes"), "answered `yes`")):
        name = f"{answer[0]}-{answer[1]}.txt"
        person.plan(answer)
        result = await session.call_tool("file_write", {"path": name, "content": "x"})
        check(
            result.is_error
            and error_of(result).get("rule") == "human_confirmation"
            and not os.path.exists(os.path.join(ws, name)),
            f"{label}: a write the person {what} is refused, nothing written: {error_of(result).get('message', '')[:110]!r}",
        )

    asked = len(person.asked)
    result = await session.call_tool("workspace_wipe", {"justification": "tidy"})
    check(
        result.is_error and error_of(result).get("rule") == "min_justification" and len(person.asked) == asked,
        f"{label}: Dangerous with a short justification is refused before anyone is asked",
    )
    person.plan(("decline", None))
    result = await session.call_tool("workspace_wipe", {"justification": JUSTIFY})
    check(
        result.is_error and os.path.exists(os.path.join(ws, "hello.txt")) and "Dangerous" in person.asked[-1].message,
        f"{label}: Dangerous the person declined is refused, the workspace intact",
    )
    person.plan(("accept", "Dangerous"))
    result = await session.call_tool("workspace_wipe", {"justification": JUSTIFY})
    check(
        not result.is_error and os.listdir(ws) == [],
        f"{label}: Dangerous the person approved ran: {result.content[0].text!r}",
    )
    check(person.answers == [], f"{label}: every planned answer was asked for ({len(person.asked)} questions)")


def check_supervised_audit(log, label):
    entries = audit(log)
    approvals = [entry for entry in entries if entry.get("approval") and entry.get("outcome") == "allowed"]
    confirmed = [entry for entry in approvals if entry["event"] == "verify" and entry["session"] == "workbench file write"]
    check(
        len(confirmed) == 1
        and confirmed[0]["outcome"] == "allowed"
        and confirmed[0]["mode"] == "Supervised"
        and "by the person at the client, through elicitation" in confirmed[0]["approval"],
        f"{label}: the confirmed write's verification records the person's approval: {confirmed[0]['approval'] if confirmed else None!r}",
    )
    wiped = [entry for entry in approvals if entry["event"] == "escalate" and entry["session"] == "workbench workspace wipe"]
    check(
        len(wiped) == 1
        and wiped[0]["outcome"] == "allowed"
        and wiped[0]["to"] == "Dangerous"
        and wiped[0]["justification"] == JUSTIFY
        and "through elicitation" in wiped[0]["approval"],
        f"{label}: the wipe's escalation records the person's approval and the justification",
    )
    answers = [entry["approval"] for entry in entries if entry.get("event") == "escalate" and entry.get("outcome") == "denied" and entry.get("approval")]
    for said in ("declined by the person at the client, through elicitation", "dismissed without a decision", 'the answer was "yes", not `ReadWriteFS`'):
        check(any(said in answer for answer in answers), f"{label}: the trail records the person's answer {said!r} as the denial's approval")
    check(
        sum(answer.startswith("declined by the person at the client") for answer in answers) == 2
        and any(answer.endswith("for `Dangerous`") for answer in answers),
        f"{label}: both declines (a write, the wipe) are recorded: {answers}",
    )


async def stdio_supervised():
    ws, log, env = part("stdio-supervised")
    env["CNV_MCP_SUPERVISED"] = "elicit"
    person = Person()
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=env)
    async with stdio_client(params, errlog=open(os.path.join(SCRATCH, "stdio-supervised.err"), "w")) as (read, write):
        async with ClientSession(read, write, client_info=CLIENT, elicitation_callback=person) as session:
            await supervised(session, person, ws, "stdio supervised")
    await asyncio.sleep(0.3)
    check_supervised_audit(log, "stdio supervised")


async def stdio_autonomous():
    ws, log, env = part("stdio-autonomous")
    nobody = Nobody()
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=env)
    async with stdio_client(params, errlog=open(os.path.join(SCRATCH, "stdio-autonomous.err"), "w")) as (read, write):
        async with ClientSession(read, write, client_info=CLIENT, elicitation_callback=nobody) as session:
            init = await session.initialize()
            check("supervised" not in (init.instructions or ""), "autonomous: the server's instructions say nothing of a person")
            result = await session.call_tool("workspace_wipe", {"justification": JUSTIFY})
            check(
                result.is_error
                and error_of(result).get("rule") == "dangerous_never_autonomous"
                and "elicitation" in error_of(result).get("hint", "")
                and os.path.exists(os.path.join(ws, "hello.txt")),
                f"autonomous: Dangerous is refused, and the hint says where a person could approve it: {error_of(result).get('hint')!r}",
            )
            result = await session.call_tool("file_write", {"path": "a.txt", "content": "x"})
            check(result.is_error and error_of(result).get("rule") == "min_justification", "autonomous: a write without a justification is refused")
            result = await session.call_tool("file_write", {"path": "a.txt", "content": "x", "justification": JUSTIFY})
            check(not result.is_error, "autonomous: a justified write runs")
    check(nobody.asked == [], "autonomous: the client's person was never asked, though the client can ask")
    await asyncio.sleep(0.3)
    check(all(entry.get("mode", "Autonomous") == "Autonomous" and not entry.get("approval") for entry in audit(log)), "autonomous: every entry is in agent mode, none records an approval")


async def stdio_without_elicitation():
    ws, log, env = part("stdio-no-elicitation")
    env["CNV_MCP_SUPERVISED"] = "elicit"
    params = StdioServerParameters(command=BIN, args=["--mcp-serve"], env=env)
    async with stdio_client(params, errlog=open(os.path.join(SCRATCH, "stdio-no-elicitation.err"), "w")) as (read, write):
        async with ClientSession(read, write, client_info=CLIENT) as session:
            await session.initialize()
            result = await session.call_tool("workspace_wipe", {"justification": JUSTIFY})
            message = error_of(result).get("message", "")
            check(
                result.is_error
                and error_of(result).get("rule") == "dangerous_never_autonomous"
                and "did not declare the `elicitation` capability" in message
                and "approval needs an MCP client that supports elicitation, on a supervised server" in message
                and os.path.exists(os.path.join(ws, "hello.txt")),
                f"no elicitation: the refusal says what approval needs: {message!r}",
            )
            result = await session.call_tool("file_write", {"path": "a.txt", "content": "x", "justification": JUSTIFY})
            check(not result.is_error, "no elicitation: a justified write runs as on an autonomous server")


async def http_supervised():
    ws, log, env = part("http-supervised")
    env["CNV_MCP_SUPERVISED"] = "elicit"
    proc = subprocess.Popen(
        [BIN, "--mcp-serve-http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    found = {}
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            served = re.search(r"serving MCP at (http://\S+/mcp) \((.*)\)", line)
            if served:
                found["url"], found["said"] = served.group(1), served.group(2)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        check(ready.wait(60) and "supervised" in found["said"], f"http supervised: the server says how it serves ({found.get('said')})")
        person = Person()
        async with streamable_http_client(found["url"]) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream, client_info=CLIENT, elicitation_callback=person) as session:
                await supervised(session, person, ws, "http supervised")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    check_supervised_audit(log, "http supervised")


async def main():
    await stdio_supervised()
    await stdio_autonomous()
    await stdio_without_elicitation()
    await http_supervised()
    print("ALL OK", flush=True)


asyncio.run(main())
