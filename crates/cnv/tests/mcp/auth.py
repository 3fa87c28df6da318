"""The workbench served as an OAuth resource server, called by the official Python MCP SDK
with every kind of bearer token.

Run by crates/cnv/tests/mcp_auth.rs in the venv `cargo xtask mcp-venv` makes:

    target/mcp-venv/bin/python auth.py URL TOKENS METADATA_URL

URL is the server's MCP endpoint, TOKENS a JSON file of the tokens the Rust test minted
(by name), METADATA_URL the protected resource metadata URL challenges must name. The
Rust test reads the operator's audit log afterwards.

Every check prints one line; the first that fails ends the script with exit code 1.
"""

import asyncio
import json
import sys
from contextlib import asynccontextmanager

import httpx2
import mcp.types as types
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL, TOKENS_PATH, METADATA_URL = sys.argv[1:4]
with open(TOKENS_PATH) as file:
    TOKENS = json.load(file)
CLIENT = types.Implementation(name="py-auth", version="1.0.0")
JUSTIFY = "the user asked to keep the meeting notes in the workspace"
ALL_TOOLS = {"calc_sum", "file_read", "file_list", "file_write", "env_get", "net_send", "proc_run", "workspace_wipe"}
UP_TO_READ_WRITE = ALL_TOOLS - {"proc_run", "workspace_wipe"}
UP_TO_READ_ONLY = {"calc_sum", "file_read", "file_list"}


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


@asynccontextmanager
async def connected(token):
    """An initialized session sending `token` as its bearer token (none: no header), and
    the responses its HTTP client saw (status, WWW-Authenticate, Mcp-Session-Id)."""
    seen = []

    async def hook(response):
        seen.append((response.status_code, response.headers.get("www-authenticate", ""), response.headers.get("mcp-session-id")))

    headers = {"Authorization": f"Bearer {token}"} if token else None
    client = create_mcp_http_client(headers=headers)
    client.event_hooks = {"request": [], "response": [hook]}
    async with client:
        async with streamable_http_client(URL, http_client=client) as (read, write):
            async with ClientSession(read, write, client_info=CLIENT) as session:
                session.seen = seen
                yield session


async def refused_at_initialize(token):
    """Connects with `token`; the refusal's error and the last response seen."""
    seen = None
    try:
        async with connected(token) as session:
            seen = session.seen
            await session.initialize()
    except (MCPError, BaseExceptionGroup) as error:
        found = mcp_error(error)
        if found is None:
            raise
        return str(found), seen[-1] if seen else None
    return None, seen[-1] if seen else None


def mcp_error(error):
    """The MCPError `error` is, or holds (the SDK's task groups wrap what they raise)."""
    if isinstance(error, MCPError):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = mcp_error(inner)
        if found is not None:
            return found
    return None


async def call(session, tool, arguments):
    """A call, again while it overran its band waiting on a loaded machine."""
    for _ in range(5):
        result = await session.call_tool(tool, arguments)
        error = (result.structured_content or {}).get("error", {})
        if not (result.is_error and error.get("kind") == "overrun"):
            return result
    return result


async def listed(session):
    return {tool.name for tool in (await session.list_tools()).tools}


async def forbidden(session, tool, arguments, scope):
    """`tool` is beyond the session's token: the call is refused with 403 and a challenge
    naming `scope`."""
    try:
        await session.call_tool(tool, arguments)
    except MCPError as error:
        status, challenge, _ = session.seen[-1]
        return (
            status == 403
            and 'error="insufficient_scope"' in challenge
            and f'scope="{scope}"' in challenge
            and f'resource_metadata="{METADATA_URL}"' in challenge,
            f"{status} {challenge} ({error})",
        )
    return False, "the call was answered"


