"""A short Markdown model card written into every finished run directory.

The card knows nothing of any task: the task supplies ``sections`` (``labels``: what it predicts;
``details``: where the rest of the report lives) through ``Task.card_sections``.
"""

from __future__ import annotations

from pathlib import Path

from kerazoo.recipes.config import to_yaml
from kerazoo.recipes.run_dir import atomic_write_text


def write(run_dir: Path, config, data, report: dict, input_description: str = "",
          sections: dict[str, str] | None = None) -> None:
    metrics = "\n".join(
        f"| {key} | {value:.4f} |" for key, value in report.items()
        if isinstance(value, float) and "/" not in key
    )
    sections = sections or {}
    labels = f"; {sections['labels']}" if sections.get("labels") else ""
    details = sections.get("details", "")
    baseline = report.get("baseline") or {}
    title, exported = config.model.name, ""
    if baseline.get("exported") == "baseline":
        # train.prefer_baseline swapped the models: say which one these files and metrics are.
        title = baseline["model"]
        exported = (f"- **Exported model**: the baseline `{baseline['model']}`, not the "
                    f"configured `{config.model.name}`: it scored higher on validation "
                    "(`train.prefer_baseline`); the test metrics below are the baseline's.\n")
    elif baseline.get("exported") == "ensemble":
        title = f"{config.model.name} + {baseline['model']}"
        exported = (f"- **Exported model**: the average of the probabilities of the configured "
                    f"`{config.model.name}` and the baseline `{baseline['model']}`, one model "
                    "holding both: it scored clearly higher on validation than the model alone "
                    "(`train.ensemble_baseline`); the test metrics below are the average's.\n")
    text = f"""# Model card: {title} for {config.task}

- **Task**: {config.task}{labels}
{exported}- **Data**: `{config.data.source}` — train {data.sizes.get("train")}, validation
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
