"""The phone's registration checks (pwa/js/checks.js, run in Chromium) answer as the server's
validators do, example by example: a rule changed on one side only fails here."""
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

from marshmallow import ValidationError

from server.schemas.common import Past
from server.schemas.validators import (
    ID_CHECK,
    ID_WEIGHTS,
    birth_against_id_problem,
    id_number_problem,
    validate_phone,
)

PWA = Path(__file__).resolve().parents[2] / "pwa"
ORIGIN = "http://phone.test"


def checked(first17: str) -> str:
    """An ID number of `first17` digits with its right check digit."""
    return first17 + ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


GOOD = [checked("43010120150101002"), checked("11010519491231002"), checked("43012420160229001"),
        checked("43012420000229001"), checked("44030619991231123")]
ID_NUMBERS = [
    *GOOD, *map(wrong_check, GOOD),
    GOOD[1].lower(), f"  {GOOD[0]} ", f"\u3000{GOOD[0]}", f"{GOOD[0]}\n", f"{GOOD[0]}\ufeff",
    GOOD[0][:17], GOOD[0] + "1", "123456", "", "X" * 18, GOOD[0][:8] + " " + GOOD[0][9:],
    GOOD[0][:17] + "Y", "X" + GOOD[0][1:],
    checked("43010120190229001"),  # 29 February of a common year
    checked("43010119000229001"),  # 1900 was not a leap year
    checked("43010120151301001"), checked("43010120150100001"), checked("43010120150431001"),
    checked("43010100000101001"),  # year 0
    "".join(chr(ord(d) + 0xFEE0) for d in GOOD[0]),  # full-width digits: made plain before the check
    "".join(chr(ord(d) + 0xFEE0) for d in GOOD[1]).lower(),
]
PHONES = [
    "13800000000", "19912345678", "12800000000", "10800000000", "1380000000", "138000000000",
    "+8613800000000", "8613800000000", "+86 138-0000-0000", "138 0000 0000", "\u3000138 0000 0000",
    "138\t0000\u30000000", "13800000000\ufeff", "+86-13800000000", "+008613800000000", "086 13800000000",
    "0731-84567890", "010-1234567", "010-123456", "0731-845678901", "07318456789", "021 6123 4567",
    "+86 0731 8456 7890", "1380000000x", "", "-", "１３８００００００００", "０７３１－８４５６７８９０",
]


def birth_dates() -> list[str]:
    latest = (datetime.now(UTC) + timedelta(hours=14)).date()
    return ["2015-01-01", "1900-01-01", "1899-12-31", "2016-02-29", "2019-02-29", "2015-1-1",
            "2015-01-01\n", "2015-13-01", "2015-01-32", "0000-01-01", "15-01-01", "2015/01/01", "",
            "20150101", "2100-01-01", str(latest - timedelta(days=2)), str(latest + timedelta(days=2))]


def server_says(check, value: str) -> str | None:
    try:
        check(value)
    except ValidationError as err:
        return err.messages[0]
    return None


def server_phone(value: str) -> str | None:
    return server_says(validate_phone, value)


def server_birth(value: str) -> str | None:
    return server_says(Past().deserialize, value)


ON_PHONE = """async ([examples]) => {
  const m = await import('/js/checks.js');
  const check = { id: m.idNumberProblem, phone: m.phoneProblem, birth: m.birthDateProblem };
  return examples.map(([kind, raw]) => {
    const sent = m.plain(raw);
    return { raw, sent, asTyped: check[kind](raw), asSent: check[kind](sent) };
  });
}"""


def in_chromium(browser, script: str, argument):
    """Run `script` on a page that serves the app's modules (no server, no service worker)."""
    page = browser.new_page()

    def serve(route):
        path = PWA / route.request.url.removeprefix(ORIGIN).lstrip("/")
        if path.suffix == ".js" and path.is_file():
            route.fulfill(path=str(path), content_type="text/javascript; charset=utf-8")
        else:
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>checks</title>")
    page.route(f"{ORIGIN}/**", serve)
    page.goto(ORIGIN + "/")
    try:
        return page.evaluate(script, argument)
    finally:
        page.close()


