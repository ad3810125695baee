"""Invented Chinese name pools and naming helpers for the demo-data generator."""

from __future__ import annotations

import random
from itertools import accumulate


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(" ".join(lines).split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘"
    "袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦"
    "邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_WEIGHTS = tuple(accumulate(1.0 / (i + 8) for i in range(len(SURNAMES))))

CHILD_GIVEN_M = _words(
    "子轩 浩然 宇航 梓豪 俊杰 一鸣 博文 子墨 浩宇 天佑",
    "明轩 思远 宇轩 晨阳 家乐 嘉懿 俊熙 睿泽 皓轩 奕辰",
    "沐阳 铭宇 子睿 瑞霖 梓睿 文博 志鹏 俊豪 雨泽 锦程",
)
CHILD_GIVEN_F = _words(
    "梓涵 欣怡 一诺 诗涵 雨桐 可馨 语嫣 紫萱 思琪 梦瑶",
    "佳怡 若曦 雅琪 欣妍 子涵 晓彤 雨萱 心怡 婉清 静怡",
    "芷若 思彤 嘉欣 悦然 梓萱 沐晴 安琪 诗琪 艺涵 可欣",
)
CHILD_FIRST_M = "子浩宇俊博嘉睿志文明天家思皓晨铭"
CHILD_SECOND_M = "轩然航杰豪宇博涛鹏辰阳泽霖瑞凯"
CHILD_FIRST_F = "梓欣诗雨可语紫思梦佳若雅晓心婉"
CHILD_SECOND_F = "涵怡桐馨嫣萱琪瑶妍曦彤清晴悦琳"
CHILD_SINGLE_M = "浩杰宇鹏磊涛凯轩博睿"
CHILD_SINGLE_F = "琪怡婷雪萱悦涵瑶琳妍"

ADULT_GIVEN_M = _words(
    "建国 国强 志强 建华 卫东 海军 伟 勇 军 斌",
    "红兵 永红 德明 光辉 志刚 建军 春生 立新 新民 明亮",
    "桂生 金山 长青 文华 国平 小兵 海波 超 磊 鹏",
)
ADULT_GIVEN_F = _words(
    "秀英 桂兰 玉兰 秀兰 丽 芳 娟 红梅 春梅 海燕",
    "桂英 玉梅 小红 丽华 美华 凤英 翠兰 艳 霞 敏",
    "金凤 淑珍 冬梅 小芳 丽娟 秀珍 雪梅 彩霞 晓燕 桂芝",
)

TOWN_NAMES = _words("清河镇 柳溪镇 云塘镇 新市镇 白沙镇 杨林镇 荷塘镇 长乐镇")

FIXED_VILLAGES = (
    ("治河渡村", "village"),
    ("柳树湾村", "village"),
    ("东门社区", "community"),
    ("石桥村", "village"),
    ("桃花冲村", "village"),
    ("新华社区", "community"),
    ("枫林村", "village"),
    ("白沙洲村", "village"),
)
PLACE_FIRST = "柳桃枫杨松竹梅荷莲桂石沙泉溪河湖塘港桥渡茶花枣栗槐柏樟青黄白红金"
PLACE_SECOND = "树林山水源园坡田湖叶木溪岭石坝冈"
PLACE_THIRD = "湾冲坪岗铺垸洲桥塘坳港岭咀口"
COMMUNITY_WORDS = _words(
    "东门 西门 南街 北街 新华 建设 人民 解放 朝阳 滨江 和平 文昌 迎宾 胜利 幸福 光明 育才 长安",
)
STREETS = _words("建设路 人民路 解放路 新华街 文化路 滨江路 朝阳路 育才巷")

WORK_PLACES = _words("广东 浙江 上海 福建 江苏 深圳 长沙 武汉")
MOVE_PLACES = ("长沙", "岳阳", "武汉", "广州", "株洲", "常德")
HOME_PLACES = ("湖北", "江西", "邵阳", "常德", "益阳", "衡阳")

VENUE_WORDS = _words(
    "星际 极速 金嗓子 蓝海 悦来 福满 红枫 银河 天韵 欢乐",
    "新世纪 凯旋 云端 朝阳 和顺 聚友 星光 乐享 佳美 鸿运",
    "盛世 华庭 逸家 龙腾 宏达 春晖 雅居 启航 飞扬 畅想",
)
VENUE_SUFFIXES = {
    "hotel": ("宾馆", "旅馆", "大酒店", "商务酒店", "客栈"),
    "esports_hotel": ("电竞酒店", "电竞宾馆", "电竞公寓"),
    "cinema": ("影城", "电影院", "影院"),
    "internet_cafe": ("网咖", "网吧", "网络会所"),
    "bar": ("酒吧", "清吧", "音乐酒吧"),
    "ktv": ("KTV", "量贩KTV", "歌城"),
    "other": ("桌游馆", "剧本杀馆", "台球室", "游戏厅", "密室逃脱"),
}

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Return the Chinese numeral for 1 <= n <= 99 (e.g. 12 -> 十二)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def pick_surname(rng: random.Random, avoid: str = "") -> str:
    """Pick a surname weighted towards common ones, different from `avoid`."""
    while True:
        name = rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS)[0]
        if name != avoid:
            return name


def child_given_name(rng: random.Random, sex: str) -> str:
    """Return a plausible modern given name (1-2 characters) for a child."""
    r = rng.random()
    male = sex == "M"
    if r < 0.5:
        return rng.choice(CHILD_GIVEN_M if male else CHILD_GIVEN_F)
    if r < 0.85:
        first, second = (
            (CHILD_FIRST_M, CHILD_SECOND_M) if male else (CHILD_FIRST_F, CHILD_SECOND_F)
        )
        return rng.choice(first) + rng.choice(second)
    return rng.choice(CHILD_SINGLE_M if male else CHILD_SINGLE_F)


def adult_name(rng: random.Random, surname: str, sex: str) -> str:
    """Return a full name for an adult with the given surname and sex."""
    return surname + rng.choice(ADULT_GIVEN_M if sex == "M" else ADULT_GIVEN_F)


def village_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Return `count` unique (name, kind) pairs for villages and communities."""
    result = list(FIXED_VILLAGES[:count])
    used = {name for name, _ in result}
    attempts = 0
    while len(result) < count:
        attempts += 1
        if rng.random() < 0.2:
            base, kind, suffix = rng.choice(COMMUNITY_WORDS), "community", "社区"
        else:
            base = rng.choice(PLACE_FIRST) + rng.choice(PLACE_SECOND + PLACE_THIRD)
            if rng.random() < 0.5:
                base += rng.choice(PLACE_THIRD)
            kind, suffix = "village", "村"
        name = base + suffix
        if name in used and attempts > 50:
            name = f"{base}{chinese_number(rng.randint(2, 9))}{suffix}"
        if name not in used:
            used.add(name)
            result.append((name, kind))
            attempts = 0
    return result
