"""13 store recovery: a damaged state database is moved aside, and wharfd starts fresh and serves."""

from __future__ import annotations

import pytest

from wharf_e2e.broker import Broker
from wharf_e2e.checks import assert_serves

pytestmark = pytest.mark.wharf_only(reason="Wharf's SQLite state database")


def _database(broker: Broker):
    return broker.workdir / "data" / "wharf.db"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_database_is_moved_aside(broker: Broker, mqtt, damage: str) -> None:
    publisher = mqtt()
    publisher.publish("recovery/retained", b"before", 1, retain=True)
    broker.stop()

    path = _database(broker)
    original = path.read_bytes()
    assert original.startswith(b"SQLite format 3\x00"), "wharfd keeps its state in SQLite"
    for extra in (path.with_name("wharf.db-wal"), path.with_name("wharf.db-shm")):
        extra.unlink(missing_ok=True)
    if damage == "garbage":
        path.write_bytes(b"this is not a database, it is a sandwich\n" * 512)
    else:
        path.write_bytes(original[:100])

    broker.start()
    assert_serves(broker)
    moved = sorted(path.parent.glob("wharf.db.corrupt-*"))
    assert [p.name for p in moved if not p.name.endswith(("-wal", "-shm"))], f"nothing moved aside in {path.parent}"
    log = broker.log()
    assert "corrupt" in log.lower() and str(path) in log, log[-3000:]
    # The fresh database works: state written now survives a restart.
    mqtt().publish("recovery/retained", b"after", 1, retain=True)
    broker.restart()
    assert_serves(broker)
    reader = mqtt()
    reader.subscribe("recovery/retained", 1)
    [message] = reader.messages.wait(1, topic="recovery/retained")
    assert message.payload == b"after"
