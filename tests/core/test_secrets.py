"""App secrets and access tokens never show: not in logs, reprs, exception messages or CLI output.

The strongest check runs a full mixed suggest against both simulators with DEBUG logging on for
``slotfinder`` and ``aiohttp``, then reads the tokens the simulators actually issued from their
``TokenStore`` and looks for them, and for the secrets, everywhere the run left text.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
from slotfinder_dingtalk.simulator import TOKENS as DINGTALK_TOKENS
from slotfinder_feishu.simulator import TOKENS as FEISHU_TOKENS

from slotfinder.api import suggest
from slotfinder.cli import main
from slotfinder.config import Config
from slotfinder.errors import ConfigError, InputError
from slotfinder.model import Attendee, MeetingRequest, Span
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, HttpRequest, Secret, Token
from slotfinder.testing import get_simulators, simkit
from slotfinder.testing.simkit import TokenStore
from slotfinder.testing.simulation import DemoTenant

pytestmark = pytest.mark.timeout(60)

WINDOW = Span(1_795_363_200, 1_795_363_200 + 5 * 86_400)  # 2026-11-23T00:00+08:00, 5 days
SECRET = "s3cr3t-Value-0f-The-App"


@attrs.define
class Sims:
    """Both simulators on loopback, their demo tenants and a config file for them."""

    apps: dict[str, Any]
    tenants: dict[str, DemoTenant]
    path: Path

    def secrets(self) -> list[str]:
        return [str(t.config["app_secret"]) for t in self.tenants.values()]

    def tokens(self) -> list[str]:
        """Every token the simulators issued (read from their TokenStores)."""
        stores: list[TokenStore] = [
            self.apps["feishu"][FEISHU_TOKENS],
            self.apps["dingtalk"][DINGTALK_TOKENS],
        ]
        return [t for store in stores for t in store._tokens]

    def config(self, **secrets: str) -> Config:
        """A Config for both simulators; ``feishu="x"`` replaces that provider's secret."""
        providers = {
            name: {**t.config, **({"app_secret": secrets[name]} if name in secrets else {})}
            for name, t in self.tenants.items()
        }
        return Config(tz="Asia/Shanghai", providers=providers, env={})


def _toml(tenants: dict[str, DemoTenant], secrets: bool) -> str:
    lines = ['tz = "Asia/Shanghai"']
    for name, tenant in tenants.items():
        lines.append(f"[providers.{name}]")
        lines += [
            f"{k} = {json.dumps(str(v))}"
            for k, v in tenant.config.items()
            if secrets or k != "app_secret"
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
async def sims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sims]:
    """The Feishu and DingTalk simulators; the config file holds no secret (env does)."""
    for var in [v for v in os.environ if v.startswith("SLOTFINDER_")]:
        monkeypatch.delenv(var)
    async with simkit.serving(get_simulators(), ("feishu", "dingtalk"), seed=11) as served:
        apps: dict[str, Any] = {name: x.app for name, x in served.items()}
        tenants = {name: x.tenant for name, x in served.items()}
        path = tmp_path / "slotfinder.toml"
        path.write_text(_toml(tenants, secrets=False), encoding="utf-8")
        yield Sims(apps, tenants, path)


def _absent(needles: Iterable[str], **texts: str) -> None:
    """No needle occurs in any of the texts (named in the failure message)."""
    needles = [n for n in needles if n]
    assert needles
    for where, text in texts.items():
        for needle in needles:
            assert needle not in text, f"{needle[:6]}... leaked into {where}"


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(repr(record.args))
        parts.append(repr(record.exc_info))
    return "\n".join(parts)


def _people(sims: Sims) -> list[str]:
    return [sims.tenants["feishu"].people[0].id, sims.tenants["dingtalk"].people[0].id]


def _cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def _argv(sims: Sims, *extra: str) -> list[str]:
    return [
        "suggest",
        "--config",
        str(sims.path),
        "--attendee",
        *_people(sims),
        "--room",
        sims.tenants["dingtalk"].rooms[0].id,
        "--start",
        "2026-11-23T00:00:00+08:00",
        "--end",
        "2026-11-28T00:00:00+08:00",
        "--duration",
        "45m",
        *extra,
    ]


# --- reprs -------------------------------------------------------------------------------------


