"""Record ids made by the server: random version 4 UUIDs in canonical text."""
import uuid

from server.models import new_id


def test_new_ids_are_distinct_random_version_4_uuids_as_canonical_text():
    ids = [new_id() for _ in range(20000)]
    assert len(set(ids)) == len(ids)
    for made in ids:
        parsed = uuid.UUID(made)
        assert (str(parsed), parsed.version, parsed.variant) == (made, 4, uuid.RFC_4122)
    # The variant's two free bits and the random digits around the fixed ones all vary.
    assert {made[19] for made in ids} == set("89ab")
    assert {made[15] for made in ids} == set("0123456789abcdef")
    assert {made[20] for made in ids} == set("0123456789abcdef")
