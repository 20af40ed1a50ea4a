"""``kerazoo train | evaluate | predict | export``: the same verbs for every recipe."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kerazoo.errors import ConfigError, DataError
from kerazoo.recipes.preset_runs import resolve_run

RUN_HELP = "a run directory, or preset:NAME for a shipped preset (`kerazoo list presets`)"

# Short flags are shorthands for config keys (applied before --set, which wins).
SHORTHANDS = {
    "data": "data.source", "data_dir": "data.data_dir", "model": "model.name",
    "epochs": "train.epochs", "batch_size": "train.batch_size", "init": "model.init",
    "strategy": "runtime.strategy", "tpu": "runtime.tpu", "precision": "runtime.precision",
}


def sources_help() -> str:
    """Per recipe, the ``--data`` forms and what each is, from the recipes' source tables.

    Reads only the tables (plain data): no TensorFlow or Keras is imported.
    """
    import kerazoo.recipes  # noqa: F401  (registers the recipes)
    from kerazoo.registry import registry

    lines = ["data sources (--data / data.source), per recipe:"]
    for name in registry("recipes").list():
        task = registry("recipes").get(name).obj
        lines.append(f"  {task.name}:")
        for form, source in zip(task.source_forms(), task.sources.values()):
            lines.append(f"    {form:<22} {source.description}")
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="train a recipe (image_classification, ...) into a run directory",
        description="Train a recipe. Config = the recipe's defaults, then --config FILE, then "
        "the short flags, then --set key=value (e.g. --set train.learning_rate=0.01). A key the "
        "recipe does not use is refused.",
        epilog=sources_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("task", metavar="TASK", help="recipe name (`kerazoo list recipes`)")
    train.add_argument("--config", metavar="FILE", help="YAML experiment config")
    train.add_argument("--data", metavar="SOURCE",
                       help="a source of the recipe (listed below), e.g. digits, tfds:NAME")
    train.add_argument("--data-dir", metavar="DIR", help="TFDS data directory")
    train.add_argument("--download", action="store_true", help="let TFDS download the dataset")
    train.add_argument("--model", metavar="NAME", help="zoo model name")
    train.add_argument("--init", metavar="SPEC", help="preset:NAME or run:DIR (fine-tuning)")
    train.add_argument("--freeze-backbone", action="store_true", help="train the head only")
    train.add_argument("--epochs", type=int, metavar="N")
    train.add_argument("--batch-size", type=int, metavar="N", help="per-replica batch size")
    train.add_argument("--strategy", metavar="NAME",
                       help="auto | cpu | one_device | mirrored | multi_worker | tpu")
    train.add_argument("--tpu", metavar="ADDRESS")
    train.add_argument("--precision", metavar="POLICY",
                       help="auto | float32 | mixed_float16 | mixed_bfloat16")
    train.add_argument("--jit-compile", action="store_true", help="XLA-compile the train step")
    train.add_argument("--run-dir", metavar="DIR", help="default: runs/TASK-MODEL")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config key (repeatable)")
    train.add_argument("--no-export", action="store_true", help="skip the SavedModel export")
    train.set_defaults(run=run_train)

    evaluate = subparsers.add_parser(
        "evaluate", help="evaluate a run on its test split",
        description="Evaluate a finished run on a split of its own source (or of --data, which "
        "must have the same classes). Writes evaluation.json (test split of the run's own "
        "source) or evaluation-SPLIT.json, and prints the recipe's headline metrics.")
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help=RUN_HELP)
    evaluate.add_argument("--data", metavar="SOURCE", help="another source with the same classes")
    evaluate.add_argument("--split", default="test")
    evaluate.set_defaults(run=run_evaluate)

    predict = subparsers.add_parser(
        "predict", help="predict with a trained run (image/wav files, texts, or --csv rows)",
        description="Predict with a finished run: image files (image_classification), texts "
        "(sentiment_analysis), .wav files (speech_commands) or --csv FILE of recent rows "
        "(time_series_forecasting). Classifiers print the --top classes per input.")
    predict.add_argument("run_dir", metavar="RUN_DIR", help=RUN_HELP)
    predict.add_argument("inputs", nargs="*", metavar="INPUT",
                         help="image or wav files, or texts, depending on the recipe")
    predict.add_argument("--top", type=int, default=3, help="classes shown per input")
    predict.add_argument("--csv", metavar="FILE", help="recent rows to forecast from (series)")
    predict.set_defaults(run=run_predict)

    export = subparsers.add_parser(
        "export", help="export a run (SavedModel, TFLite, .keras)",
        description="Export a finished run: the next SavedModel version under RUN_DIR/export "
        "(TF Serving's layout, with an export.json manifest of sha256 sums), a .tflite file of "
        "its serving_default signature, a .keras file, or a zoo preset directory.")
    export.add_argument("run_dir", metavar="RUN_DIR", help=RUN_HELP)
    export.add_argument("--format", default="saved_model",
                        choices=("saved_model", "tflite", "keras", "preset"))
    export.add_argument("--name", metavar="NAME",
                        help="preset name (--format preset); default TASK_MODEL")
    export.add_argument("--quantization", default="none", choices=("none", "dynamic_int8"),
                        help="TFLite quantization")
    export.set_defaults(run=run_export)


def run_train(args: argparse.Namespace) -> int:
    from kerazoo.recipes import api

    overrides = [f"{key}={json.dumps(getattr(args, flag))}"
                 for flag, key in SHORTHANDS.items() if getattr(args, flag) is not None]
    if args.download:
        overrides.append("data.download=true")
    if args.freeze_backbone:
        overrides.append("model.freeze_backbone=true")
    if args.jit_compile:
        overrides.append("runtime.jit_compile=true")
    overrides += args.overrides
    config = api.resolve_config(args.task, args.config, overrides)
    run_dir = args.run_dir or api.default_run_dir(config)
    api.train(config, run_dir, export=not args.no_export)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from kerazoo.recipes import api
    from kerazoo.recipes.run_dir import atomic_write_json
    from kerazoo.recipes.trainer import headline_line

    args.run_dir = str(resolve_run(args.run_dir))  # preset:NAME -> its run directory
    task, model = api.load_run(args.run_dir)
    if args.data:
        task.config.data.source = args.data
    data = task.prepare_data()
    if args.split not in data.splits:
        raise ConfigError(f"--split {args.split!r}: the source has {', '.join(data.splits)}.")
    labels = json.loads((Path(args.run_dir) / "labels.json").read_text())
    if data.class_names != labels:
        raise DataError(f"{args.data}: classes {data.class_names} differ from the run's {labels}.")
    report = task.evaluate(model, data, args.split, run_dir=args.run_dir)
    name = "evaluation.json" if not args.data and args.split == "test" else (
        f"evaluation-{args.split}.json")
    atomic_write_json(Path(args.run_dir) / name, report)
    print(f"{args.split} {headline_line(task, report)}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from kerazoo.recipes import api

    args.run_dir = str(resolve_run(args.run_dir))  # preset:NAME -> its run directory
    task, model = api.load_run(args.run_dir)
    labels = json.loads((Path(args.run_dir) / "labels.json").read_text())
    records = task.predict_inputs(model, args.inputs, csv=args.csv, class_names=labels)
    for record in records:
        print(format_record(record, args.top))
    return 0


def format_record(record: dict, top: int) -> str:
    """One printed line per prediction record (the tasks return records, not text)."""
    if "probabilities" in record:
        best = sorted(record["probabilities"].items(), key=lambda item: -item[1])[:top]
        name = record.get("file") or record.get("text", "")
        if "text" in record:
            name = repr(name if len(name) <= 60 else name[:57] + "...")
        return f"{name}: " + ", ".join(f"{label} {p:.3f}" for label, p in best)
    parts = []
    for target, value in record["forecast"].items():
        text = f"{target}={value:.4f}"
        if "interval" in record:
            low, high = record["interval"][target]
            text += f" [{low:.4f}, {high:.4f}]"
        parts.append(text)
    prefix = f"{record['series']}\t" if record.get("series") is not None else ""
    return f"{prefix}{record['timestamp']}\t" + "\t".join(parts)


def run_export(args: argparse.Namespace) -> int:
    from kerazoo.recipes import api
    from kerazoo.recipes.export import export_saved_model

    args.run_dir = str(resolve_run(args.run_dir))  # preset:NAME -> its run directory
    task, model = api.load_run(args.run_dir)
    run_dir = Path(args.run_dir)
    labels = json.loads((run_dir / "labels.json").read_text())
    if args.format == "preset":
        from kerazoo.recipes.export import export_preset

        target = export_preset(task, model, run_dir, labels, name=args.name)
    elif args.format == "keras":
        target = run_dir / "export" / f"{task.config.model.name}.keras"
        target.parent.mkdir(exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp.keras")
        model.save(temp)
        temp.rename(target)
    else:
        versions = sorted((run_dir / "export").glob("[0-9]*"), key=lambda p: int(p.name))
        if args.format == "saved_model" or not versions:
            versions.append(export_saved_model(task, model, labels, run_dir))
        target = versions[-1]
        if args.format == "tflite":
            from kerazoo.serving.tflite import convert_saved_model

            target = Path(convert_saved_model(
                str(target), str(run_dir / "export" / f"model-{target.name}.tflite"),
                quantization=args.quantization,
                # The raw-pixel signature only: image decoding has no TFLite kernel.
                signature_keys=["serving_default"],
            ))
    if target.is_file():
        target.chmod(0o644)  # temp files are made 0600; exports are meant to be shared
    print(target)
    return 0