def test_secret_never_shows_itself() -> None:
    """repr, str, f-strings, %-formatting and containers show '***', reveal() the value."""
    s = Secret(SECRET)
    shown = [repr(s), str(s), f"{s}", f"{s!r}", repr([s]), repr({"k": s}), format(s)]
    _absent([SECRET], **{f"form{i}": text for i, text in enumerate(shown)})
    assert s.reveal() == SECRET
    assert Secret(SECRET) == s
    assert not Secret("")


def test_token_and_request_reprs_hide_credentials() -> None:
    """Token and HttpRequest reprs hide the token value and credential headers and the body."""
    token = Token(value="tok-" + SECRET, expires_in=7200.0)
    request = HttpRequest(
        "POST",
        "https://example.invalid/x",
        headers={
            "Authorization": f"Bearer tok-{SECRET}",
            "x-acs-dingtalk-access-token": f"tok-{SECRET}",
            "Content-Type": "application/json",
        },
        body=json.dumps({"app_secret": SECRET}).encode(),
    )
    _absent([SECRET], token=repr(token), request=repr(request), str_request=str(request))
    assert "Content-Type" in repr(request)


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
def test_provider_config_and_token_request_reprs_hide_the_secret(name: str) -> None:
    """ProviderConfig values, the provider and its token request show no secret in their repr."""
    provider = get_providers()[name]
    assert isinstance(provider, HttpProvider)
    base = {"feishu": {"app_id": "cli_x"}, "dingtalk": {"app_key": "k", "operator_union_id": "o"}}
    env = {f"SLOTFINDER_{name.upper()}_APP_SECRET": SECRET}
    config = Config(tz="UTC", providers={name: base[name]}, env=env)
    settings = config.provider_config(provider)
    assert isinstance(settings["app_secret"], Secret)
    token_request = provider.token_request(settings)
    assert SECRET.encode() in (token_request.body or b"")  # it is sent, but never shown
    _absent(
        [SECRET],
        settings=repr(settings),
        provider=repr(provider),
        token_request=repr(token_request),
        config=repr(config),
    )


def test_config_repr_hides_a_secret_from_the_file(tmp_path: Path) -> None:
    """repr(Config.load(...)) does not show an app_secret written in the config file."""
    path = tmp_path / "slotfinder.toml"
    path.write_text(f'[providers.feishu]\napp_id = "cli_x"\napp_secret = "{SECRET}"\n')
    config = Config.load(path, env={})
    assert isinstance(config.provider_config(get_providers()["feishu"])["app_secret"], Secret)
    _absent([SECRET], config=repr(config), str_config=str(config))


@pytest.mark.parametrize(
    "data",
    [
        {"provider": {"feishu": {"app_id": "cli_x", "app_secret": SECRET}}},
        {"providers": {"feishu": {"app_secret": SECRET}, "dingtalk": "oops"}},
    ],
    ids=["misspelt-section", "malformed-providers"],
)
def test_config_errors_do_not_quote_secrets(data: dict[str, Any]) -> None:
    """A malformed configuration is refused without quoting the secrets it holds."""
    with pytest.raises(InputError) as info:
        Config.from_mapping(data, env={})
    _absent([SECRET], message=str(info.value), value=repr(info.value.value))


def test_unknown_provider_key_error_hides_its_value() -> None:
    """An unknown key under [providers.feishu] is named, but its value (maybe a secret) is not."""
    config = Config(tz="UTC", providers={"feishu": {"app_id": "x", "appsecret": SECRET}}, env={})
    with pytest.raises(InputError, match="appsecret") as info:
        config.provider_config(get_providers()["feishu"])
    _absent([SECRET], message=str(info.value))


