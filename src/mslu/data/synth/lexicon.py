"""The shared concept space of the synthetic sign languages, with English, German and Chinese words.

Every concept has a key, a category and per-language word forms. The three synthetic sign languages
pick their vocabularies from this one concept space (so their texts share meaning), but each has its
own sign for a concept (see :mod:`mslu.data.synth.prototypes`) and its own sign order
(see :mod:`mslu.data.synth.grammar`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT_LANGS = ("en", "de", "zh")


@dataclass(frozen=True)
class Concept:
    """One meaning. ``lemma`` is the citation form per text language (used for glosses and the
    isolated-sign template); ``forms`` holds the inflected forms the grammar needs."""

    key: str
    category: str  # person, animal, food, drink, object, place, abstract, verb, say, adj, weather, time
    lemma: dict[str, str]
    forms: dict[str, object] = field(default_factory=dict)
    args: tuple[str, ...] = ()  # verbs: object categories; adjectives: subject categories


_NOUNS = """
person mother Mutter f 妈妈|father Vater m 爸爸|brother Bruder m 哥哥|sister Schwester f 姐姐
person child Kind n 孩子|friend Freund m 朋友|teacher Lehrerin f 老师|doctor Arzt m 医生
person grandmother Oma f 奶奶|grandfather Opa m 爷爷|boy Junge m 男孩|girl Mädchen n 女孩
person neighbour Nachbar m 邻居|student Student m 学生|baby Baby n 宝宝
animal dog Hund m 狗|cat Katze f 猫|bird Vogel m 鸟|horse Pferd n 马|fish Fisch m 鱼|cow Kuh f 牛
food bread Brot n 面包|apple Apfel m 苹果|rice Reis m 米饭|soup Suppe f 汤|cake Kuchen m 蛋糕
food cheese Käse m 奶酪|egg Ei n 鸡蛋|meat Fleisch n 肉|banana Banane f 香蕉|potato Kartoffel f 土豆
food salad Salat m 沙拉
drink milk Milch f 牛奶|tea Tee m 茶|coffee Kaffee m 咖啡|water Wasser n 水|juice Saft m 果汁|beer Bier n 啤酒
object book Buch n 书|car Auto n 车|ball Ball m 球|letter Brief m 信|phone Telefon n 手机
object photo Foto n 照片|table Tisch m 桌子|chair Stuhl m 椅子|bag Tasche f 包|key Schlüssel m 钥匙
object clock Uhr f 钟|computer Computer m 电脑|bicycle Fahrrad n 自行车|door Tür f 门|window Fenster n 窗户
place school Schule f 学校|house Haus n 房子|city Stadt f 城市|park Park m 公园
place hospital Krankenhaus n 医院|station Bahnhof m 车站|shop Laden m 商店|garden Garten m 花园
place library Bibliothek f 图书馆|church Kirche f 教堂
abstract weather Wetter n 天气
"""

# key en-3sg de-lemma de-3sg zh object-categories (or object concept keys)
_VERBS = """
eat eats essen isst 吃 food
drink drinks trinken trinkt 喝 drink
cook cooks kochen kocht 做 food
buy buys kaufen kauft 买 food,drink,object
sell sells verkaufen verkauft 卖 food,drink,object
see sees sehen sieht 看见 person,animal,object,place
like likes mögen mag 喜欢 person,animal,food,drink,object,place
visit visits besuchen besucht 访问 person,place
find finds finden findet 找到 animal,object
carry carries tragen trägt 拿 object,food,drink
wash washes waschen wäscht 洗 object,animal
read reads lesen liest 读 book,letter
write writes schreiben schreibt 写 letter,book
need needs brauchen braucht 需要 food,drink,object
want wants möchten möchte 想要 food,drink,object
love loves lieben liebt 爱 person,animal
meet meets treffen trifft 见 person
draw draws malen malt 画 animal,object,place
"""

# verbs that take a subordinate clause ("X says that ...")
_SAY = """
say says sagen sagt 说
think thinks denken denkt 觉得
know knows wissen weiß 知道
"""

# key de zh subject-categories
_ADJS = """
good gut 好 food,drink,object,place,abstract
bad schlecht 坏 food,drink,object,abstract
big groß 大 animal,object,place
small klein 小 animal,object,place
beautiful schön 漂亮 object,place,abstract,animal
new neu 新 object,place
old alt 老 person,animal,object
hot heiß 热 food,drink,abstract
cold kalt 冷 food,drink,abstract
happy glücklich 高兴 person,animal
sad traurig 难过 person,animal
tired müde 累 person,animal
hungry hungrig 饿 person,animal
expensive teuer 贵 food,drink,object
cheap billig 便宜 food,drink,object
"""

# key | en clause | de lemma | de subject, finite verb, rest | zh
_WEATHER = """
rain|it is raining|Regen|es,regnet,|下雨
snow|it is snowing|Schnee|es,schneit,|下雪
wind|it is windy|Wind|es,ist,windig|刮风
sun|the sun is shining|Sonne|die Sonne,scheint,|出太阳
thunder|it is thundering|Donner|es,donnert,|打雷
fog|it is foggy|Nebel|es,ist,neblig|有雾
"""

# key | en phrase | de lemma | de phrase | zh
_TIMES = """
today|today|heute|heute|今天
tomorrow|tomorrow|morgen|morgen|明天
now|now|jetzt|jetzt|现在
everyday|every day|täglich|jeden Tag|每天
morning|in the morning|morgens|morgens|早上
evening|in the evening|abends|abends|晚上
sunday|on Sunday|Sonntag|am Sonntag|星期天
night|at night|nachts|nachts|夜里
"""


def _build() -> tuple[Concept, ...]:
    out: list[Concept] = []
    for line in _NOUNS.strip().splitlines():
        cat, first = line.split(" ", 1)
        for entry in first.split("|"):
            en, de, gender, zh = entry.split()
            out.append(Concept(en, cat, {"en": en, "de": de, "zh": zh}, {"gender": gender}))
    for line in _VERBS.strip().splitlines():
        key, en3, de, de3, zh, cats = line.split()
        out.append(
            Concept(
                key, "verb", {"en": key, "de": de, "zh": zh}, {"en": en3, "de": de3}, tuple(cats.split(","))
            )
        )
    for line in _SAY.strip().splitlines():
        key, en3, de, de3, zh = line.split()
        out.append(Concept(key, "say", {"en": key, "de": de, "zh": zh}, {"en": en3, "de": de3}))
    for line in _ADJS.strip().splitlines():
        key, de, zh, cats = line.split()
        out.append(Concept(key, "adj", {"en": key, "de": de, "zh": zh}, {}, tuple(cats.split(","))))
    for line in _WEATHER.strip().splitlines():
        key, en, de_lemma, de, zh = line.split("|")
        out.append(
            Concept(
                key, "weather", {"en": key, "de": de_lemma, "zh": zh}, {"en": en, "de": tuple(de.split(","))}
            )
        )
    for line in _TIMES.strip().splitlines():
        key, en, de_lemma, de, zh = line.split("|")
        out.append(Concept(key, "time", {"en": en, "de": de_lemma, "zh": zh}, {"en": en, "de": de}))
    keys = [c.key for c in out]
    assert len(set(keys)) == len(keys), "duplicate concept keys"
    return tuple(out)


CONCEPTS: tuple[Concept, ...] = _build()
CONCEPT_INDEX: dict[str, int] = {c.key: i for i, c in enumerate(CONCEPTS)}
NOUN_CATEGORIES = ("person", "animal", "food", "drink", "object", "place", "abstract")
