"""collectstatic with the production storage: every static file is collected and
every file a stylesheet or script names exists (the manifest storage refuses
otherwise), and the collected files are served with far-future cache headers."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


def test_collectstatic_with_the_manifest_storage_collects_every_file(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST):
        call_command("collectstatic", interactive=False, verbosity=0)
    collected = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert "staticfiles.json" in collected
    source = Path(__file__).resolve().parents[2] / "static"
    for path in source.rglob("*"):
        if path.is_file():
            assert path.relative_to(source).as_posix() in collected
    # Hashed copies, which WhiteNoise serves as immutable.
    assert any(
        name.startswith("vendor/chartjs/chart.umd.min.") and name.endswith(".js")
        for name in collected
        if name != "vendor/chartjs/chart.umd.min.js"
    )


STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.mark.parametrize(
    "vendored",
    sorted(
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.suffix in {".js", ".css"}
    ),
)
def test_scripts_and_styles_name_no_missing_source_map(vendored):
    root = STATIC
    text = (root / vendored).read_text()
    for line in text.splitlines():
        if "sourceMappingURL=" in line:
            target = line.split("sourceMappingURL=", 1)[1].strip(" */")
            assert (root / vendored).with_name(target).exists(), target
