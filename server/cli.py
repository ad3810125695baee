"""Command-line commands: setup-town, create-user, reset-password, demo-data, keys rotate, audit verify,
prune-tombstones, age-out, recount.

Each runs in an app context of its own (with_appcontext), so it also works from
`app.test_cli_runner()` and any other click invoker, not only from the `flask` command.
"""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .crypto import FieldCipher, load_keyring
from .extensions import db


def _password(label: str, from_stdin: bool) -> str:
    """A password from standard input's first line, or typed twice at a hidden prompt."""
    return (sys.stdin.readline().rstrip("\n") if from_stdin
            else click.prompt(label, hide_input=True, confirmation_prompt=True))


@click.command("setup-town")
@click.argument("town_file", type=click.File("rb"))
@with_appcontext
def setup_town_command(town_file):
    """Set up the town's villages, grids and units from a JSON town file (run again to add more)."""
    import json

    from marshmallow import ValidationError

    from .errors import ApiError, flat_fields
    from .schemas.town_setup import TownSetupSchema
    from .services.town_setup import set_up_town

    try:
        data = TownSetupSchema().load(json.loads(town_file.read().decode("utf-8-sig")))  # Notepad's BOM
        done = set_up_town(data)
    except UnicodeDecodeError as err:
        raise click.ClickException(f"镇的设置文件应为 UTF-8 编码：第 {err.start + 1} 个字节无法读取") from None
    except json.JSONDecodeError as err:
        where = f"第 {err.lineno} 行第 {err.colno} 列"
        raise click.ClickException(f"镇的设置文件不是有效的 JSON：{where}") from None
    except ValidationError as err:
        raise click.ClickException(_said(flat_fields(err.messages))) from None
    except ApiError as err:
        raise click.ClickException(_said(err.fields or {}) or err.message) from None
    added, totals = done["added"], done["totals"]
    click.echo(f"{done['town']}：新增村（社区）{added['villages']} 个、网格 {added['grids']} 个、"
               f"单位 {added['units']} 个；现有村（社区）{totals['villages']} 个、网格 {totals['grids']} 个、"
               f"单位 {totals['units']} 个")


def _said(fields: dict) -> str:
    return "；".join(f"{name}: {'，'.join(messages)}" for name, messages in fields.items())


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(
    ["grid_worker", "village_head", "inspector", "police", "town_admin"]))
