"""Grids as people count them: the phone's grid choices read 第一, 第二 … 第十, not 第一, 第七, 第三."""
from server.extensions import db
from server.models import Grid, new_id
from server.services.ordering import chinese_number, natural_key


def test_chinese_numerals_and_digits_order_names_by_their_value():
    assert [chinese_number(t) for t in ("一", "十", "十二", "二十", "二十三", "九十九", "一百零五", "两")] == [
        1, 10, 12, 20, 23, 99, 105, 2]
    ordered = [None, "2组", "10组", "第一网格", "第二网格", "第三网格", "第十网格", "第十二网格",
               "第二十一网格", "网格"]
    shuffled = [ordered[i] for i in (6, 4, 3, 7, 5, 8, 2, 1, 9, 0)]
    assert sorted(shuffled, key=natural_key) == ordered


def test_the_places_a_head_may_choose_list_grids_in_counting_order(app, town, login):
    with app.app_context():
        for name in ("第十网格", "第二网格", "第三网格"):
            db.session.add(Grid(id=new_id(), village_id=town.villages["a"], name=name))
        db.session.commit()
        names = [g.name for g in db.session.get(Grid, town.grids["a1"]).village.grids]
    villages = login("head_a").get("/api/places").get_json()["villages"]
    assert [g["name"] for g in villages[0]["grids"]] == sorted(names, key=natural_key)
    assert [g["name"] for g in villages[0]["grids"] if g["name"].startswith("第")][-3:] == [
        "第二网格", "第三网格", "第十网格"]
