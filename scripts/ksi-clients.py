#!/usr/bin/env python3
"""
Runs KSI's own clients, unchanged, against a running patternd (issue 21, item 12).

KSI's code is not part of patternd: point --ksi at a checkout of durapensa/ksi
(a folder holding ksi_client/ and ksi_common/), and --socket at the daemon's
socket (<home>/var/run/patternd.sock). Run by hand; it prints one line per
check and exits 1 when any fails:

    python3 scripts/ksi-clients.py --ksi /path/to/ksi --socket ~/.patternd/var/run/patternd.sock

It checks ksi_common/sync_client.py (a request, an error reply) and
ksi_client's EventClient with auto_start_daemon=False: discovery
(system:discover read as {events: {<namespace>: [{event, summary, parameters}]}}),
has_event, namespace calls (client.composition.discover(tags=[...])), the
client's own parameter checks before sending, a fork and an emit.

KSI's client needs structlog, pyyaml, aiofiles, ruamel.yaml, pydantic and
pydantic-settings. Only pydantic-settings' BaseSettings is touched on import
(ksi_common.config's defaults); when that package is missing, a stand-in built
on pydantic.BaseModel is registered so the import works. The client's code is
what it is.
"""
import argparse
import asyncio
import sys
import types
import uuid
from pathlib import Path

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}{'  ' + detail if detail else ''}")


def import_ksi(ksi_root):
    sys.path.insert(0, str(ksi_root))
    try:
        import pydantic_settings  # noqa: F401
    except ImportError:
        import pydantic

        stand_in = types.ModuleType("pydantic_settings")
        stand_in.BaseSettings = type("BaseSettings", (pydantic.BaseModel,), {})
        sys.modules["pydantic_settings"] = stand_in
        print("note  pydantic-settings is not installed: a stand-in BaseSettings (pydantic.BaseModel) is used")
    from ksi_client import EventClient
    from ksi_client.exceptions import KSIEventError, KSIValidationError
    from ksi_common.sync_client import KSIResponseError, MinimalSyncClient

    return EventClient, KSIEventError, KSIValidationError, MinimalSyncClient, KSIResponseError


def sync_checks(MinimalSyncClient, KSIResponseError, socket_path):
    client = MinimalSyncClient(socket_path=socket_path, timeout=10.0)
    health = client.send_event("system:health")
    check("sync_client system:health", health.get("status") == "ok", f"status={health.get('status')}")
    listed = client.send_event("composition:list", {})
    check("sync_client composition:list", isinstance(listed.get("compositions"), list), f"{len(listed.get('compositions', []))} compositions")
    try:
        client.send_event("composition:get", {"name": "no_such_pattern_here"})
        check("sync_client error reply raises KSIResponseError", False, "no error")
    except KSIResponseError as err:
        check("sync_client error reply raises KSIResponseError", "not_found" in str(err), str(err)[:100])
    discovered = client.send_event("system:discover")
    check("sync_client system:discover is a map of namespaces", isinstance(discovered.get("events"), dict))


