"""``consim dashboard``: serve the classroom app on this machine, offline.

Design note
-----------
The app is served by Solara's own server (Starlette + uvicorn) in production
mode. Solara normally loads its front end (Vue, Vuetify, fonts, Vega) from a
CDN; with the ``solara-assets`` package installed those files sit in
``<prefix>/share/solara/cdn`` and Solara's asset proxy serves them from there,
so the page works without internet. Nothing phones home: telemetry and the
version check are switched off before Solara is imported.

The language and the preset to open with travel to the app in the environment
(``CONSIM_DASHBOARD_LANG``, ``CONSIM_DASHBOARD_PRESET``), because Solara
imports the app module itself.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys

from sim.errors import InputError

APP_MODULE = "sim.dashboard.app"


def offline_environment(env: dict[str, str] | os._Environ[str] | None = None) -> None:
    """Settings that keep Solara off the network (call before importing solara)."""
    env = os.environ if env is None else env
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("SOLARA_ASSETS_PROXY", "True")
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    env.setdefault("MPLBACKEND", "Agg")


def check_offline_assets() -> str | None:
    """A warning if Solara's front-end files are not installed locally, else None."""
    try:
        import solara_assets  # noqa: F401
    except ImportError:
        return ("solara-assets is not installed: the browser will try to load Solara's front end from a CDN "
                "and the page stays blank without internet (pip install solara-assets).")
    return None


def check_port(host: str, port: int) -> None:
    """Raise InputError if ``host:port`` cannot be bound."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: allowed: 0 to 65535.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InputError(f"--host {host}: not a known host name or address; allowed: e.g. 127.0.0.1.") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise InputError(f"--port {port}: already in use on {host}; choose another, e.g. --port {port + 1}.") from None
            raise InputError(f"--host {host} --port {port}: cannot listen there ({e.strerror}).") from None


def dashboard_command(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted; returns the exit status."""
    from sim.dashboard.i18n import default_lang
    from sim.dashboard.runs import default_preset, load_preset
    from sim.scenario import preset_names

    host = getattr(args, "host", None) or "127.0.0.1"
    port = int(getattr(args, "port", None) or 8765)
    preset = getattr(args, "scenario", None) or os.environ.get("CONSIM_DASHBOARD_PRESET") or default_preset()
    if preset and preset not in preset_names():
        raise InputError(f"dashboard: no preset named {preset!r}; presets: {', '.join(preset_names()) or 'none'}.")
    meta = load_preset(preset).meta if preset else {}
    lang = default_lang(getattr(args, "lang", None), meta)
    check_port(host, port)
    offline_environment()
    os.environ["CONSIM_DASHBOARD_LANG"] = lang
    if preset:
        os.environ["CONSIM_DASHBOARD_PRESET"] = preset
    warning = check_offline_assets()
    if warning:
        print(f"consim dashboard: warning: {warning}", file=sys.stderr)
    print(f"consim dashboard: serving on http://{host}:{port}/ (language {lang}; Ctrl+C stops)", flush=True)
    from solara.__main__ import run as solara_run

    solara_run.main(
        args=[APP_MODULE, "--host", host, "--port", str(port), "--production", "--no-open",
              "--no-check-version", "--log-level-uvicorn", "warning", "--no-access-log"],
        standalone_mode=False,
    )
    return 0
