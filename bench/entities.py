"""Entities benchmark: cross-script name matching (ANETAC), Slavic NER and cross-lingual linking (BSNLP), seeds.

Usage: python bench/entities.py [--gate]   (--gate: exit 1 when a figure drops below bench/floors/entities.json)

1. ANETAC English-Arabic names (names/en-ar.dev.jsonl.gz). Each Arabic name ranks every English name of the
   same type (PERSON, LOCATION, ORGANIZATION) in the pool; a hit is any English name paired with that Arabic
   string. Held out honestly: the transliteration model is trained here on four md5 folds of dev
   (bench/train_names.py, fold_of) and scored on the fifth, whose English names form the pool (about the size
   of the hidden test split). ANETAC_SAMPLE Arabic names per type are scored, for time.
2. BSNLP (bsnlp/dev.jsonl.gz). Documents are resolved one topic at a time, as one batch, through
   storyline.recognition.resolve. Relaxed NER: per document, the set of predicted mention strings against the
   set of gold mention strings, both case-folded; TP/FP/FN summed over documents, per language. Linking:
   over the gold mention strings that were found, pairs of (document, string) with the same gold entity id
   against pairs with the same storyline id, within a topic; pairwise P/R/F1. BSNLP_SAMPLE documents per
   (topic, language) are used, for time.
3. Seeds (../shared/seeds): the people, organisations and places named in the issue get one id each.
4. Variant purity on real data no rule was fitted on (timelines/docs.jsonl.gz: 1,671 es/fr/it articles on
   four crises, resolved as one batch, each article's first line as its title): the variant strings (mention
   texts) that sit in more than one entity, and the entities that hold a variant that looks like another name,
   i.e. whose last word, spelled with names.spelling, is not within PURITY_SIMILARITY of any word of the
   entity's name and is in the same script (gazetteer entities, whose variants are translations, and
   acronyms, whose variants are their expansions, are left out). Reported, not gated.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time

from common import DATA, SHARED, gate, read_jsonl, table
from train_names import HELD_OUT_FOLD, fit, fold_of, load_pairs

from storyline.model import Article
from storyline.names import latin_key, learned_romanisation, romanise, spelling, spelling_similarity, translit_logprob
from storyline.normalize import ARABIC, CYRILLIC
from storyline.recognition import recognise, resolve

# Arabic names scored per type on the held-out fold: 600 x 3 types keeps the ranking near 30 s on 2 cores.
ANETAC_SAMPLE = 600
# Candidates re-ranked by the learned model per Arabic name (see recognition.MATCH_BLOCK).
ANETAC_BLOCK = 200
# Documents per (topic, language): 40 gives about 1,200 documents over every language and topic in a minute.
BSNLP_SAMPLE = 40
SEED = 0
# A variant whose last word is less alike than this to every word of its entity's name (names.spelling,
# spelling_similarity) looks like another name: Sanaa / Sinai 0.6 and Assad / Saad 0.75 would count, while
# Gadafi / Gheddafi (0.83) and Asad / el-Assad (1.0) would not. Suspicious entities listed, by mentions.
PURITY_SIMILARITY = 0.8
PURITY_LISTED = 12


def anetac() -> tuple[dict[str, float], str]:
    import numpy as np
    from rapidfuzz import fuzz, process

    pairs = load_pairs()
    started = time.perf_counter()
    model = fit(pairs, exclude_fold=HELD_OUT_FOLD)
    emit = model["emit"]
    assert isinstance(emit, dict)
    train_s = time.perf_counter() - started
    held = [p for p in pairs if fold_of(p[1]) == HELD_OUT_FOLD]
    by_type: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for kind, en, ar in held:
        by_type[kind].append((en, ar))
    hits = collections.Counter()
    rows = []
    started = time.perf_counter()
    for kind, entries in sorted(by_type.items()):
        candidates = sorted({en for en, _ in entries})
        keys = [latin_key(c) for c in candidates]
        romans = [romanise(c) for c in candidates]
        gold: dict[str, set[str]] = collections.defaultdict(set)
        for en, ar in entries:
            gold[ar].add(en)
        queries = sorted(gold)
        random.Random(SEED).shuffle(queries)
        queries = queries[:ANETAC_SAMPLE]
        blocked = np.asarray(process.cdist([learned_romanisation(q, emit) for q in queries], keys,
                                           scorer=fuzz.ratio, workers=2), dtype=np.int32)
        baseline = np.asarray(process.cdist([romanise(q) for q in queries], romans, scorer=fuzz.ratio,
                                            workers=2), dtype=np.int32)
        counts = collections.Counter()
        for row, query in enumerate(queries):
            top = np.argpartition(-blocked[row], min(ANETAC_BLOCK, len(candidates) - 1))[:ANETAC_BLOCK]
            ranked = sorted((candidates[i] for i in top), key=lambda c: -translit_logprob(query, c, emit))
            base = [candidates[i] for i in np.argsort(-baseline[row], kind="stable")[:10]]
            counts["top1"] += ranked[0] in gold[query]
            counts["top10"] += any(c in gold[query] for c in ranked[:10])
            counts["base1"] += base[0] in gold[query]
            counts["base10"] += any(c in gold[query] for c in base)
            counts["n"] += 1
        hits.update(counts)
        n = counts["n"]
        rows.append([kind, n, len(candidates), counts["top1"] / n, counts["top10"] / n,
                     counts["base1"] / n, counts["base10"] / n])
    n = hits["n"]
    figures = {"anetac.top1": hits["top1"] / n, "anetac.top10": hits["top10"] / n}
    rows.append(["all", n, "", figures["anetac.top1"], figures["anetac.top10"], hits["base1"] / n,
                 hits["base10"] / n])
    rate = n / (time.perf_counter() - started)
    text = table(f"ANETAC en-ar, held-out fold {HELD_OUT_FOLD} of dev (model trained on the other four in "
                 f"{train_s:.0f} s), Arabic -> English of the same type",
                 ["type", "Arabic names scored", "English pool", "top-1", "top-10", "anyascii+rapidfuzz top-1",
                  "anyascii+rapidfuzz top-10"], rows)
    text += f"\nSpeed: {rate:.0f} Arabic names/s ranked against the pool. Issue anchors: anyascii + rapidfuzz " \
            "0.23 / 0.54; target 0.70 / 0.95.\n"
    return figures, text


def bsnlp() -> tuple[dict[str, float], str]:
    records = list(read_jsonl("bsnlp/dev.jsonl.gz"))
    groups: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for record in records:
        groups[(record["topic"], record["lang"])].append(record)
    by_topic: dict[str, list[dict]] = collections.defaultdict(list)
    for (topic, _), docs in sorted(groups.items()):
        random.Random(SEED).shuffle(docs)
        by_topic[topic] += docs[:BSNLP_SAMPLE]
    ner: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    pairs = collections.Counter()
    mentions = 0
    elapsed = 0.0
    for _topic, docs in sorted(by_topic.items()):
        articles = [Article(id=f"{d['lang']}/{d['doc_id']}", title=d["title"] or "", text=d["text"] or "",
                            lang=d["lang"]) for d in docs]
        started = time.perf_counter()
        _, found = resolve(articles)
        elapsed += time.perf_counter() - started
        mentions += len(found)
        predicted: dict[str, dict[str, str]] = collections.defaultdict(dict)
        for mention in found:
            predicted[mention.article].setdefault(mention.text.casefold(), mention.entity)
        cells: collections.Counter = collections.Counter()
        gold_sizes: collections.Counter = collections.Counter()
        pred_sizes: collections.Counter = collections.Counter()
        for doc, article in zip(docs, articles, strict=True):
            gold = {}
            for g in doc["mentions"] or []:
                gold.setdefault(g["mention"].casefold(), g["entity_id"])
            mine = predicted[article.id]
            counts = ner[doc["lang"]]
            counts["tp"] += len(gold.keys() & mine.keys())
            counts["fp"] += len(mine.keys() - gold.keys())
            counts["fn"] += len(gold.keys() - mine.keys())
            counts["docs"] += 1
            for string in gold.keys() & mine.keys():
                cells[(gold[string], mine[string])] += 1
                gold_sizes[gold[string]] += 1
                pred_sizes[mine[string]] += 1
        pairs["tp"] += sum(n * (n - 1) // 2 for n in cells.values())
        pairs["gold"] += sum(n * (n - 1) // 2 for n in gold_sizes.values())
        pairs["pred"] += sum(n * (n - 1) // 2 for n in pred_sizes.values())
    rows = []
    figures: dict[str, float] = {}
    total = collections.Counter()
    for lang, counts in sorted(ner.items()):
        total.update(counts)
        p, r, f = _prf(counts["tp"], counts["fp"], counts["fn"])
        rows.append([lang, counts["docs"], p, r, f])
        figures[f"bsnlp.ner.{lang}.f1"] = f
    p, r, f = _prf(total["tp"], total["fp"], total["fn"])
    rows.append(["all", total["docs"], p, r, f])
    figures["bsnlp.ner.f1"] = f
    lp = pairs["tp"] / pairs["pred"] if pairs["pred"] else 0.0
    lr = pairs["tp"] / pairs["gold"] if pairs["gold"] else 0.0
    lf = 2 * lp * lr / (lp + lr) if lp + lr else 0.0
    figures["bsnlp.link.f1"] = lf
    text = table(f"BSNLP dev, relaxed NER (case-folded mention strings per document), {BSNLP_SAMPLE} documents "
                 "per topic and language", ["language", "documents", "precision", "recall", "F1"], rows)
    text += "\n" + table("BSNLP dev, cross-lingual linking within a topic (pairs of found gold mentions)",
                         ["pairs gold", "pairs storyline", "precision", "recall", "F1"],
                         [[pairs["gold"], pairs["pred"], lp, lr, lf]])
    text += f"\nSpeed: {mentions / elapsed:.0f} mentions/s ({total['docs'] / elapsed:.0f} documents/s) " \
            "through resolve, one process.\n"
    figures["bsnlp.mentions_per_s"] = mentions / elapsed
    return figures, text


# The cross-document and cross-script pairs: (description, surface forms that must share one id).
SEED_GROUPS = [
    ("al-Maliki", ["Riad al-Maliki", "Riyad Al-Maliki", "Riyadh al-Maliki", "Maliki"]),
    ("Hadi Amr", ["Hadi Amr", "هادي عمرو"]),
    ("Lavrov", ["Lavrov", "Sergey Lavrov", "لافروف"]),
    ("Safronkov", ["Safronkov", "Vladimir Safronkov", "فلاديمير سافرونكوف"]),
    ("Quartet", ["Quartet", "الرباعية"]),
]


def seeds() -> tuple[dict[str, float], str]:
    folder = SHARED / "seeds"
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        return {}, "Seeds: skipped (../shared/seeds not found).\n"
    articles = []
    for path in files:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        articles.append(Article(id=path.stem, title=lines[0], text="\n".join(lines[1:])))
    _, mentions = resolve(articles)
    ids_of: dict[str, set[str]] = collections.defaultdict(set)
    for mention in mentions:
        ids_of[mention.text].add(mention.entity)
    rows = []
    ok = 0
    for name, forms in SEED_GROUPS:
        present = [f for f in forms if f in ids_of]
        ids = set().union(*(ids_of[f] for f in present)) if present else set()
        good = len(present) > 0 and len(ids) == 1
        ok += good
        rows.append([name, ", ".join(present) or "-", ", ".join(sorted(ids)) or "-", "yes" if good else "NO"])
    return {"seeds.groups": ok / len(SEED_GROUPS)}, table(
        f"Seeds ({len(files)} articles): one id per entity", ["entity", "forms found", "ids", "one id"], rows)


def purity() -> tuple[dict[str, float], str]:
    records = list(read_jsonl("timelines/docs.jsonl.gz"))
    articles = []
    for index, record in enumerate(records):
        title, _, text = (record["text"] or "").partition("\n")
        articles.append(Article(id=f"tl-{index}", title=title, text=text, lang=record["lang"]))
    started = time.perf_counter()
    entities, mentions = resolve(articles)
    elapsed = time.perf_counter() - started
    holders: dict[str, set[str]] = collections.defaultdict(set)
    counts = collections.Counter(m.entity for m in mentions)
    for mention in mentions:
        holders[mention.text].add(mention.entity)
    shared = sum(1 for ids in holders.values() if len(ids) > 1)
    suspicious = []
    for entity in entities:
        words = [spelling(w) for w in entity.name.split()]
        odd = [v for v in entity.variants if _script(v) == _script(entity.name) and not any(
            spelling_similarity(spelling(v.split()[-1]), w) >= PURITY_SIMILARITY for w in words)]
        if odd and not entity.name.isupper() and not any(
                s.key.startswith("g:") for v in entity.variants for s in recognise(v)):
            suspicious.append((counts[entity.id], entity, odd))
    suspicious.sort(key=lambda row: (-row[0], row[1].id))
    figures = {"purity.shared_variants": shared, "purity.shared_variant_share": shared / len(holders),
               "purity.suspicious_entities": len(suspicious)}
    text = table("Variant purity, timelines docs (es/fr/it, one batch)",
                 ["entities", "variant strings", "in more than one entity", "suspicious entities", "seconds"],
                 [[len(entities), len(holders), shared, len(suspicious), round(elapsed)]])
    text += "\n" + table(f"Suspicious entities, the {PURITY_LISTED} with most mentions",
                          ["entity", "type", "mentions", "variants unlike the name"],
                          [[e.name, e.type, n, ", ".join(odd[:8])] for n, e, odd in suspicious[:PURITY_LISTED]])
    return figures, text


def _script(name: str) -> str:
    return "arabic" if ARABIC.search(name) else "cyrillic" if CYRILLIC.search(name) else "latin"


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gate", action="store_true")
    parser.add_argument("--only", choices=["anetac", "bsnlp", "seeds", "purity"], default=None)
    args = parser.parse_args()
    if not (DATA / "names" / "en-ar.dev.jsonl.gz").is_file():
        print(f"skipped: benchmark data not found under {DATA}")
        return 0
    figures: dict[str, float] = {}
    for name, part in (("anetac", anetac), ("bsnlp", bsnlp), ("seeds", seeds), ("purity", purity)):
        if args.only in (None, name):
            found, text = part()
            figures.update(found)
            print(text)
    sys.stdout.flush()
    return gate("entities", figures, args.gate)


if __name__ == "__main__":
    sys.exit(main())
