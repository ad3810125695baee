"""Ids load as canonical UUID text, whatever form of a UUID the client sent."""
import pytest
from marshmallow import Schema, ValidationError

from server.schemas.common import Uuid

CANONICAL = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


class IdSchema(Schema):
    id = Uuid(required=True)


@pytest.mark.parametrize("sent", [
    CANONICAL, CANONICAL.upper(), "{" + CANONICAL + "}", CANONICAL.replace("-", ""),
    "urn:uuid:" + CANONICAL])
def test_every_form_of_one_uuid_loads_as_its_canonical_text(sent):
    assert IdSchema().load({"id": sent}) == {"id": CANONICAL}


@pytest.mark.parametrize("sent", [
    "1b4e28ba-2fa1-11d2-883f-0016d3cca42g", "1b4e28ba-2fa1-11d2-883f-0016d3cca42",
    CANONICAL + "0", CANONICAL + "\n", " " + CANONICAL, "", 12345, None, ["x"]])
def test_anything_else_is_refused(sent):
    with pytest.raises(ValidationError) as refused:
        IdSchema().load({"id": sent})
    assert list(refused.value.messages) == ["id"]
