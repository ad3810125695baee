"""Risk levels, risk reasons and case notes for invented demo children."""

from __future__ import annotations

import random

from server.services.demo import names

CATEGORY_REASONS = {
    "left_behind": "guardian_away",
    "migrant": "unstable_residence",
    "single_parent": "single_guardian",
    "reconstituted": "family_conflict",
    "troubled_family": "domestic_violence_alcohol",
    "disadvantaged": "economic_hardship",
    "disabled": "disabled",
}
HIGH_P = {"troubled_family": 0.32, "disabled": 0.12, "reconstituted": 0.07}
MEDIUM_P = {
    "troubled_family": 0.40,
    "disabled": 0.30,
    "reconstituted": 0.25,
    "disadvantaged": 0.24,
}


def draw_risk(
    rng: random.Random, categories: list[str], age: int
) -> tuple[str, list[str]]:
    """Return (risk_level, risk_reasons) drawn from the child's categories and age."""
    if not categories:
        return "low", []
    p_high = max([HIGH_P.get(c, 0.055) for c in categories])
    p_med = max([MEDIUM_P.get(c, 0.22) for c in categories])
    u = rng.random()
    if u >= p_high + p_med:
        return "low", []
    reasons = [CATEGORY_REASONS[c] for c in categories]
    generic = ["neglect"] + (["online_risk", "truancy"] if age >= 9 else [])
    if u < p_high:
        severe = ["injury_signs", "neglect"] + (["dropped_out"] if age >= 13 else [])
        if "troubled_family" not in categories:
            severe.append("domestic_violence_alcohol")
        reasons += rng.sample(severe, rng.randint(1, 2))
        level = "high"
    else:
        if rng.random() < 0.4:
            reasons.append(rng.choice(generic))
        level = "medium"
    return level, list(dict.fromkeys(reasons))


def write_note(rng: random.Random, child: dict, family_type: str, carer: str) -> str:
    """Return a short Chinese note about the child, matching its most salient trait."""
    reasons, cats = child["risk_reasons"], child["categories"]
    if child["status"] == "moved_out":
        return f"已随父母迁往{rng.choice(names.MOVE_PLACES)}，转出本镇。"
    if child["status"] == "aged_out":
        return "已满18周岁，退出关爱名单。"
    if "injury_signs" in reasons:
        return "班主任反映孩子身上多次出现淤青，需尽快核实。"
    if "dropped_out" in reasons:
        return "初中阶段辍学在家，需劝返复学。"
    if "domestic_violence_alcohol" in reasons:
        return "父亲长期酗酒，酒后常打骂家人。"
    if "online_risk" in reasons:
        return "沉迷网络游戏，常去网吧过夜。"
    if "disabled" in cats:
        return f"{rng.choice(('听力', '肢体', '智力', '视力'))}残疾，已办理残疾证。"
    if family_type == "left_behind":
        return f"父母在{rng.choice(names.WORK_PLACES)}务工，由{carer}照看。"
    if family_type == "migrant":
        return f"随父母从{rng.choice(names.HOME_PLACES)}迁入，在镇上租房居住。"
    if family_type == "single_parent":
        return f"父母离异，随{carer}生活。"
    if family_type == "reconstituted":
        return f"父母离异后随{carer}生活。"
    if family_type == "troubled":
        return "家庭关系紧张，父母时常争吵。"
    if "disadvantaged" in cats:
        return "家庭经济困难，已纳入低保。"
    return rng.choice(
        ("性格开朗，学习成绩良好。", "家庭和睦，生活正常。", "身体健康，按时入学。")
    )