@click.option("--village", help="village id or name")
@click.option("--grid", "grids", multiple=True, help="grid id or name (repeatable)")
@click.option("--unit", help="unit id or name")
@click.option("--name", "display_name", help="display name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def create_user_command(username, role, village, grids, unit, display_name, password_stdin):
    """Create an account."""
    from .errors import ApiError
    from .services.users import create_user

    password = _password("密码", password_stdin)
    data = {"username": username, "password": password, "role": role,
            "display_name": display_name or username, "grid_ids": list(grids)}
    if village:
        data["village_id"] = village
    if unit:
        data["unit_id"] = unit
    try:
        user = create_user(None, data)
    except ApiError as err:
        raise click.ClickException(f"{err.message} {err.fields or ''}".strip()) from None
    click.echo(f"created {user.username} ({user.role})")


@click.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the new password from standard input")
@with_appcontext
def reset_password_command(username, password_stdin):
    """Set a new password for an account whose user forgot it (a town admin's own, say); its sessions end."""
    from .errors import ApiError
    from .services import users

    password = _password("新密码", password_stdin)
    try:
        users.reset_password(None, users.id_of(username), password)
    except ApiError as err:
        raise click.ClickException(f"{err.message} {err.fields or ''}".strip()) from None
    click.echo(f"password of {username.strip()} reset; its sessions ended")


@click.command("demo-data")
@click.option("--seed", default=1, show_default=True)
@click.option("--scale", default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing when a town already exists")
@click.option("--no-activity", is_flag=True,
              help="the town and its people only, without the past month's field work")
@with_appcontext
def demo_data_command(seed, scale, if_empty, no_activity):
    """Load an invented demo town into an empty database and print each demo login."""
    from .services.demo.load import load_demo_town, town_exists

    if town_exists():
        if if_empty:
            click.echo("a town is already set up; no demo loaded")
            return
        # One town a database: a second would give its demo town admin every real record.
        raise click.ClickException("已有镇的数据，演示数据只能载入空的数据库")
    logins = load_demo_town(seed=seed, scale=scale, activity=not no_activity)
    click.echo("演示账号（仅用于演示，数据均为虚构）：")
    for login in logins:
        click.echo(f"  {login['role']:<13} {login['username']:<14} {login['password']}")


@click.group("keys")
def keys_group():
    """Master key commands."""


@keys_group.command("rotate")
@with_appcontext
def keys_rotate_command():
    """Re-encrypt everything to a new key version; rerun after an interruption to resume."""
    from .services import keys

    keyring = current_app.extensions["hulei_cipher"].keyring
    added = keys.start_rotation(keyring)
    if added is not None:
        keyring = load_keyring(None, str(keyring.source_file))
        current_app.extensions["hulei_cipher"] = FieldCipher(keyring)
        click.echo(f"added key version {added} to {keyring.source_file}")
    elif len(keyring.keys) == 1:
        raise click.ClickException(
            "HULEI_MASTER_KEY holds one key: add the new one as 'N:BASE64,1:OLD' "
            "(or use HULEI_MASTER_KEY_FILE) and run again")
    result = keys.rotate_all(current_app.config["ROTATE_BATCH_SIZE"],
                             current_app.config["ROTATE_PAUSE_SECONDS"])
    if result["remaining"]:
        raise click.ClickException(f"{result['remaining']} values still use an old key; run again")
    keys.finish_rotation(keyring)
    click.echo(f"all values now use key version {result['version']}")
    if keyring.source_file is None:
        click.echo("remove the old key versions from HULEI_MASTER_KEY")


@click.group("audit")
def audit_group():
    """Audit chain commands."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command():
    """Verify the audit chain; exit 1 naming the first event that breaks it."""
    from .services.audit import verify_chain

    result = verify_chain()
    if result["ok"]:
        click.echo(f"ok: {result['events']} events, head {result['head']}")
        return
    broken = result["broken_at"]
    where = f"event {broken['seq']}" if broken["seq"] is not None else "report"
    click.echo(f"BROKEN at {where} ({broken['id']}): {broken['problem']}", err=True)
    db.session.rollback()
    sys.exit(1)


@click.command("prune-tombstones")
@with_appcontext
def prune_tombstones_command():
    """Drop delete and evict rows older than SYNC_TOMBSTONE_DAYS, and the places left up to them
    (`make run` does it at each start; run it daily from cron on a server that runs for weeks); a
    cursor from before them must resync."""
    from .sync.pull import prune_tombstones

    days = current_app.config["SYNC_TOMBSTONE_DAYS"]
    click.echo(f"pruned {prune_tombstones(days)} tombstones older than {days} days")


@click.command("age-out")
@with_appcontext
def age_out_command():
    """Mark children who turned 18 aged out (`make run` does it at each start; run it daily from
    cron on a server that runs for days)."""
    from .services import ageing, schedule

    click.echo(f"{ageing.age_out(schedule.local_today())} children aged out at 18")


@click.command("recount")
@with_appcontext
def recount_command():
    """Set each child's last visit and schedule, and each venue's last inspection, from the visits and
    inspections that stand, where the stored one differs, the follow-ups of each child stored
    before they were kept, and every child's assessment once new risk rules are in force (`make run`
    does it at each start)."""
    from .services import recount

    children, venues = recount.recount_last_visits(), recount.recount_last_inspections()
    follow_ups = recount.work_out_follow_ups()
    reassessed = recount.assess_under_new_rules()
    click.echo(f"{children} children and {venues} venues recounted; "
               f"follow-ups worked out for {follow_ups} children; "
               f"{reassessed} children changed under new risk rules")


COMMANDS = (setup_town_command, create_user_command, reset_password_command, demo_data_command, keys_group,
            audit_group, prune_tombstones_command, age_out_command, recount_command)
