"""kerazoo/catalog_index.json (what `kerazoo list`/`info` read) equals the live registries."""

from __future__ import annotations

import copy

import pytest

from kerazoo import catalog_index

REGENERATE = "run `make index` (= python -m kerazoo.catalog_index) and commit kerazoo/catalog_index.json"


def _without_macs(index):
    index = copy.deepcopy(index)
    for entry in index["entries"]:
        entry.get("card", {}).pop("macs", None)
    return index


def test_committed_index_equals_the_live_registries():
    committed = _without_macs(catalog_index.load_index())
    live = catalog_index.build_index(macs=False)
    committed_names = {(e["kind"], e["name"]) for e in committed["entries"]}
    live_names = {(e["kind"], e["name"]) for e in live["entries"]}
    assert committed_names == live_names, (
        f"missing {sorted(live_names - committed_names)}, stale "
        f"{sorted(committed_names - live_names)}: {REGENERATE}"
    )
    by_key = {(e["kind"], e["name"]): e for e in committed["entries"]}
    for entry in live["entries"]:
        assert by_key[(entry["kind"], entry["name"])] == entry, (
            f"{entry['kind']} '{entry['name']}' changed: {REGENERATE}"
        )


@pytest.mark.tf_only
@pytest.mark.parametrize("name", ["simple_cnn", "nlinear"])
def test_committed_macs_match_a_fresh_count(name):
    committed = {e["name"]: e for e in catalog_index.entries("models")}[name]["card"]["macs"]
    assert committed == catalog_index.model_macs(name)


def test_presets_are_a_kind_read_from_their_metadata():
    presets = catalog_index.entries("presets")
    names = [entry["name"] for entry in presets]
    assert "simple_cnn_digits" in names
    digits = presets[names.index("simple_cnn_digits")]
    assert digits["metadata"]["model"] == "simple_cnn"
    assert catalog_index.find("simple_cnn_digits") == [digits]


def test_find_suggests_close_names():
    with pytest.raises(catalog_index.NotFoundError, match="Did you mean: .*resnet20"):
        catalog_index.find("resnet2O")
