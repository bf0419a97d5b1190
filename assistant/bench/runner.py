"""`glute bench`: latency, memory, ingest cost, scaling and UI throughput, measured in one run on one machine state.

Everything is built in a temp dir (a fresh index of the real corpus, scaled copies of it) and removed after;
only the report (eval/reports/bench.md and its plot) is kept. The result is one flat dict whose top-level keys
are the contract `glute bench --json` prints.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import REPO_ROOT, Settings
from .corpus import QUESTIONS, copy_with_one_edit, index_with_reused_vectors, instances_for, write_scaled_corpus
from .report import percentile

REPORT_DIR = REPO_ROOT / "eval" / "reports"
QUICK_REPORT_DIR = REPORT_DIR / "latest"
STAGES = ("guard", "condense", "embed", "dense", "lexical", "fuse", "retrieve", "compose")
KEYS = ("encode_p50_ms", "ask_p50_ms", "ask_p95_ms", "stages_ms", "ratio_ask_to_encode", "cold_ask_s",
        "cold_floor_s", "ingest_full_s", "reingest_unchanged_s", "reingest_unchanged_embedded",
        "reingest_one_changed_embedded", "serve_rss_mb", "story_ask_p50_ms", "story_ask_p95_ms",
        "ratio_story_p95_to_encode", "scaling", "throughput", "encoder", "encoders")
ENCODERS = ("torch", "onnx")  # `--encoder both`; the top-level numbers are the last one measured (what glute uses)
Log = Callable[[str], None]
Questions = list[tuple[str, list[dict] | None]]


@dataclass(frozen=True)
class Plan:
    """How much of each measurement to take; `--quick` trades precision for a run of under two minutes."""

    quick: bool
    rounds: int  # passes over the question set for the warm numbers
    cold_runs: int
    serve_questions: int
    throughput: dict[int, int]  # concurrent clients -> requests per client
    embed_sizes: tuple[str, ...]  # scaled sizes ingested for real; the others reuse vectors
    sizes: dict[str, int] = field(default_factory=lambda: {"10x": 10, "100x": 100})


FULL = Plan(quick=False, rounds=3, cold_runs=3, serve_questions=50, throughput={1: 40, 4: 20, 16: 10},
            embed_sizes=("10x",))
QUICK = Plan(quick=True, rounds=1, cold_runs=1, serve_questions=50, throughput={1: 8, 4: 4, 16: 2},
             embed_sizes=(), sizes={"10x": 10})


def local_settings(corpus_dir: Path, index_dir: Path, encoder: str = "auto", base: Settings | None = None) -> Settings:
    """The default offline set-up (local Chroma, extractive answers), whatever else `base` (the caller's settings)
    says; its encoder threads and lock timeout are kept."""
    return replace(base or Settings(), corpus_dir=corpus_dir, index_dir=index_dir, chroma_url=None, llm=None,
                   encoder=encoder)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def real_stories(min_chars: int = 200) -> Questions:
    """The real-dev questions that are stories (several sentences), as people posted them; never the sealed half."""
    import yaml

    items = yaml.safe_load((REPO_ROOT / "eval" / "real.yaml").read_text(encoding="utf-8"))["questions"]
    return [(q["question"], q.get("history") or None) for q in items if len(q["question"]) >= min_chars]


class WarmSamples:
    """One bot's timings over rounds of the question set: encode, ask, and the stages of each answer."""

    def __init__(self) -> None:
        self.encodes: list[float] = []
        self.asks: list[float] = []
        self.answered: list[float] = []
        self.paired: list[float] = []
        self.stages: dict[str, list[float]] = defaultdict(list)

    def one_round(self, bot, questions: Questions) -> None:
        """Encode and ask each question in turn (the same machine state for both)."""
        for question, history in questions:
            started = time.perf_counter()
            bot.embeddings.embed_query(question)
            self.encodes.append(_ms(started))
            started = time.perf_counter()
            answer = bot.ask(question, history)
            self.asks.append(_ms(started))
            if not answer.refused:
                self.answered.append(self.asks[-1])
            if "embed" in answer.timings_ms:
                self.paired.append(self.asks[-1] / self.encodes[-1])
            for stage, ms in answer.timings_ms.items():
                if not (stage in ("retrieve", "compose") and ms == 0.0):  # refusals fill skipped stages with 0
                    self.stages[stage].append(ms)

    def summary(self) -> dict[str, Any]:
        return {"encode_p50_ms": percentile(self.encodes, 50), "encode_p95_ms": percentile(self.encodes, 95),
                "ask_p50_ms": percentile(self.asks, 50), "ask_p95_ms": percentile(self.asks, 95),
                "answered_p50_ms": percentile(self.answered, 50), "paired_ratio_p50": percentile(self.paired, 50),
                "stages_ms": {s: round(percentile(self.stages[s], 50), 3) for s in STAGES if self.stages[s]}}


def warm_up(bot, questions: Questions) -> None:
    """One untimed pass: lazy loading and caches are not what the warm numbers measure."""
    for question, history in questions:
        bot.embeddings.embed_query(question)
        bot.ask(question, history)


def warm_latency(bot, questions: Questions, rounds: int) -> dict[str, Any]:
    """Encode and ask each question in turn, `rounds` times, after one untimed warm-up pass."""
    return warm_latencies({"bot": bot}, questions, rounds)["bot"]


def warm_latencies(bots: dict[str, Any], questions: Questions, rounds: int) -> dict[str, dict[str, Any]]:
    """`warm_latency` for several bots at once, interleaved: round by round each bot takes its turn, the order
    flipping every round (a, b, b, a, a, b, ...), so that a burst of load from other processes on the machine falls
    on all of them alike instead of on whichever happened to run then."""
    samples = {name: WarmSamples() for name in bots}
    for bot in bots.values():
        warm_up(bot, questions)
    for name in interleaved(list(bots), rounds):
        samples[name].one_round(bots[name], questions)
    return {name: found.summary() for name, found in samples.items()}


def interleaved(names: list[str], rounds: int) -> list[str]:
    """The turns of `warm_latencies`: every name once per round, the order flipping each round."""
    return [name for round_ in range(rounds) for name in (names if round_ % 2 == 0 else names[::-1])]


def _timed_ingest(settings: Settings):
    from ..index import ingest

    started = time.perf_counter()
    report = ingest(settings, progress=False)
    return report, time.perf_counter() - started


def measure_ingest(corpus_dir: Path, work: Path, log: Log, encoder: str = "auto",
                   base: Settings | None = None) -> tuple[dict[str, Any], Settings]:
    """Empty index to done, then unchanged, then one edited line; ends with the index matching the real corpus.
    The first ingest also exports the ONNX query encoder (unless `encoder` is torch): a one-off, timed apart."""
    settings = local_settings(corpus_dir, work / "index", encoder, base)
    full, full_s = _timed_ingest(settings)
    export_s, full_s = full.encoder_s, full_s - full.encoder_s
    log(f"ingest from empty: {full.chunks['added']} chunks in {full_s:.1f} s; {full.encoder} in {export_s:.1f} s")
    unchanged, unchanged_s = _timed_ingest(settings)
    log(f"re-ingest, nothing changed: {unchanged.embedded} embedded in {unchanged_s:.2f} s")
    copy_with_one_edit(corpus_dir, work / "corpus-edited")
    changed, _ = _timed_ingest(settings.with_overrides(corpus_dir=work / "corpus-edited"))
    log(f"re-ingest, one line edited: {changed.embedded} embedded")
    _timed_ingest(settings)  # back to the real text for the questions that follow
    chunks = sum(full.chunks.values())
    return {"ingest_full_s": full_s, "reingest_unchanged_s": unchanged_s,
            "reingest_unchanged_embedded": unchanged.embedded,
            "reingest_one_changed_embedded": changed.embedded, "chunks": chunks, "export_s": export_s,
            "encoder": full.encoder}, settings


def measure_size(name: str, factor: int, real: Settings, work: Path, plan: Plan, rate: tuple[int, float],
                 log: Log) -> dict[str, Any]:
    """Ask latency and ingest time on the corpus copied to `factor` times its size."""
    from ..pipeline import Assistant
    from ..store import LocalIndex

    real_chunks = LocalIndex(real.index_dir).open().get(include=["embeddings", "metadatas"])
    article = sum(1 for m in real_chunks["metadatas"] if m["kind"] == "article")
    instances = instances_for(factor, len(real_chunks["ids"]) - article, article)
    corpus = write_scaled_corpus(real.corpus_dir, work / f"corpus-{name}", instances)
    settings = local_settings(corpus, work / f"index-{name}", real.encoder, real)
    if name in plan.embed_sizes:
        report, ingest_s = _timed_ingest(settings)
        chunks = report.embedded
        note = "ingested (embedded, measured)"
        if report.encoder_s:  # checking the new chunks against the ONNX export is timed apart
            ingest_s -= report.encoder_s
            note += f"; then {report.encoder_s:.1f} s checking them against the ONNX export"
    else:
        vectors = dict(zip(real_chunks["ids"], real_chunks["embeddings"], strict=True))
        chunks, build_s = index_with_reused_vectors(settings, vectors)
        ingest_s = chunks * rate[1] / rate[0]
        note = (f"indexed with reused vectors in {build_s:.1f} s; ingest_s extrapolated from "
                f"{rate[0]} chunks in {rate[1]:.1f} s")
    log(f"{name}: {chunks} chunks, ingest {ingest_s:.1f} s ({note}); loading")
    started = time.perf_counter()
    bot = Assistant.load(settings=settings, build_if_missing=False)
    load_s = time.perf_counter() - started
    lat = warm_latency(bot, QUESTIONS, max(1, plan.rounds - 1))
    del bot
    gc.collect()
    log(f"{name}: load {load_s:.1f} s, ask p50 {lat['ask_p50_ms']:.1f} ms, encode p50 {lat['encode_p50_ms']:.1f} ms")
    return {"chunks": chunks, "ingest_s": round(ingest_s, 2), "ask_p50_ms": round(lat["ask_p50_ms"], 2),
            "encode_p50_ms": round(lat["encode_p50_ms"], 2), "load_s": round(load_s, 2), "note": note}


def measure_serve(index_dir: Path, work: Path, plan: Plan, log: Log, encoder: str | None = None,
                  throughput_levels: dict[int, int] | None = None) -> dict[str, Any]:
    """Memory of a running `glute serve --mcp` after 50 questions, then every API under 1, 4 and 16 clients: /ask
    (gradio_client and plain HTTP), the OpenAI-compatible /v1/chat/completions and the MCP tool."""
    from .processes import ask_many, rss_mb, running_server, throughput

    started = time.perf_counter()
    with running_server(index_dir, work / f"serve-{encoder or 'auto'}.log", encoder=encoder, mcp=True) as (url, pid):
        log(f"glute serve ({encoder or 'auto'}) up at {url} in {time.perf_counter() - started:.1f} s")
        errors = ask_many(url, QUESTIONS, plan.serve_questions)
        rss = rss_mb(pid)
        log(f"serve RSS after {plan.serve_questions} questions: {rss:.0f} MB ({errors} errors)")
        plain = [q for q, history in QUESTIONS if not history]
        levels = {}
        for clients, per_client in (plan.throughput if throughput_levels is None else throughput_levels).items():
            levels[str(clients)] = throughput(url, clients, per_client, plain, default_client=clients == 16, mcp=True)
            t = levels[str(clients)]
            log(f"{clients} client(s): {t['rps']} req/s, p95 {t['p95_ms']} ms, {t['errors']} errors; plain HTTP "
                f"{t['raw_http']['rps']} req/s, p95 {t['raw_http']['p95_ms']} ms, {t['raw_http']['errors']} errors; "
                f"/v1/chat/completions {t['openai_api']['rps']} req/s, p95 {t['openai_api']['p95_ms']} ms, "
                f"{t['openai_api']['errors']} errors; MCP {t['mcp']['rps']} req/s, p95 {t['mcp']['p95_ms']} ms, "
                f"{t['mcp']['errors']} errors")
            if "default_ssl_client" in t:
                slow = t["default_ssl_client"]
                log(f"{clients} clients at gradio_client's default ssl_verify=True: {slow['rps']} req/s, "
                    f"p95 {slow['p95_ms']} ms, {slow['errors']} errors")
        rss_after = rss_mb(pid)
    return {"serve_rss_mb": rss, "serve_rss_after_throughput_mb": rss_after, "serve_errors": errors,
            "throughput": levels}


def usable_encoders(settings: Settings, wanted: tuple[str, ...], log: Log, notes: list[str]) -> tuple[str, ...]:
    """The encoders to measure: ONNX only when ingest left a checked export (else a note says why)."""
    from ..onnx_encoder import find_export

    if "onnx" not in wanted:
        return wanted
    export, why = find_export(settings.models_dir)
    if export is None:
        log(f"onnx: not measured, {why}")
        notes.append(f"The ONNX encoder was not measured: {why}.")
        return tuple(e for e in wanted if e != "onnx")
    return wanted


def encoder_row(warm: dict[str, Any], cold: tuple[list[float], list[float]], served: dict[str, Any]) -> dict:
    """One encoder's column of the side-by-side table."""
    asks, floors = cold
    busy = served["throughput"].get("16", {})
    return {"cold_ask_s": round(percentile(asks, 50), 2), "cold_floor_s": round(percentile(floors, 50), 2),
            "encode_p50_ms": round(warm["encode_p50_ms"], 2), "encode_p95_ms": round(warm["encode_p95_ms"], 2),
            "ask_p50_ms": round(warm["ask_p50_ms"], 2), "ask_p95_ms": round(warm["ask_p95_ms"], 2),
            "serve_rss_mb": round(served["serve_rss_mb"], 1),
            "clients16": {k: v for k, v in busy.items() if k != "default_ssl_client"}}


def run_bench(plan: Plan, log: Log, encoders: tuple[str, ...] = ENCODERS,
              base: Settings | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every measurement, in an order that keeps them independent; returns (result, about the run).
    Each encoder in `encoders` (torch, onnx) gets its own cold starts, warm latency and `glute serve`; the last one
    measured (onnx when it is usable) also gets the throughput levels and the scaling runs. `base` gives the corpus
    and the encoder threads (default: Settings())."""
    from ..embeddings import load_torch_embeddings
    from ..onnx_encoder import find_export
    from ..pipeline import Assistant
    from .processes import cold_starts_by_encoder

    base = base or Settings()
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    if load_before > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load_before:.1f} on {os.cpu_count()} cores; other processes will skew the numbers")
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="glute-bench-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        load_torch_embeddings(base.encoder_threads).embed_query("warm up")  # the ingest encoder
        notes.append(f"Loading the model in the bench process took {time.perf_counter() - started:.1f} s "
                     "(excluded from the ingest times).")
        ingest, settings = measure_ingest(base.corpus_dir, work, log,
                                          encoder="auto" if "onnx" in encoders else "torch", base=base)
        encoders = usable_encoders(settings, encoders, log, notes)
        primary = encoders[-1]
        settings = settings.with_overrides(encoder=primary)
        if "onnx" in encoders:
            notes.append(f"The first ingest also exported the ONNX query encoder in {ingest['export_s']:.1f} s "
                         f"({ingest['encoder']}); that one-off is not in ingest_full_s.")
        export = find_export(settings.models_dir)[0]
        colds = cold_starts_by_encoder(settings.index_dir, plan.cold_runs, log, encoders,
                                       (export.path, export.tokenizer) if export else None)
        bots = {e: Assistant.load(settings=settings.with_overrides(encoder=e), build_if_missing=False)
                for e in encoders}
        warms = warm_latencies(bots, QUESTIONS, plan.rounds)  # interleaved, round by round
        stories = warm_latency(bots[primary], real_stories(), plan.rounds)  # real narratives, each sentence read
        del bots
        gc.collect()
        for encoder, w in warms.items():
            log(f"warm ({encoder}): ask p50 {w['ask_p50_ms']:.1f} ms, p95 {w['ask_p95_ms']:.1f} ms, "
                f"encode p50 {w['encode_p50_ms']:.1f} ms, p95 {w['encode_p95_ms']:.1f} ms")
        if len(encoders) > 1:
            notes.append(f"Warm numbers: {plan.rounds} rounds of the question set per encoder, in one process, the "
                         f"encoders taking turns round by round ({', '.join(interleaved(list(encoders), plan.rounds))})"
                         ", after one untimed pass each.")
        warm, (asks, floors) = warms[primary], colds[primary]
        notes.append(f"Warm ask p50 over answered questions only (no refusals): {warm['answered_p50_ms']:.1f} ms; "
                     f"median over questions that were embedded of (ask ms / encode ms of the same question just "
                     f"before): {warm['paired_ratio_p50']:.2f}.")
        serves = {e: measure_serve(settings.index_dir, work, plan, log, encoder=e,
                                   throughput_levels={16: plan.throughput[16]})
                  for e in encoders if e != primary}
        served = serves[primary] = measure_serve(settings.index_dir, work, plan, log, encoder=primary)
        notes.append(f"`glute serve` RSS after the throughput runs too: {served['serve_rss_after_throughput_mb']:.0f} "
                     f"MB; errors among the 50 questions: {served['serve_errors']}.")
        scaling = {"1x": {"chunks": ingest["chunks"], "ingest_s": round(ingest["ingest_full_s"], 2),
                          "ask_p50_ms": round(warm["ask_p50_ms"], 2), "encode_p50_ms": round(warm["encode_p50_ms"], 2),
                          "note": "ingested (embedded, measured)"}}
        rate = (ingest["chunks"], ingest["ingest_full_s"])
        for name in ("10x", "100x"):
            if name not in plan.sizes:
                scaling[name] = {"skipped": True, "note": "skipped (--quick)"}
                continue
            scaling[name] = measure_size(name, plan.sizes[name], settings, work, plan, rate, log)
            if name in plan.embed_sizes:
                rate = (scaling[name]["chunks"], scaling[name]["ingest_s"])
    side_by_side = {e: encoder_row(warms[e], colds[e], serves[e]) for e in encoders}
    if "onnx" in side_by_side:
        side_by_side["onnx"]["export_s"] = round(ingest["export_s"], 2)
    result = {
        "encode_p50_ms": round(warm["encode_p50_ms"], 2),
        "ask_p50_ms": round(warm["ask_p50_ms"], 2),
        "ask_p95_ms": round(warm["ask_p95_ms"], 2),
        "stages_ms": warm["stages_ms"],
        "ratio_ask_to_encode": round(warm["ask_p50_ms"] / warm["encode_p50_ms"], 3),
        "cold_ask_s": round(percentile(asks, 50), 2),
        "cold_floor_s": round(percentile(floors, 50), 2),
        "ingest_full_s": round(ingest["ingest_full_s"], 2),
        "reingest_unchanged_s": round(ingest["reingest_unchanged_s"], 3),
        "reingest_unchanged_embedded": ingest["reingest_unchanged_embedded"],
        "reingest_one_changed_embedded": ingest["reingest_one_changed_embedded"],
        "serve_rss_mb": round(served["serve_rss_mb"], 1),
        "story_ask_p50_ms": round(stories["ask_p50_ms"], 2),
        "story_ask_p95_ms": round(stories["ask_p95_ms"], 2),
        "ratio_story_p95_to_encode": round(stories["ask_p95_ms"] / warm["encode_p50_ms"], 3),
        "scaling": scaling,
        "throughput": served["throughput"],
        "encoder": primary,
        "encoders": side_by_side,
    }
    about = {"quick": plan.quick, "cpus": os.cpu_count(), "questions": len(QUESTIONS), "rounds": plan.rounds,
             "when": time.strftime("%Y-%m-%d %H:%M"), "seconds": time.perf_counter() - began, "notes": notes,
             "encoders": list(encoders),
             "cold_runs": {e: {"glute_ask_s": [round(x, 2) for x in colds[e][0]],
                               "floor_s": [round(x, 2) for x in colds[e][1]]} for e in encoders}}
    notes.append(f"Load average (1 min) {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, on "
                 f"{os.cpu_count()} cores: other processes on the machine inflate and scatter every number.")
    for e in encoders:
        notes.append(f"Cold starts with {e} (median of {plan.cold_runs}, interleaved with the other encoder's): "
                     f"glute ask {about['cold_runs'][e]['glute_ask_s']} s, model floor "
                     f"{about['cold_runs'][e]['floor_s']} s.")
    return result, about
