"""Normalisation and tokenisation of Japanese text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import jaconv

_SPACE = re.compile(r"\s+")
# Function words and very light verbs carry no topic; BM25 would only add noise.
_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "接頭辞", "接尾辞"})
_STOP_LEMMAS = frozenset(
    {
        "為る", "する", "有る", "ある", "居る", "いる", "成る", "なる", "言う", "こと", "事", "もの", "物",
        "よう", "様", "ため", "為", "の", "ん", "さん", "くださる", "下さる", "いただく", "頂く", "おる",
        "致す", "いたす", "ござる", "御座る", "思う", "ます", "です", "これ", "それ", "あれ", "此れ",
        "其れ", "どう", "何", "なに", "ちょっと", "お", "ご", "御", "方",
        # 切れそう, 本当にそうなのか, かもしれない: manner and hedges, no topic (an off-topic claimed questions by そう)
        "そう", "知れる",
        # who is asking, in an agent's or a business mail's words (顧客から…と聞かれました, 弊社では…)
        "顧客", "客", "弊社", "貴社", "当社",
        # English function words, for questions typed in English (their content words meet synonyms)
        "a", "an", "the", "i", "me", "my", "we", "our", "you", "your", "it", "its", "this", "that", "is", "are",
        "was", "were", "be", "been", "am", "do", "does", "did", "can", "could", "will", "would", "should", "of",
        "to", "in", "on", "at", "for", "with", "from", "by", "about", "and", "or", "if", "there", "what",
        "please", "still", "how", "which", "who", "whether", "just", "also", "already", "get", "got", "getting",
        "have", "has", "had", "want", "wants", "s", "t", "m", "ve", "ll", "re", "d", "don", "doesn", "didn", "isn",
        "hasn", "haven", "wasn", "weren", "aren", "won", "wouldn", "shouldn", "couldn",
        "but", "so", "any", "some", "up", "as", "like", "under", "through", "actually", "itself", "myself", "they",
        "them", "one", "same", "thing", "way", "tell", "know", "let", "go", "comes", "come", "happens",
        "happen", "now", "formally", "keep", "then",
    }
)
_BOUNDED = frozenset({"何時", "何処"})  # いつ, どこ: with まで or から they ask for one end of a span
_KANA_SHIFT = ord("ァ") - ord("ぁ")
_TO_KATAKANA = {c: c + _KANA_SHIFT for c in range(ord("ぁ"), ord("ゖ") + 1)}
_HIRAGANA_WORD = re.compile("[ぁ-ゖー]+")
_QUOTES = str.maketrans("‘’", "''")  # phones type don’t; the synonyms spell don't
# A dash typed for the long vowel mark inside a katakana word (インスト-ル, メ－ル, ユ-ザ-が): only after a katakana
# letter and before katakana, hiragana, punctuation or the end, so ウイルスバスター-更新 and AB-2024 keep theirs.
_DASH_FOR_LONG_VOWEL = re.compile(r"(?<=[ァ-ヺ])[-‐‑‒–—―](?=[ァ-ヺぁ-ゖ]|[\s、。,.?!]|$)")


class Token(NamedTuple):
    """One morpheme: surface form, dictionary lemma, katakana reading, coarse part of speech."""

    surface: str
    lemma: str
    reading: str
    pos: str


class Tokenizer(Protocol):
    """Anything that splits normalised text into tokens."""

    def tokenize(self, text: str) -> list[Token]: ...


def normalize(text: str) -> str:
    """NFKC (full/half width, era ligatures), lower case, a dash in a katakana word as ー, one space between words."""
    norm = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    return _SPACE.sub(" ", _DASH_FOR_LONG_VOWEL.sub("ー", norm)).strip()


class Names:
    """Names to find in normalised text: each normalised, in katakana and in hiragana (のーとん meets ノートン).
    A name that begins or ends in Latin letters or digits is found only as a whole word there (eset is not in
    reset). A plain substring test goes first, and the word check only where it hits: one pattern of every
    name cost 28 µs a question, this 4 µs.
    """

    def __init__(self, names: Iterable[str]) -> None:
        forms = {f for n in names if (norm := normalize(n))
                 for f in (norm, to_katakana(norm), jaconv.kata2hira(norm))}
        self.forms = tuple(sorted(forms))
        self._bounded = {f: re.compile(_bounded(f)) for f in self.forms if _latin_edge(f)}

    def __bool__(self) -> bool:
        return bool(self.forms)

    def found_in(self, norm: str) -> bool:
        """Whether the normalised text names one of the names."""
        return any(f in norm and (f not in self._bounded or self._bounded[f].search(norm)) for f in self.forms)


def _latin_edge(form: str) -> bool:
    return (form[0].isascii() and form[0].isalnum()) or (form[-1].isascii() and form[-1].isalnum())


def _bounded(form: str) -> str:
    """A name as a pattern, kept from running on into Latin letters or digits at a Latin end."""
    left = r"(?<![a-z0-9])" if form[0].isascii() and form[0].isalnum() else ""
    right = r"(?![a-z0-9])" if form[-1].isascii() and form[-1].isalnum() else ""
    return left + re.escape(form) + right


# A word spelt only in Hepburn or kunrei syllables (koushin, ryoushuusho, kousin), a doubled consonant for っ
_ROMAJI_WORD = re.compile(
    r"(?:([bcdfghjkmprstz])(?=\1)|(?:[kgsztdnhbpmr]y|sh|ch|ts|[kgsztdnhbpmrjfwyv])?[aiueo]|n(?![aiueoy]))+"
)
_LATIN_RUN = re.compile(r"(?<![a-z0-9])[a-z]+(?: [a-z]+)+(?![a-z0-9])")


def romaji_to_kana(norm: str) -> str:
    """Japanese typed in romaji without an IME (「jidou koushin kaiyaku shitai」) as hiragana, so it meets the
    readings. Only a run of two or more words that are all romaji syllables is read: one word alone may be a name
    (Amazon), and English (how to renew) always holds a word that is not.
    """
    return _LATIN_RUN.sub(_romaji_run, norm)


def _romaji_run(run: re.Match[str]) -> str:
    words = run.group().split(" ")
    if not all(_ROMAJI_WORD.fullmatch(w) for w in words):
        return run.group()
    return " ".join(jaconv.alphabet2kana(w) for w in words)


def to_katakana(text: str) -> str:
    """Hiragana to katakana; everything else unchanged."""
    return text.translate(_TO_KATAKANA)


def synonym_replacer(table: Sequence[tuple[str, str]]) -> Callable[[str], str]:
    """One left-to-right, longest-first pass replacing each variant by its canonical word.

    Canonical words match themselves, so a variant that sits inside its own canonical word
    (応当日 in 契約応当日) cannot double it, and replaced text is never scanned again.
    """
    mapping = {variant: canonical for variant, canonical in table}
    mapping.update({canonical: canonical for _, canonical in table})
    # kana-only variants are spelled in hiragana; half-width kana (ｺｳｼﾝﾘｮｳ) arrives as katakana, where MeCab
    # splits native words wrongly (コウシンリョウ → 更新 + リョウ): their katakana spelling maps the same way
    for variant, canonical in table:
        if _HIRAGANA_WORD.fullmatch(variant):
            mapping.setdefault(to_katakana(variant), canonical)
    if not mapping:
        return lambda text: text
    pattern = re.compile(_trie_pattern(mapping))

    def replace(m: re.Match[str]) -> str:
        found, at = m.group(0), m.start()
        # an English variant starts a word: "how much" is not in "show much", "paid" not in "prepaid"
        if at and _latin(found[0]) and _latin(m.string[at - 1]):
            return found
        return mapping[found]

    return lambda text: pattern.sub(replace, text)


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex for the longest of `words` at each position, written as a trie.

    It matches what the alternation of the words longest first matches, but tries one branch per
    character instead of every word: with hundreds of synonyms, long answers are scanned ~10× faster.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def branch(node: dict[str, Any]) -> str:
        alternatives = [re.escape(ch) + branch(child) for ch, child in sorted(node.items()) if ch]
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer word first, then the one ending here

    return branch(trie)


def replace_synonyms(text: str, table: Sequence[tuple[str, str]]) -> str:
    """Replace every variant by its canonical form (compile once with synonym_replacer for speed)."""
    return synonym_replacer(table)(text)


# MeCab writes each token as one line of the fields we read (surface, POS, lemma, reading), so Python splits one
# string instead of building a node object per token: the index build spends most of its time here. Unknown
# words (-U) have no lemma or reading; the last field keeps trailing empty fields from being stripped.
_MECAB_FORMAT = (
    '--output-format-type= -F"%m\\t%f[0]\\t%f[7]\\t%f[20]\\t.\\n" -U"%m\\t%f[0]\\t\\t\\t.\\n" --eos-format='
)


class FugashiTokenizer:
    """MeCab through fugashi with unidic-lite, read from MeCab's own formatted output."""

    def __init__(self) -> None:
        import fugashi  # imported here so tests can swap the tokenizer without loading the dictionary

        self._tagger = fugashi.Tagger(_MECAB_FORMAT)

    def tokenize(self, text: str) -> list[Token]:
        if "\x00" in text:  # MeCab's C string ends there
            return self._tokenize_nodes(text)
        out: list[Token] = []
        for line in self._tagger.parse(text).split("\n"):
            fields = line.split("\t")
            if len(fields) != 5:
                if line:  # a surface holding a tab or newline; normalised text never has one
                    return self._tokenize_nodes(text)
                continue
            surface, pos, lemma, reading, _ = fields
            if reading == "" or reading == "*":
                reading = to_katakana(surface)
            lemma = lemma or surface
            dash = lemma.find("-")  # unidic-lite glosses loanwords: サブスクリプション-subscription
            out.append(Token(surface, lemma[:dash] if dash > 0 else lemma, reading, pos))
        return out

    def _tokenize_nodes(self, text: str) -> list[Token]:
        """The same tokens read node by node (the `feature_raw` path), for text MeCab's lines cannot carry."""
        out: list[Token] = []
        for word in self._tagger.parseToNodeList(text):
            surface = word.surface
            fields = word.feature_raw.split(",")
            lemma, reading = (fields[7] or surface, fields[20]) if len(fields) > 20 else (surface, "")
            if reading == "" or reading == "*":
                reading = to_katakana(surface)
            dash = lemma.find("-")
            out.append(Token(surface, lemma[:dash] if dash > 0 else lemma, reading, fields[0]))
        return out


