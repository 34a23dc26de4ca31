"""The fast scoring path: a fitted pipeline compiled into plain Python lookups.

Calling a scikit-learn pipeline on one comment costs milliseconds, almost all of it
per-call overhead (validation, sparse matrices, DataFrames). The fitted model is
linear, so ``compile_pipeline`` reads its vocabularies, idf weights, scaler and
coefficients into dictionaries once, at load time; ``CompiledModel.score`` then needs
one normalisation, the n-grams and a few hundred dictionary look-ups per comment, and
yields, for free, how much each word, phrase and signal contributed (the raw material
of the reasons).

The compiled model reproduces ``pipeline.predict_proba`` to floating-point rounding;
a test holds it to that. This module does not decide verdicts or word reasons.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from sklearn.pipeline import Pipeline

from moderation.errors import ArtifactError
from moderation.text import CharNgrams, WordNgrams, normalise

__all__ = ["CompiledModel", "Evidence", "RowCache", "compile_pipeline"]

_STRIP = string.punctuation + "“”‘’«»…"
# Words whose known character grams are cached per compiled block; the cache stops
# growing there (a few tens of MB at most), so odd input cannot exhaust memory.
_WORD_CACHE_SIZE = 200_000


@dataclass(frozen=True)
class Evidence:
    """One feature's share of a score, in log-odds.

    Attributes:
        kind: ``"term"`` (a word, from word and character n-grams), ``"phrase"`` (a word
            n-gram of two or more words) or ``"signal"`` (a ``features`` signal).
        name: the term, phrase, or signal name (``links__count``).
        weight: contribution to the decision function; positive pushes towards the
            positive class.
        value: the signal's raw value (signals only).
    """

    kind: str
    name: str
    weight: float
    value: float = 0.0


class RowCache:
    """Per-comment memo shared by the questions scored on one comment.

    Both questions read the same normalised text, n-grams and signals; computing them
    once halves the cost of scoring.
    """

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row
        self._normalised: str | None = None
        self._memo: dict[Any, Any] = {}

    @property
    def content(self) -> str:
        return str(self.row.get("content") or "")

    @property
    def normalised(self) -> str:
        if self._normalised is None:
            self._normalised = normalise(self.content)
        return self._normalised

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value


@dataclass
class _TextBlock:
    analyzer: WordNgrams | CharNgrams
    idf_squared: dict[str, float]  # gram -> idf ** 2
    weight: dict[str, float]  # gram -> idf * coefficient
    binary: bool
    sublinear: bool
    _known_grams: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def contributions(
        self, cache: RowCache, explain: bool
    ) -> tuple[float, dict[str, float]]:
        """(sum of this block's contributions, contribution per explained term)."""
        analyzer = self.analyzer
        weight = self.weight
        if isinstance(analyzer, CharNgrams):
            # Only grams this model knows matter; a word's known grams are the same
            # in every comment, so they are cached per word (most words recur).
            words = cache.memo("words", cache.normalised.split)
            known = self._known_grams
            by_word = []
            for word in words:
                word_grams = known.get(word)
                if word_grams is None:
                    word_grams = tuple(
                        g for g in analyzer.word_grams(word) if g in weight
                    )
                    if len(known) < _WORD_CACHE_SIZE:
                        known[word] = word_grams
                by_word.append((word, word_grams))
            grams = [g for _, word_grams in by_word for g in word_grams]
        else:
            by_word = None
            key = (type(analyzer).__name__, analyzer.min_n, analyzer.max_n)
            grams = cache.memo(key, lambda: analyzer.from_normalised(cache.normalised))
        if self.binary:
            # Presence only: every known gram has tf 1, so the l2 norm and the dot
            # product are sums over the set of known grams.
            present = weight.keys() & set(grams)
            if not present:
                return 0.0, {}
            norm = math.sqrt(sum(map(self.idf_squared.__getitem__, present)))
            total = sum(map(weight.__getitem__, present)) / norm
            if not explain:
                return total, {}
            scaled = {g: weight[g] / norm for g in present}
        else:
            counts = Counter(g for g in grams if g in weight)
            if not counts:
                return 0.0, {}
            tfs = {
                g: (1.0 + math.log(n) if self.sublinear else float(n))
                for g, n in counts.items()
            }
            norm = math.sqrt(
                sum(tf * tf * self.idf_squared[g] for g, tf in tfs.items())
            )
            scaled = {g: tf * weight[g] / norm for g, tf in tfs.items()}
            total = sum(scaled.values())
            if not explain:
                return total, {}
        if by_word is None:
            return total, scaled
        # A character gram's share is split among the words it occurs in.
        occurrences = Counter(grams)
        per_occurrence = {g: v / occurrences[g] for g, v in scaled.items()}
        lookup = per_occurrence.get
        terms: dict[str, float] = {}
        for word, word_grams in by_word:
            share = sum(map(lookup, word_grams, repeat(0.0)))
            if share:
                term = word.strip(_STRIP) or word
                terms[term] = terms.get(term, 0.0) + share
        return total, terms


@dataclass
class _DenseBlock:
    function: Callable[..., list[float]]
    names: Sequence[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    takes_row: bool = False  # metadata signals read the whole row

    def contributions(self, cache: RowCache) -> tuple[float, list[Evidence]]:
        key = ("dense", self.function.__module__, self.function.__name__)
        if self.takes_row:
            values = cache.memo(key, lambda: self.function(cache.row, cache.normalised))
        else:
            values = cache.memo(
                key, lambda: self.function(cache.content, cache.normalised)
            )
        evidence = []
        total = 0.0
        for name, x, m, s, c in zip(  # noqa: B905 - equal lengths by construction
            self.names, values, self.mean, self.scale, self.coef
        ):
            w = c * (x - m) / s
            total += w
            if x:
                evidence.append(Evidence("signal", name, w, x))
        return total, evidence


@dataclass
class CompiledModel:
    """A fitted pipeline as dictionaries; ``score`` gives probability and evidence."""

    intercept: float
    sigmoid_a: float
    sigmoid_b: float
    text_blocks: list[_TextBlock] = field(default_factory=list)
    dense_blocks: list[_DenseBlock] = field(default_factory=list)

    def score(
        self, cache: RowCache, explain: bool = True
    ) -> tuple[float, list[Evidence]]:
        """Probability of the positive class for one comment, and what drove it.

        Args:
            cache: the comment's ``RowCache`` (shared across questions).
            explain: also return the evidence (costs a little; off for batches).

        Returns:
            ``(probability, evidence)``; evidence is unsorted and empty when
            ``explain`` is false.
        """
        decision = self.intercept
        terms: dict[str, float] = {}
        evidence: list[Evidence] = []
        for block in self.text_blocks:
            total, block_terms = block.contributions(cache, explain)
            decision += total
            if explain:
                for t, w in block_terms.items():
                    terms[t] = terms.get(t, 0.0) + w
        for dense in self.dense_blocks:
            total, dense_evidence = dense.contributions(cache)
            decision += total
            if explain:
                evidence.extend(dense_evidence)
        if explain:
            evidence.extend(
                Evidence("phrase" if " " in t else "term", t, w)
                for t, w in terms.items()
            )
        z = self.sigmoid_a * decision + self.sigmoid_b
        probability = 1.0 / (1.0 + math.exp(z)) if z > -700 else 1.0
        return probability, evidence


def compile_pipeline(pipeline: Pipeline) -> CompiledModel:
    """Compile a fitted ``build_pipeline`` pipeline for single-comment scoring.

    Args:
        pipeline: a fitted pipeline with the structure ``build_pipeline`` makes.

    Returns:
        The ``CompiledModel``.

    Raises:
        ArtifactError: the pipeline has a step this compiler does not know.
    """
    features = pipeline.named_steps["features"]
    calibrated = pipeline.named_steps["classifier"]
    if len(calibrated.calibrated_classifiers_) != 1:
        raise ArtifactError(
            "only pipelines calibrated with ensemble=False can be compiled"
        )
    inner = calibrated.calibrated_classifiers_[0]
    estimator = inner.estimator
    calibrator = inner.calibrators[0]
    coef = estimator.coef_.ravel()
    model = CompiledModel(
        intercept=float(estimator.intercept_[0]),
        sigmoid_a=float(calibrator.a_),
        sigmoid_b=float(calibrator.b_),
    )
    offset = 0
    scales = features.transformer_weights or {}
    for name, transformer, _columns in features.transformers_:
        if transformer == "drop":
            continue
        width = len(transformer.get_feature_names_out())
        # A transformer weight multiplies the block's features; fold it into the
        # coefficients so the compiled model needs no extra step.
        block_coef = coef[offset : offset + width] * scales.get(name, 1.0)
        offset += width
        if hasattr(transformer, "vocabulary_"):
            idf = transformer.idf_
            model.text_blocks.append(
                _TextBlock(
                    analyzer=transformer.analyzer,
                    idf_squared={
                        g: float(idf[i]) ** 2
                        for g, i in transformer.vocabulary_.items()
                    },
                    weight={
                        g: float(idf[i] * block_coef[i])
                        for g, i in transformer.vocabulary_.items()
                    },
                    binary=transformer.binary,
                    sublinear=transformer.sublinear_tf,
                )
            )
        elif isinstance(transformer, Pipeline) and hasattr(
            transformer[0], "signals_function"
        ):
            signals, scaler = transformer[0], transformer[-1]
            model.dense_blocks.append(
                _DenseBlock(
                    function=signals.signals_function(),
                    names=list(signals.get_feature_names_out()),
                    mean=[float(v) for v in scaler.mean_],
                    scale=[float(v) for v in scaler.scale_],
                    coef=[float(v) for v in block_coef],
                )
            )
        elif hasattr(transformer, "signals_function"):
            # Unscaled signals (metadata): 0 is neutral, nothing to centre.
            model.dense_blocks.append(
                _DenseBlock(
                    function=transformer.signals_function(),
                    names=list(transformer.get_feature_names_out()),
                    mean=[0.0] * width,
                    scale=[1.0] * width,
                    coef=[float(v) for v in block_coef],
                    takes_row=True,
                )
            )
        else:
            raise ArtifactError(
                f"cannot compile the feature block {name!r} ({transformer!r})"
            )
    if offset != coef.size:
        raise ArtifactError(
            "the compiled features do not cover the model's coefficients"
        )
    return model
