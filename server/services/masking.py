"""Mask identifiers and names for every answer and export, and who sees people's names masked."""

# DESIGN: the town office sees "children masked unless revealed with a reason"; so it sees
# every person's name in the records masked, as in its ledgers.
NAMES_MASKED_FOR = ("town_admin",)
# A child's pinyin initials (oymy) would spell out the characters a masked name (欧**月) hides.
_NAME_FIELDS = {"child": ("name", "name_initials"), "venue": ("contact_name",), "staff_check": ("person_name",)}


def mask_id_number(value: str | None) -> str | None:
    """Keep the 6-digit region code and the last four: 430621********1234."""
    if not value:
        return value
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 4, 0) + value[-2:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """Keep the first three and last four digits: 138****5678."""
    if not value:
        return value
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """Keep the first and last character of a name: 张*明, 李*."""
    if not value:
        return value
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# A clue's subject: the child as the register has it, and what a minor found in a venue said.
_SUBJECT_MASKS = {"name": mask_name, "stated_name": mask_name, "stated_id_number": mask_id_number}


def masks_names(actor) -> bool:
    """Say whether `actor` sees people's names masked."""
    return getattr(actor, "role", None) in NAMES_MASKED_FOR


def name_for(actor, name: str | None) -> str | None:
    """Return a person's name as `actor` sees it."""
    return mask_name(name) if masks_names(actor) else name


def masked_for(actor, entity: str, data: dict | None) -> dict | None:
    """Return a record as dumped, with people's names masked when `actor` sees them so."""
    if data is None or not masks_names(actor):
        return data
    shown = dict(data)
    for name in _NAME_FIELDS.get(entity, ()):
        if name in shown:
            shown[name] = mask_name(shown[name])
    if entity == "clue" and shown.get("subject"):
        shown["subject"] = {key: _SUBJECT_MASKS[key](value) if key in _SUBJECT_MASKS else value
                            for key, value in shown["subject"].items()}
    if entity == "household" and shown.get("guardians"):
        shown["guardians"] = [{**g, "name": mask_name(g.get("name"))} for g in shown["guardians"]]
    return shown