async def main():
    error, last = await refused_at_initialize(None)
    check(
        error is not None and last[0] == 401 and f'resource_metadata="{METADATA_URL}"' in last[1] and "error=" not in last[1],
        f"no token: 401 with a challenge naming the metadata, no error ({last})",
    )
    for name in ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer", "unknown_kid", "alg_none", "hs256_with_public_key", "forged_capability"]:
        error, last = await refused_at_initialize(TOKENS[name])
        check(
            error is not None and last[0] == 401 and 'error="invalid_token"' in last[1] and f'resource_metadata="{METADATA_URL}"' in last[1],
            f"{name}: 401 invalid_token ({error})",
        )

    for name in ["rs256", "es256", "eddsa"]:
        async with connected(TOKENS[name]) as session:
            await session.initialize()
            tools = await listed(session)
            check(tools == UP_TO_READ_WRITE, f"{name}: cnv:ReadWriteFS lists the tools up to ReadWriteFS ({sorted(tools)})")
            result = await call(session, "calc_sum", {"numbers": [1, 2]})
            check(not result.is_error and result.structured_content == {"sum": 3}, f"{name}: a granted call runs")

    async with connected(TOKENS["rs256"]) as session:
        await session.initialize()
        result = await call(session, "file_write", {"path": "a.txt", "content": "x"})
        error = (result.structured_content or {}).get("error", {})
        check(result.is_error and error.get("rule") == "min_justification", "a token never lifts the justification rule")
        result = await call(session, "file_write", {"path": "notes.txt", "content": "minutes", "justification": JUSTIFY})
        check(not result.is_error, "a justified write the token grants runs")
        ok, said = await forbidden(session, "workspace_wipe", {"justification": JUSTIFY}, "cnv:workspace.wipe")
        check(ok, f"a Dangerous tool beyond cnv:ReadWriteFS: 403 insufficient_scope ({said})")

        # Bob's token with Alice's session: there is no such session for him.
        session_id = next(id for (_, _, id) in session.seen if id)
        message = {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}
        for token, expected in [(TOKENS["bob"], 404), (TOKENS["rs256"], 200)]:
            async with httpx2.AsyncClient() as raw:
                response = await raw.post(
                    URL,
                    json=message,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Mcp-Session-Id": session_id,
                        "MCP-Protocol-Version": "2025-11-25",
                        "Accept": "application/json, text/event-stream",
                    },
                )
            check(response.status_code == expected, f"the session with {'another' if expected == 404 else 'its own'} principal's token: {response.status_code}")
        result = await call(session, "calc_sum", {"numbers": [4]})
        check(not result.is_error, "the session goes on for its own principal")

    async with connected(TOKENS["root"]) as session:
        await session.initialize()
        check(await listed(session) == ALL_TOOLS, "cnv:Dangerous lists every tool")
        result = await call(session, "workspace_wipe", {"justification": JUSTIFY})
        error = (result.structured_content or {}).get("error", {})
        check(result.is_error and error.get("rule") == "dangerous_never_autonomous", f"no token lets Dangerous run for an agent ({error})")

    async with connected(TOKENS["narrow"]) as session:
        await session.initialize()
        tools = await listed(session)
        check(tools == {"calc_sum", "file_read"}, f"cnv:Pure cnv:file.read lists two tools ({sorted(tools)})")
        result = await call(session, "file_read", {"path": "hello.txt"})
        check(not result.is_error and result.structured_content["content"] == "hello from the operator", "the verb scope's call runs")
        ok, said = await forbidden(session, "file_write", {"path": "b.txt", "content": "x", "justification": JUSTIFY}, "cnv:file.write")
        check(ok, f"a call beyond the token: 403 insufficient_scope naming cnv:file.write ({said})")

    async with connected(TOKENS["delegated"]) as session:
        await session.initialize()
        tools = await listed(session)
        check(tools == UP_TO_READ_ONLY, f"the delegated token lists what its narrowing kept ({sorted(tools)})")
        result = await call(session, "file_read", {"path": "hello.txt"})
        check(not result.is_error, "the delegated token's call runs")
        ok, said = await forbidden(session, "file_write", {"path": "c.txt", "content": "x", "justification": JUSTIFY}, "cnv:file.write")
        check(ok, f"the delegated token cannot write, as its holder could ({said})")

    async with connected(TOKENS["widened"]) as session:
        await session.initialize()
        tools = await listed(session)
        check(tools == UP_TO_READ_ONLY, f"a narrowing that asks for more than its token lists no more ({sorted(tools)})")
        ok, said = await forbidden(session, "file_write", {"path": "d.txt", "content": "x", "justification": JUSTIFY}, "cnv:file.write")
        check(ok, f"a narrowing that asks for more gets no more ({said})")

    print("ALL OK", flush=True)


asyncio.run(main())