# --- refused secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_wrong_secret_is_a_config_error_without_the_secret(
    sims: Sims, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A secret the token endpoint refuses is a ConfigError naming the key, quoting no secret."""
    caplog.set_level(logging.DEBUG, logger="slotfinder")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    wrong = f"wrong-{SECRET}-{name}"
    request = MeetingRequest(
        attendees=[Attendee(id=sims.tenants[name].people[0].id)],
        window=WINDOW,
        duration=1800,
        zone="Asia/Shanghai",
    )
    with pytest.raises(ConfigError) as info:
        await suggest(request, config=sims.config(**{name: wrong}))
    assert info.value.key == f"providers.{name}.app_secret"
    assert f"SLOTFINDER_{name.upper()}_APP_SECRET" in str(info.value)
    _absent(
        [wrong, *sims.secrets()],
        message=str(info.value),
        repr=repr(info.value),
        logs=_log_text(caplog),
    )


async def test_cli_wrong_secret_prints_an_error_without_it(
    sims: Sims,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`slotfinder suggest` with a wrong secret in the environment exits 2 and never prints it."""
    caplog.set_level(logging.DEBUG, logger="slotfinder")
    wrong = "wrong-" + SECRET
    monkeypatch.setenv("SLOTFINDER_FEISHU_APP_SECRET", wrong)
    monkeypatch.setenv(
        "SLOTFINDER_DINGTALK_APP_SECRET", str(sims.tenants["dingtalk"].config["app_secret"])
    )
    status, out = await asyncio.to_thread(_cli, _argv(sims, "--format", "json"))
    captured = capsys.readouterr()
    assert status == 2
    assert "providers.feishu.app_secret" in captured.err
    assert "Traceback" not in captured.err
    _absent(
        [wrong, *sims.secrets(), *sims.tokens()],
        out=out + captured.out,
        err=captured.err,
        logs=_log_text(caplog),
    )


def test_cli_providers_shows_secrets_as_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`slotfinder providers` shows 'set' for secrets from the environment or the file."""
    monkeypatch.setenv("SLOTFINDER_FEISHU_APP_SECRET", SECRET)
    monkeypatch.setenv("SLOTFINDER_FEISHU_APP_ID", "cli_visible")
    path = tmp_path / "slotfinder.toml"
    path.write_text(f'[providers.dingtalk]\napp_key = "ding_visible"\napp_secret = "{SECRET}x"\n')
    status, out = _cli(["providers", "--config", str(path)])
    assert status == 0
    assert "SLOTFINDER_FEISHU_APP_SECRET" in out
    feishu_secret = next(
        line for line in out.splitlines() if "SLOTFINDER_FEISHU_APP_SECRET)" in line
    )
    dingtalk_secret = next(
        line for line in out.splitlines() if "SLOTFINDER_DINGTALK_APP_SECRET)" in line
    )
    assert ": set — " in feishu_secret
    assert ": set — " in dingtalk_secret
    assert "cli_visible" in out  # plain settings are shown
    assert "ding_visible" in out
    _absent([SECRET], out=out, err=capsys.readouterr().err)


# --- a full run ----------------------------------------------------------------------------------


async def test_full_run_leaks_no_secret_or_token(
    sims: Sims,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A successful mixed suggest (API and CLI, every format) shows no secret and no token."""
    caplog.set_level(logging.DEBUG, logger="slotfinder")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    for name, tenant in sims.tenants.items():
        monkeypatch.setenv(
            f"SLOTFINDER_{name.upper()}_APP_SECRET", str(tenant.config["app_secret"])
        )

    config = Config.load(sims.path)
    request = MeetingRequest(
        attendees=[Attendee(id=i) for i in _people(sims)],
        rooms=[Attendee(id=sims.tenants["dingtalk"].rooms[0].id)],
        window=WINDOW,
        duration=45 * 60,
        zone="Asia/Shanghai",
    )
    result = await suggest(request, config=config)
    assert result.calls
    texts = {"result": repr(result), "config": repr(config)}

    for fmt in ("json", "table", "timeline", "html"):
        extra = ["--format", fmt]
        if fmt == "html":
            extra += ["--output", str(tmp_path / "report.html")]
        status, out = await asyncio.to_thread(_cli, _argv(sims, *extra))
        assert status == 0, out
        texts[f"cli-{fmt}"] = out
    texts["html-file"] = (tmp_path / "report.html").read_text(encoding="utf-8")
    captured = capsys.readouterr()
    texts.update(stdout=captured.out, stderr=captured.err, logs=_log_text(caplog))
    sent = [r for r in caplog.records if r.name == "slotfinder.fetch" and "->" in r.getMessage()]
    assert sent  # DEBUG logging really was on: every request was logged

    tokens = sims.tokens()
    assert len(tokens) >= 2  # both simulators issued at least one token
    _absent([*sims.secrets(), *tokens], **texts)
