"""Council sign-in's settings: off without an issuer; with one, the dashboard refuses to
start naming what is missing, reads the secret from a file, and never prints the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.oidc import configured
from flagstream.settings import DashboardSettings

MAPPING = '[[map]]\ngroup = "g"\nrole = "manager"\n'
SECRET = "the-client-secret-value-123"


def settings(tmp_path: Path, **values: object) -> DashboardSettings:
    (tmp_path / "map.toml").write_text(MAPPING)
    base: dict[str, object] = {
        "dashboard_oidc_issuer": "https://login.example/tenant/v2.0",
        "dashboard_oidc_client_id": "client",
        "dashboard_oidc_redirect_url": "https://dash.example/auth/callback",
        "dashboard_oidc_mapping_file": tmp_path / "map.toml",
        "dashboard_oidc_client_secret": SECRET,
    }
    return DashboardSettings(**{**base, **values})  # type: ignore[arg-type]


def test_off_without_an_issuer(tmp_path: Path) -> None:
    assert configured(settings(tmp_path, dashboard_oidc_issuer=""), "k" * 40) is None


def test_on_with_everything_and_the_secret_never_in_its_repr(tmp_path: Path) -> None:
    sign_in = configured(settings(tmp_path), "k" * 40)
    assert sign_in is not None and sign_in.client.config.client_secret == SECRET
    assert SECRET not in repr(sign_in) and "k" * 40 not in repr(sign_in)


def test_the_secret_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-the-file\n")
    found = configured(
        settings(
            tmp_path,
            dashboard_oidc_client_secret=None,
            dashboard_oidc_client_secret_file=tmp_path / "secret",
        ),
        "k" * 40,
    )
    assert found is not None and found.client.config.client_secret == "from-the-file"


def test_refuses_to_start_naming_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="FLAGSTREAM_DASHBOARD_OIDC_CLIENT_ID") as stopped:
        configured(settings(tmp_path, dashboard_oidc_client_id=""), "k" * 40)
    assert SECRET not in str(stopped.value)
    with pytest.raises(SystemExit, match="CLIENT_SECRET"):
        configured(settings(tmp_path, dashboard_oidc_client_secret=None), "k" * 40)
    (tmp_path / "bad.toml").write_text('[[map]]\ngroup = "g"\nrole = "dsl"\n')
    with pytest.raises(SystemExit, match="needs a scope"):
        configured(settings(tmp_path, dashboard_oidc_mapping_file=tmp_path / "bad.toml"), "k" * 40)
