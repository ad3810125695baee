"""Times from the phone (+08:00) and from the server (UTC) are ordered as moments: a visit saved on the
phone at 07:00 Beijing time is older than one the server stamped 23:30 UTC the evening before, though
its text sorts after it."""
from .test_register_checks import in_chromium

ORDERED = """async () => {
  const ui = await import('/js/ui.js');
  const visits = [
    { id: 'phone-0700', visited_at: '2026-12-02T07:00:00+08:00' },      // 2026-12-01 23:00 UTC
    { id: 'server-2330', visited_at: '2026-12-01T23:30:00.123456+00:00' },
    { id: 'server-0100', visited_at: '2026-12-02T01:00:00Z' },
    { id: 'phone-0859', visited_at: '2026-12-02T08:59:00+08:00' },      // 00:59 UTC
  ];
  return { oldest: [...visits].sort(ui.byTime('visited_at')).map((v) => v.id),
           newest: [...visits].sort(ui.byTimeNewest('visited_at')).map((v) => v.id) };
}"""


def test_times_with_different_offsets_are_ordered_as_moments(browser):
    order = in_chromium(browser, ORDERED, None)
    assert order == {"oldest": ["phone-0700", "server-2330", "phone-0859", "server-0100"],
                     "newest": ["server-0100", "phone-0859", "server-2330", "phone-0700"]}