def phone_answers(browser, examples: list[tuple[str, str]]) -> list[dict]:
    """Each example checked in Chromium by the app's own module, as typed and as the form sends it."""
    return in_chromium(browser, ON_PHONE, [examples])


def test_the_phone_refuses_in_a_registration_what_the_server_refuses(browser):
    server = {"id": id_number_problem, "phone": server_phone, "birth": server_birth}
    examples = ([("id", v) for v in ID_NUMBERS] + [("phone", v) for v in PHONES]
                + [("birth", v) for v in birth_dates()])
    answers = phone_answers(browser, examples)
    wrong = []
    for (kind, raw), answer in zip(examples, answers, strict=True):
        # What the form checks is what it sends: the two must agree on it, message and all.
        if answer["asSent"] != server[kind](answer["sent"]):
            wrong.append((kind, raw, "sent", answer["sent"], answer["asSent"], server[kind](answer["sent"])))
        # As typed, too; but for a digit other than ASCII the phone may only be the stricter.
        ascii_digits = not any(c.isdigit() and not c.isascii() for c in raw)
        if (answer["asTyped"] != server[kind](raw)) if ascii_digits else answer["asTyped"] is None:
            wrong.append((kind, raw, "typed", answer["asTyped"], server[kind](raw)))
    assert not wrong, wrong
    # The table holds both answers of each rule, the refusals in every wording the server has.
    said = {(kind, server[kind](answer["sent"])) for (kind, _), answer in zip(examples, answers, strict=True)}
    assert said >= {("id", None), ("phone", None), ("birth", None), ("phone", "电话号码格式不正确"),
                    ("id", "身份证号码应为 18 位（末位可为 X）"), ("id", "身份证号码校验位不正确"),
                    ("id", "身份证号码中的出生日期无效"), ("birth", "日期格式应为 YYYY-MM-DD"),
                    ("birth", "日期应在 1900 年到今天之间")}
    # Full-width digits, as a Chinese keyboard may give them, are taken once made plain.
    assert [a["asSent"] for a in answers[len(ID_NUMBERS) - 2:len(ID_NUMBERS)]] == [None, None]
    assert answers[PHONES.index("１３８００００００００") + len(ID_NUMBERS)]["asSent"] is None


PAIRS = [(GOOD[0], "2015-01-01"), (GOOD[0], "2015-1-1"), (GOOD[0], "2015-01-02"), (GOOD[0], "2014-01-01"),
         (GOOD[1], "1949-12-31"), (GOOD[1].lower(), "1949-12-30"), (f" {GOOD[2]} ", "2016-02-29"),
         (GOOD[2], "2016-03-01"), (wrong_check(GOOD[0]), "2016-01-01"), (GOOD[0], "2015-13-01"),
         ("", "2015-01-01"), (GOOD[0], ""), ("".join(chr(ord(d) + 0xFEE0) for d in GOOD[0]), "2015-01-03")]

BOTH_ON_PHONE = """async ([pairs]) => {
  const m = await import('/js/checks.js');
  return pairs.map(([id, birth]) => m.birthAgainstIdProblem(id, birth));
}"""


def test_the_phone_refuses_a_birth_date_the_id_number_contradicts_as_the_server_does(browser):
    """registry._check_birth_against_id: the server checks the pair as the form sends it (the ID
    number made plain, the birth date a date); the phone must say the same of each pair."""
    phone = in_chromium(browser, BOTH_ON_PHONE, [PAIRS])

    def server(id_number: str, birth: str) -> str | None:
        try:
            born = Past().deserialize(birth) if birth else None
        except ValidationError:
            return None
        plain = unicodedata.normalize("NFKC", id_number).strip().upper()
        return birth_against_id_problem(plain or None, born)
    assert phone == [server(*pair) for pair in PAIRS]
    assert phone.count("出生日期与身份证号码中的出生日期不一致") == 5 and phone.count(None) == 8