@dataclass(frozen=True)
class Analysis:
    """What the index needs from one text: content lemmas, adjacent content-lemma pairs, the reading."""

    terms: tuple[str, ...]
    reading: str
    pairs: tuple[str, ...] = ()
    predicate: bool = False  # a verb or an adjective: 「更新したい」 asks something, 「ライセンスのこと」 names a topic


def analyse(tokens: Iterable[Token]) -> Analysis:
    """Content-word lemmas, pairs of adjacent ones, and the katakana reading of everything but symbols."""
    terms: list[str] = []
    pairs: list[str] = []
    reading: list[str] = []
    prev = ""
    predicate = False
    for tok in tokens:
        predicate = predicate or tok.pos in ("動詞", "形容詞")
        if tok.pos in ("補助記号", "空白", "記号"):
            reading.append(" ")
            prev = ""
            continue
        reading.append(tok.reading)
        if prev in _BOUNDED and tok.lemma in ("まで", "から"):
            terms.append(prev + tok.lemma)  # いつまで (a deadline) and いつから (a start) ask different things
            prev = ""
            continue
        if tok.pos in _CONTENT_POS and tok.lemma not in _STOP_LEMMAS:
            terms.append(tok.lemma)
            # unidic's short units split compounds (住民|票, 図書|館); a pair puts them back together
            if prev:
                pairs.append(f"{prev}+{tok.lemma}")
            prev = tok.lemma
        else:
            prev = ""
    return Analysis(tuple(terms), "".join(reading), tuple(pairs), predicate)


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams inside each space-separated chunk (single characters kept)."""
    grams: list[str] = []
    for chunk in text.split():
        if len(chunk) < n:
            grams.append(chunk)
        else:
            grams.extend(chunk[i : i + n] for i in range(len(chunk) - n + 1))
    return grams
