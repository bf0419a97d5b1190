"""`glute`: a thin command line over the library. Heavy modules are imported inside commands only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from . import __version__
from .config import SETTINGS
from .errors import GluteError, InvalidSetting

if TYPE_CHECKING:
    from .config import Settings

EXIT_INVALID = 2
FLAGS = "glute.flags"  # ctx.meta (shared by the group and its commands): the setting flags typed on the command line


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Keep a setting flag typed on the command line, for `_settings`; a value click found in the environment is
    left to Settings.from_env, which names the very variable (an old name too) when it is bad."""
    if value is not None and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
        ctx.meta.setdefault(FLAGS, {})[param.name] = value


def settings_options(*names: str):
    """The click options of these Settings fields (see config.SETTINGS), each bound to its GLUTE_* variable."""
    def decorate(command):
        for name in reversed(names):
            spec = SETTINGS[name]
            command = click.option(spec.flag, name, metavar=spec.metavar, envvar=list(spec.variables),
                                   show_envvar=True, help=spec.help, expose_value=False, callback=_remember)(command)
        return command
    return decorate


index_options = settings_options("index_dir", "chroma_url", "corpus_dir")  # every command that opens the index
answer_options = settings_options("lock_timeout_s", "encoder", "encoder_threads", "llm", "llm_base_url",
                                  "llm_api_key", "llm_timeout_s")  # the commands that answer (and build if need be)


def _settings():
    """This command's Settings, built once from its flags and the environment; a bad value exits 2 (GluteGroup)."""
    from .config import Settings

    ctx = click.get_current_context()
    if "glute.settings" not in ctx.meta:
        ctx.meta["glute.settings"] = Settings.from_env(**ctx.meta.get(FLAGS, {}))
    return ctx.meta["glute.settings"]


def _load():
    from .pipeline import Assistant

    return Assistant.load(settings=_settings(), progress=True)


