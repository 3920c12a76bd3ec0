"""Stage 4, dedup: link exact and near-duplicate articles (syndicated copies) to the first one seen.

Copies are linked through `duplicate_of`, never dropped: a wire story reprinted by ten sites is one
piece of news, but the reader still wants to see who carried it. Near-duplicates are found with
datasketch's MinHash LSH over word shingles of the normalised text.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from datasketch import MinHash, MinHashLSH

from storyline.model import Article
from storyline.normalize import tokens

# Jaccard similarity of word 5-shingles above which two articles are near-duplicates. Copies that differ
# by a headline or an edited sentence score 0.8-0.95; two reports of one event by different outlets
# score well below 0.3.
NEAR_DUPLICATE_JACCARD = 0.7
SHINGLE_WORDS = 5
PERMUTATIONS = 128
# Articles whose MinHash signature is remembered (see `_signature`): about 1 KB each.
SIGNATURES = 8192
_SIGNATURES: OrderedDict[tuple[str, int, int], tuple[str, MinHash | None]] = OrderedDict()


def link_duplicates(articles: Sequence[Article], earlier: Sequence[Article] = ()) -> None:
    """Set `duplicate_of` on every article that copies an earlier one (in the given order), in place. The
    `earlier` articles (analysed before: the open events') may be the originals of copies among `articles`
    and are left as they are, so a copy is linked whichever batch its original came in."""
    by_digest: dict[str, str] = {}
    order = {article.id: position for position, article in enumerate([*earlier, *articles])}
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=PERMUTATIONS)
    fresh = {article.id for article in articles}
    for article in [*earlier, *articles]:
        digest, signature = _signature(article)
        original = by_digest.get(digest) if article.id in fresh else article.duplicate_of
        if original is None and article.id in fresh and signature is not None:
            matches = lsh.query(signature)
            original = min(matches, key=order.__getitem__) if matches else None
        if article.id in fresh:
            article.duplicate_of = original
        if original is None and digest not in by_digest:
            by_digest[digest] = article.id
            if signature is not None:
                lsh.insert(article.id, signature)


def _signature(article: Article) -> tuple[str, MinHash | None]:
    """The hash of an article's words and their MinHash (None under SHINGLE_WORDS words), remembered for the
    SIGNATURES articles last asked (by id and text): the open events' articles are compared again with every
    new window."""
    key = (article.id, hash(article.title), hash(article.text))
    found = _SIGNATURES.get(key)
    if found is None:
        words = tokens(article.text) or tokens(article.title)
        digest = hashlib.sha1(" ".join(words).encode()).hexdigest()
        found = _SIGNATURES[key] = (digest, _minhash(words) if len(words) >= SHINGLE_WORDS else None)
        if len(_SIGNATURES) > SIGNATURES:
            _SIGNATURES.popitem(last=False)
    else:
        _SIGNATURES.move_to_end(key)
    return found


def _minhash(words: list[str]) -> MinHash:
    signature = MinHash(num_perm=PERMUTATIONS)
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    signature.update_batch([s.encode() for s in shingles])
    return signature