async def event_client_checks(EventClient, KSIEventError, KSIValidationError, socket_path):
    async with EventClient(client_id="ksi_clients_check", socket_path=Path(socket_path), auto_start_daemon=False) as client:
        check("EventClient discovery", client._discovered, f"namespaces: {', '.join(sorted(client.get_namespaces()))}")
        check("EventClient has_event composition:fork", client.has_event("composition:fork"))
        check("EventClient has_event composition:nonexistent is False", not client.has_event("composition:nonexistent"))
        info = client.get_event_info("composition:fork") or {}
        params = info.get("parameters", {})
        check(
            "EventClient parameters of composition:fork",
            params.get("parent", {}).get("required") is True and params.get("parent", {}).get("type") == "str",
            f"{ {name: (p.get('type'), p.get('required')) for name, p in params.items()} }",
        )

        listed = await client.composition.list()
        patterns = listed.get("compositions", [])
        check("EventClient client.composition.list()", len(patterns) > 0, f"{len(patterns)} compositions")
        # An orchestration with tags when there is one (KSI's July layout), else any composition with tags (its September layout has none).
        ordered = sorted(patterns, key=lambda p: p.get("type") != "orchestration")
        tagged, tags = None, []
        for candidate in ordered[:40]:
            full = await client.composition.get(name=candidate["name"])
            tags = (full.get("composition", {}).get("metadata") or {}).get("tags") or []
            if tags:
                tagged = candidate
                break
        tagged = tagged or (ordered[0] if ordered else None)
        found = await client.composition.discover(tags=tags[:1]) if tags else {"compositions": []}
        check(
            "EventClient client.composition.discover(tags=[...])",
            any(p.get("name") == tagged["name"] for p in found.get("compositions", [])),
            f"tags={tags[:1]} -> {found.get('total')} found",
        )

        try:
            await client.composition.fork(name="x")
            check("EventClient checks required parameters before sending", False, "sent without parent and reason")
        except KSIValidationError as err:
            check("EventClient checks required parameters before sending", "parent" in str(err), str(err)[:120])
        except KSIEventError as err:
            check("EventClient checks required parameters before sending", False, f"sent; the daemon refused it: {str(err)[:80]}")
        try:
            await client.composition.get(name=42)
            check("EventClient checks parameter types before sending", False, "sent name=42")
        except KSIValidationError as err:
            check("EventClient checks parameter types before sending", "name" in str(err), str(err)[:120])
        except KSIEventError as err:
            check("EventClient checks parameter types before sending", False, f"sent; the daemon refused it: {str(err)[:80]}")
        try:
            client.composition.nonexistent
            check("EventClient refuses an undiscovered event", False)
        except AttributeError as err:
            check("EventClient refuses an undiscovered event", True, str(err))

        if tagged is None:
            check("EventClient client.composition.fork(...)", False, "the store lists no composition to fork")
            return
        fork_name = f"ksi_check_{uuid.uuid4().hex[:8]}"
        forked = await client.composition.fork(parent=tagged["name"], name=fork_name, reason="KSI client check")
        check("EventClient client.composition.fork(...)", forked.get("name") == fork_name, f"{forked.get('parent')} -> {fork_name}@{forked.get('version')}")
        lineage = await client.composition.lineage(name=fork_name, direction="up")
        check("EventClient client.composition.lineage(...) of the fork", tagged["name"] in str(lineage))

        emitted = await client.event.emit(event="composition:get", data={"name": fork_name})
        check("EventClient client.event.emit(...)", emitted.get("emitted") is True and emitted.get("result", {}).get("name") == fork_name)
        scheduled = await client.event.emit(event="ksi_check:ping", data={}, delay=3600)
        check("EventClient delayed emit", scheduled.get("scheduled") is True)
        await client.event.cancel(schedule_id=scheduled["schedule_id"])
        await client.composition.delete(name=fork_name, message="KSI client check done")

        try:
            await client.send_event("composition:get", {"name": "no_such_pattern_here"})
            check("EventClient error reply raises KSIEventError", False)
        except KSIEventError as err:
            check("EventClient error reply raises KSIEventError", "not_found" in str(err.args) or "not_found" in str(err), str(err)[:100])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ksi", required=True, help="a checkout of durapensa/ksi (holding ksi_client/ and ksi_common/)")
    parser.add_argument("--socket", required=True, help="the daemon's socket, <home>/var/run/patternd.sock")
    args = parser.parse_args()
    EventClient, KSIEventError, KSIValidationError, MinimalSyncClient, KSIResponseError = import_ksi(Path(args.ksi).resolve())
    sync_checks(MinimalSyncClient, KSIResponseError, args.socket)
    asyncio.run(event_client_checks(EventClient, KSIEventError, KSIValidationError, args.socket))
    print(f"{sum(results)} of {len(results)} checks passed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