def _read_history(path: str) -> list[dict]:
    """A JSON list of {"role", "content"} turns; anything else is invalid input (exit 2)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read history file {path}: {exc.strerror if isinstance(exc, OSError) else exc}", EXIT_INVALID)
    except json.JSONDecodeError as exc:
        _fail(f"history file {path} is not valid JSON (line {exc.lineno}): {exc.msg}", EXIT_INVALID)
    if not isinstance(data, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in data
    ):
        _fail(f"history file {path} must be a JSON list of {{\"role\": \"user\"|\"assistant\", \"content\": "
              "\"...\"}} objects", EXIT_INVALID)
    return data


def _print_answer(answer, as_json: bool) -> None:
    from .provenance import describe as origin_label

    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if answer.safety == "red_flag":
        click.secho("! Red flag: please read this first.", fg="red", bold=True)
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            click.secho(f"[{c.marker}] {c.title} — {c.section} ({c.source})", bold=True)
            for line in c.text.splitlines():
                click.echo(f"    {line}")
            for statement in c.statements:
                origins = "; ".join(origin_label(o) for o in statement["provenance"]) or "no source tag"
                click.secho(f"      \"{statement['text']}\" from: {origins}", dim=True)


class GluteGroup(click.Group):
    """Turns the errors a user can cause into one line on stderr, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InvalidSetting as exc:
            _fail(str(exc), EXIT_INVALID)
        except GluteError as exc:
            _fail(str(exc))
        except click.NoSuchOption as exc:  # `glute ask -0`: a question that starts with "-" reads as an option
            _fail(f"{exc.format_message()} A question that starts with '-' goes after '--': "
                  f"glute ask -- \"<question>\"", exc.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "glute"
            _fail(f"{exc.format_message()} See '{command} --help'.", exc.exit_code)


@click.group(cls=GluteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glute")
@settings_options("chroma_url")  # here too, as before: `glute --chroma-url URL ingest`
def main() -> None:
    """glute: cited answers about gluteus medius pain and its rehabilitation exercises."""


@main.command()
@click.option("--rebuild", is_flag=True, help="Build a fresh index in a new directory, then switch to it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@index_options
@settings_options("lock_timeout_s", "encoder", "encoder_threads")
def ingest(rebuild: bool, quiet: bool) -> None:
    """Build or update the index from corpus/ (only changed chunks are embedded)."""
    from .index import ingest as run_ingest

    report = run_ingest(_settings(), rebuild=rebuild, progress=not quiet)
    click.echo(report.summary())


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--history", "history_file", type=click.Path(dir_okay=False),
              help="JSON file with the conversation so far: [{\"role\": ..., \"content\": ...}].")
@click.option("-k", "top_k", type=click.IntRange(1, 20), help="Passages to retrieve (default 5).")
@index_options
@answer_options
def ask(question: str, as_json: bool, history_file: str | None, top_k: int | None) -> None:
    """Answer one QUESTION with citations."""
    from .guard import clean_question

    _settings()
    history = _read_history(history_file) if history_file else None
    try:
        clean_question(question)
    except GluteError as exc:
        _fail(str(exc), EXIT_INVALID)
    bot = _load()
    if top_k:
        bot.settings = bot.settings.with_overrides(top_k=top_k)
    _print_answer(bot.ask(question, history=history), as_json)


@main.command()
@index_options
@answer_options
def chat() -> None:
    """A conversation in the terminal; follow-ups use what was said before. Ctrl-D or 'quit' ends it."""
    bot = _load()
    history: list[dict] = []
    click.echo("Ask about gluteus medius pain and exercises (Ctrl-D or 'quit' to leave).")
    while True:
        try:
            question = click.prompt(click.style("you", fg="cyan", bold=True), prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo()
            return
        if question.strip().lower() in {"quit", "exit"}:
            return
        answer = bot.ask(question, history=history)
        _print_answer(answer, as_json=False)
        click.echo()
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]


@main.group()
def corpus() -> None:
    """Work with the knowledge base in corpus/."""


@corpus.command("check")
@settings_options("corpus_dir")
def corpus_check() -> None:
    """Validate every entry and print a coverage report; exit 1 on any problem."""
    from .chunking import chunk_corpus
    from .corpus import load_corpus
    from .validate import check_corpus, coverage

    loaded = load_corpus(_settings().corpus_dir)
    problems = check_corpus(loaded)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo("Coverage: " + ", ".join(f"{k} {v}" for k, v in coverage(loaded, len(chunk_corpus(loaded))).items()))
    if problems:
        _fail(f"{len(problems)} problem(s) in the corpus.")
    click.echo("Corpus OK.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 makes the UI reachable from your network.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--share", is_flag=True, help="Also create a temporary public link through Gradio's share service.")
@click.option("--mcp", is_flag=True, help="Also serve the `ask` tool over MCP (streamable HTTP) at /mcp.")
@index_options
@answer_options
@settings_options("auth", "feedback")
def serve(host: str, port: int, share: bool, mcp: bool) -> None:
    """Start the chat UI in your browser (the index is built first if there is none)."""
    settings = _settings()
    from .serve.app import serve as run_server

    run_server(host, port, share=share, settings=settings, auth=settings.auth, mcp=mcp)


@main.command("eval")
@click.option("--split", type=click.Choice(["dev", "seen", "test", "real-dev", "real-test", "real-test-2",
                                           "real-test-3", "all", "conversations-dev", "conversations-test",
                                           "conversations-test-2", "safety-dev", "safety-seen", "safety-test",
                                           "safety-test-2"]),
              default="dev", show_default=True,
              help="Which questions to run; test, real-test-*, conversations-test* and safety-test* are sealed "
              "(eval/heldout/), run once for final numbers; all = every split that is not sealed; conversations-* "
              "play multi-turn dialogues; safety-* screen the safety set only.")
@click.option("--retriever", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@click.option("--no-linking", is_flag=True, help="Turn off exercise-name linking.")
@click.option("--compare", is_flag=True,
              help="Also run dense, BM25, hybrid, hybrid without linking and a naive baseline, side by side.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder (default eval/reports/latest).")
@click.option("--questions", "questions_file", type=click.Path(dir_okay=False), help="Question set (YAML).")
@click.option("--thresholds", "thresholds_file", type=click.Path(dir_okay=False), help="Floors (YAML).")
@click.option("--conversations", "conversations_file", type=click.Path(dir_okay=False),
              help="Play this dialogues file (YAML, as eval/conversations.yaml) instead of a question set.")
@index_options
@answer_options
def eval_command(split: str, retriever: str, no_linking: bool, compare: bool, out_dir: str | None,
                 questions_file: str | None, thresholds_file: str | None, conversations_file: str | None) -> None:
    """Run the eval question set, write a report, and exit 1 when a floor in eval/thresholds.yaml is missed."""
    from .evaluation import questions as eq
    from .evaluation import runner as ev
    from .evaluation.report import compare_rows, summary_rows, text_table, write_report
    from .pipeline import Assistant

    settings = _settings()
    if split.startswith("safety-"):
        _eval_safety(split.removeprefix("safety-"), settings, out_dir)
        return
    if conversations_file or split.startswith("conversations"):
        _eval_conversations(split, conversations_file, retriever, no_linking, out_dir, thresholds_file)
        return

    files = [Path(questions_file)] if questions_file else list(eq.QUESTION_FILES)
    questions = eq.select(eq.load_all(files), split)
    floors = ev.load_thresholds(Path(thresholds_file) if thresholds_file else ev.THRESHOLDS_PATH)
    if not questions:
        _fail(f"no questions in the {split} split")
    bot = Assistant.load(settings=settings, progress=True, retriever=retriever, linking=not no_linking)
    for problem in eq.check_questions(questions, bot.chunks):
        click.secho(f"warning: {problem}", fg="yellow", err=True)
    report, results = ev.evaluate(bot, questions, split)
    report["question_files"] = eq.file_hashes(files)
    if split in ("dev", "seen"):  # the safety set's matching half (sealed halves only via --split safety-test*)
        from .evaluation.safety import SAFETY_FILES, describe, load_cases, score_safety, semantic_curve

        cases = load_cases(SAFETY_FILES[split])
        report["safety_set"] = score_safety(cases, bot.screen)
        if split == "dev" and bot.exemplars:  # the semantic screen's thresholds are chosen on dev only
            report["safety_semantic_curve"] = semantic_curve(bot, cases)
        report["question_files"].update(eq.file_hashes([SAFETY_FILES[split]]))
    comparison = ev.compare(bot.settings, questions, {report["config"]["name"]: results}) if compare else None
    if bot.writer:  # an LLM is configured: the extractive answers to the same questions, side by side
        report["modes"] = ev.compare_modes(bot, questions, results)
    out = Path(out_dir) if out_dir else ev.REPORT_DIR
    write_report(out, report, results, floors, comparison)
    click.echo(f"{report['n_questions']} questions ({split} split, {report['config']['name']}): "
               f"{len(report['failures'])} with problems\n")
    click.echo(text_table(["metric", "value", "floor", ""], summary_rows(report, floors)))
    if comparison:
        click.echo("\n" + text_table(["configuration", "recall@5", "mrr", "key facts", "refusal acc", "p50 ms"],
                                     compare_rows(comparison)))
    if report.get("modes"):
        click.echo("\n" + text_table(["answers", "recall@5", "mrr", "key facts", "refusal acc", "p50 ms"],
                                     compare_rows(report["modes"])))
    if report.get("safety_set"):
        safety = report["safety_set"]
        click.echo(f"\nsafety set ({split}, {safety['n_cases']} cases): {describe(safety)}")
    click.echo(f"\nReport: {out / 'report.md'}")
    missed = ev.misses(report, floors)
    if missed:
        _fail("below the floor: " + ", ".join(missed))


def _eval_safety(split: str, settings: Settings, out_dir: str | None) -> None:
    """`glute eval --split safety-dev|safety-seen|safety-test|safety-test-2`: the safety set alone, screened as
    `Assistant.ask` screens (rules, then the semantic screen), and on dev the curve its thresholds came from."""
    from .evaluation import questions as eq
    from .evaluation import runner as ev
    from .evaluation.safety import SAFETY_FILES, describe, load_cases, score_safety, semantic_curve
    from .pipeline import Assistant

    bot = Assistant.load(settings=settings, progress=True)
    cases = load_cases(SAFETY_FILES[split])
    report = {"split": f"safety-{split}", "files": eq.file_hashes([SAFETY_FILES[split]]),
              "rules_and_semantic": score_safety(cases, bot.screen), "rules_only": score_safety(cases)}
    if split == "dev" and bot.exemplars:
        report["semantic_curve"] = semantic_curve(bot, cases)
    out = Path(out_dir) if out_dir else ev.REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / "safety.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("rules_and_semantic", "rules_only"):
        got = report[name]
        click.echo(f"{name.replace('_', ' ')} ({got['n_cases']} cases): {describe(got)}; lowest category "
                   f"{got['red_flag_recall_min']}")
    click.echo(f"\nReport: {out / 'safety.json'}")


def _eval_conversations(split: str, path: str | None, retriever: str, no_linking: bool, out_dir: str | None,
                        thresholds_file: str | None) -> None:
    """`glute eval --split conversations-dev|conversations-test` (or `--conversations FILE`): play the dialogues,
    write the report, exit 1 below a floor."""
    from .evaluation import conversations as ec
    from .evaluation import runner as ev
    from .evaluation.report import text_table
    from .pipeline import Assistant

    split = split if split.startswith("conversations") else "conversations-dev"
    file = Path(path) if path else ec.CONVERSATION_FILES[split]
    floors = ev.load_thresholds(Path(thresholds_file) if thresholds_file else ev.THRESHOLDS_PATH)
    bot = Assistant.load(settings=_settings(), progress=True, retriever=retriever, linking=not no_linking)
    report, results, problems = ec.run(bot, file, split)
    for problem in problems:
        click.secho(f"warning: {problem}", fg="yellow", err=True)
    out = Path(out_dir) if out_dir else ev.REPORT_DIR
    ec.write_report(out, report, results, floors)
    click.echo(f"{report['n_dialogues']} dialogues, {report['n_turns']} turns ({split}, {file.name}): "
               f"{len(report['failures'])} turns wrong\n")
    click.echo(text_table(["metric", "value", "floor", ""], ec.summary_rows(report, floors)))
    click.echo(f"\nReport: {out / 'report.md'}")
    missed = ec.misses(report, floors)
    if missed:
        _fail("below the floor: " + ", ".join(missed))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object; progress goes to stderr.")
@click.option("--quick", is_flag=True, help="Fewer questions and requests, 10x scaling only: about two minutes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Report folder (default eval/reports; eval/reports/latest with --quick).")
@click.option("--encoder", type=click.Choice(["torch", "onnx", "both"]), default="both", show_default=True,
              help="Query encoder(s) to measure: sentence-transformers (torch), the ONNX export, or both side by side.")
def bench(as_json: bool, quick: bool, out_dir: str | None, encoder: str) -> None:
    """Measure latency, cold start, ingest cost, memory, scaling and UI throughput; write bench.md and a plot."""
    import contextlib
    import time

    from .bench.report import text_table, write_report
    from .bench.runner import FULL, QUICK, QUICK_REPORT_DIR, REPORT_DIR, run_bench

    started = time.monotonic()

    def log(message: str) -> None:
        click.echo(f"bench [{time.monotonic() - started:5.0f} s] {message}", err=True)

    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the result only
        result, about = run_bench(QUICK if quick else FULL, log,
                                  ("torch", "onnx") if encoder == "both" else (encoder,), base=_settings())
        report = write_report(result, about, Path(out_dir) if out_dir else QUICK_REPORT_DIR if quick else REPORT_DIR)
    click.echo(json.dumps(result, indent=2) if as_json else text_table(result))
    log(f"report: {report}")


if __name__ == "__main__":
    main()
