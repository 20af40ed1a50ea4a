"""A short Markdown model card written into every finished run directory."""

from __future__ import annotations

from pathlib import Path

from kerazoo.recipes.config import to_yaml
from kerazoo.recipes.run_dir import atomic_write_text


def write(run_dir: Path, config, data, report: dict, input_description: str = "") -> None:
    metrics = "\n".join(
        f"| {key} | {value:.4f} |" for key, value in report.items()
        if isinstance(value, float) and "/" not in key
    )
    classes = (f"{len(data.class_names)} classes: {', '.join(data.class_names)}"
               if data.class_names else "no classes (regression)")
    details = ("Per-class precision and recall are in `evaluation.json`, the confusion matrix in\n"
               "`confusion_matrix.png`, the training curves in `training_curves.png`."
               if data.class_names else
               "Baselines, backtest and per-step errors are in `evaluation.json`, example forecasts "
               "in\n`forecast_plot.png`, the training curves in `training_curves.png`.")
    text = f"""# Model card: {config.model.name} for {config.task}

- **Task**: {config.task}; {classes}
- **Data**: `{config.data.source}` — train {data.sizes.get("train")}, validation
  {data.sizes.get("validation")}, test {data.sizes.get("test")} examples
  ({data.info.get("license", "see the source's license")}).
- **Input**: {input_description or f"{data.feature_spec[0]} {data.feature_spec[1]}"}.
- **Intended use**: a baseline trained by `kerazoo train`; not evaluated for use on people or
  for decisions about them.

## Test metrics

| metric | value |
|---|---|
{metrics}

{details}

## Configuration

```yaml
{to_yaml(config)}```
"""
    atomic_write_text(Path(run_dir) / "model_card.md", text)
