"""Security: input files are data, the dashboard stays on this machine, reports escape file text.

* Scenario and sweep files, and ``--set`` values, are parsed with
  :mod:`tomllib` and validated against the declarations: Python-looking text
  (``__import__('os').system(...)``), YAML tags (``!!python/object``) and
  template syntax (``{{7*7}}``) are either an input error or a literal string,
  never evaluated. A canary file proves nothing ran.
* ``consim dashboard`` listens on 127.0.0.1 unless ``--host`` says otherwise,
  and serves no file outside its assets (path traversal probes against the
  running server).
* ``consim report`` escapes every string that came from a file: scenario
  titles and descriptions, the sweep's name and description, run errors.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
from pathlib import Path

import pytest
from processes import consim_command, free_port, running_dashboard

from experiments.sweepfile import load_sweep
from sim.cli import build_parser
from sim.cli import main as consim_main
from sim.errors import InputError
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
CANARY = "PWNED"
CODE = f"__import__('os').system('touch {CANARY}')"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / CANARY).exists(), "code from an input file ran"


# ---------------------------------------------------------------- files are data
def test_code_in_a_string_value_stays_a_string(in_tmp):
    path = in_tmp / "s.toml"
    path.write_text(f'[meta]\ntitle = "{CODE}"\ndescription = "{{{{7*7}}}} ${{7*7}} <%= 7*7 %>"\n', encoding="utf-8")
    sc = Scenario.load(path)
    assert sc.meta["title"] == CODE
    assert sc.meta["description"] == "{{7*7}} ${7*7} <%= 7*7 %>"
    assert Scenario.load(path).to_toml().count("{{7*7}}") == 1


@pytest.mark.parametrize("text", [
    f"years = {CODE}\n",
    f'years = "{CODE}"\n',
    "years: !!python/object/apply:os.system ['touch PWNED']\n",
    "!!python/object/apply:os.system\nargs: ['touch PWNED']\n",
    'years = "{{7*7}}"\n',
    "[policy.subsidy]\ncost_share = \"eval('0.5')\"\n",
    f'[[policy.schedule]]\nyear = 2\nset = {{ "policy.subsidy.target" = "{CODE}" }}\n',
    f'base = "{CODE}"\n',
])
def test_code_in_a_scenario_file_is_an_input_error(in_tmp, text):
    path = in_tmp / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="s.toml"):
        Scenario.load(path)


@pytest.mark.parametrize("text", [
    f'base = "baseline"\nseed = 1\n[vary]\n"policy.subsidy.target" = ["{CODE}"]\n',
    f'base = "baseline"\nseed = "{CODE}"\n',
    f'base = "baseline"\nseed = 1\nkeep = ["{CODE}"]\n',
    'base = "baseline"\nseed = 1\n[design]\nmethod = "__import__(\'os\')"\nsamples = 2\n'
    '[design.ranges]\n"policy.subsidy.cost_share" = [0.0, 1.0]\n',
])
def test_code_in_a_sweep_file_is_an_input_error(in_tmp, text):
    path = in_tmp / "sweep.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="sweep.toml"):
        load_sweep(path)


def test_code_in_a_set_override_is_an_input_error(in_tmp, capsys):
    for value in (CODE, f'"{CODE}"', "{{7*7}}"):
        assert consim_main(["run", "baseline", "--set", f"years={value}"]) == 2
        err = capsys.readouterr().err
        assert "years" in err and "Traceback" not in err


def test_command_line_prints_file_text_literally(in_tmp):
    path = in_tmp / "s.toml"
    path.write_text(f'years = 1\n[meta]\ntitle = "{{{{7*7}}}} {CODE}"\n[population]\nsmes = 20\n', encoding="utf-8")
    p = subprocess.run([*consim_command(), "run", str(path)], cwd=in_tmp, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert f"{{{{7*7}}}} {CODE}" in p.stdout.splitlines()[0]


def test_a_module_next_to_a_sweep_file_is_not_imported(in_tmp):
    """run_function names an importable module; a .py file next to the sweep file is not on the path."""
    (in_tmp / "evil_module.py").write_text(
        f"import pathlib\npathlib.Path({str(in_tmp / CANARY)!r}).touch()\ndef run(scenario, seed):\n    return None\n",
        encoding="utf-8")
    path = in_tmp / "sweep.toml"
    path.write_text('base = "baseline"\nseed = 1\nyears = 1\nrun_function = "evil_module:run"\n', encoding="utf-8")
    p = subprocess.run([*consim_command(), "sweep", str(path), "--out", str(in_tmp / "out"), "--executor", "inprocess",
                        "--no-progress"], cwd=in_tmp, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "run_function" in p.stderr and "Traceback" not in p.stderr


def test_sweep_file_cannot_name_an_arbitrary_callable(in_tmp):
    """Regression: any 'module:function' was accepted as run_function, so a sweep file could import any installed
    module and call any callable with (scenario, seed); now only sim.* and experiments.* without an opt-in."""
    path = in_tmp / "sweep.toml"
    path.write_text('base = "baseline"\nseed = 1\nrun_function = "os:system"\n', encoding="utf-8")
    with pytest.raises(InputError, match="run_function"):
        load_sweep(path)


# ---------------------------------------------------------------- the dashboard
def test_dashboard_defaults_to_the_loopback_address():
    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1"


def test_dashboard_command_binds_loopback_when_no_host_is_given(monkeypatch):
    pytest.importorskip("solara")
    from solara.__main__ import run as solara_run

    import sim.dashboard.serve as serve

    checked, served = [], []
    monkeypatch.setattr(serve, "check_port", lambda host, port: checked.append((host, port)))
    monkeypatch.setattr(solara_run, "main", lambda args, standalone_mode: served.append(args))
    for host in (None, ""):
        args = argparse.Namespace(host=host, port=0, lang="en", scenario=None)
        assert serve.dashboard_command(args) == 0
    assert [h for h, _ in checked] == ["127.0.0.1", "127.0.0.1"]
    for argv in served:
        assert argv[argv.index("--host") + 1] == "127.0.0.1"


def _outside_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)  # the path is sent exactly as written
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def dashboard_port(tmp_path_factory):
    """``consim dashboard`` started without --host, on a free port."""
    log = tmp_path_factory.mktemp("dash") / "server.log"
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    with running_dashboard(free_port(), ["--lang", "en"], log, ready=lambda port: _get(port, "/")[0] == 200,
                           timeout=90, poll=0.5, env=env, stop_wait=15) as port:
        yield port


def test_running_dashboard_is_not_reachable_from_outside(dashboard_port):
    addr = _outside_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback address to test from")
    with socket.socket() as s:
        s.settimeout(3)
        assert s.connect_ex((addr, dashboard_port)) != 0, f"the dashboard answers on {addr}"


#: Files outside the dashboard's assets, and what their text contains.
SECRETS = {"/etc/passwd": b"root:", str(ROOT / "pyproject.toml"): b"[build-system]",
           str(ROOT / "sim" / "cli.py"): b"def build_parser", "a Python source file": b"import "}
TRAVERSALS = [
    "/static/../../../../../../etc/passwd",
    "/static/public/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/_solara/cdn/../../../../../../etc/passwd",
    "/_solara/cdn/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/nbextensions/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/sourcemaps/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "//etc/passwd",
    "/..%2f..%2f..%2f..%2fetc/passwd",
    "/static/public/%2fetc%2fpasswd",
    "/static/..%2f..%2f..%2f..%2f..%2f..%2fwork%2fmain%2fpyproject.toml",
    f"/static/public/..%2f..%2f..%2f{ROOT.name}%2fpyproject.toml",
    "/static/public/..%2f..%2fcli.py",
    "/static/public/..%2fserve.py",
    "/static/app.py",
    "/static/assets/..%2f..%2f..%2f__init__.py",
    "/_solara/cdn/@widgetti/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/sim/cli.py",
    "/pyproject.toml",
]


def test_running_dashboard_serves_no_file_outside_its_assets(dashboard_port):
    status, body = _get(dashboard_port, "/static/assets/favicon.png")
    assert status == 200 and body, "positive control: the probe sees files the server does serve"
    leaks = []
    for path in TRAVERSALS:
        try:
            status, body = _get(dashboard_port, path)
        except OSError as e:
            leaks.append(f"{path}: connection failed ({e})")  # the server must survive every probe
            continue
        for secret, marker in SECRETS.items():
            if status == 200 and marker in body:
                leaks.append(f"{path}: served {secret}")
    assert not leaks, "\n".join(leaks)
    assert _get(dashboard_port, "/")[0] == 200, "the server still answers after the probes"


# ---------------------------------------------------------------- reports escape file text
XSS = "<script>alert('x')</script>"


def test_report_escapes_every_string_from_a_file(tmp_path):
    pytest.importorskip("analysis.report")
    from analysis.report import build_report
    from experiments.runner import run_sweep
    from experiments.sweepfile import load_sweep
    from experiments.testing import synthetic_run

    scenario = tmp_path / "city.toml"
    scenario.write_text(
        f'base = "baseline"\nyears = 2\n[meta]\ntitle = "{XSS} title"\ndescription = "<img src=x onerror=alert(1)> desc"\n'
        f'title_zh = "{XSS} 标题"\ndescription_zh = "<iframe src=javascript:alert(1)> 说明"\n',
        encoding="utf-8")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        'name = "<svg onload=alert(1)>"\ndescription = "<b onmouseover=alert(1)>sweep</b>"\nbase = "city.toml"\n'
        'seed = 3\nreplications = 2\nkeep = ["firm_participation_rate"]\nretries = 0\n'
        '[vary]\n"policy.subsidy.cost_share" = [0.0, 0.5, 1.0]\n', encoding="utf-8")

    def sometimes_fails(sc, seed):
        if sc.get("policy.subsidy.cost_share") == 0.5:
            raise RuntimeError(f"{XSS} run error")
        return synthetic_run(sc, seed)

    out = tmp_path / "out"
    run_sweep(load_sweep(sweep), out, executor="inprocess", progress=False, run_callable=sometimes_fails)
    for lang in ("en", "zh"):
        rep = build_report(out, lang=lang, out=tmp_path / f"report.{lang}.html")
        html = Path(rep.path).read_text(encoding="utf-8")
        for raw in (XSS, "<img src=x", "<iframe", "<svg onload", "<b onmouseover"):
            assert raw not in html, f"{lang}: unescaped {raw!r} in the report"
        assert "&lt;svg onload=alert(1)&gt;" in html, "the sweep name is shown, escaped"
