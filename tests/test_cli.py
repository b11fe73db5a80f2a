"""`ideogram-nb history list|show|export`: tables, JSON, exports and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import nbformat
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._cli import format_table, main


def png(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (i * 40 % 256, 9, 9)).save(out, format="PNG")
    return out.getvalue()


def record(history: ig.History, i: int, **kw) -> ig.RunRecord:
    sha, _ = history.store.put_output(png(i), {"endpoint": "generate", "seed": i})
    fields = dict(
        provider="offline", endpoint="generate", spec={"endpoint": "generate", "prompt": f"prompt number {i}", "seed": i},
        request_hash=f"hash-{i}", cost_usd=0.06,
        images=[{"sha256": sha, "seed": i, "resolution": "1024x1024", "is_image_safe": True}],
    )  # fmt: skip
    fields.update(kw)
    rec = ig.RunRecord(**fields)
    history.record(rec)
    return rec


@pytest.fixture
def history(_isolated_env) -> ig.History:
    """Five runs in the default folder (IDEOGRAM_NB_HOME): 0–2 ok, 3 failed, 4 a labelled remix."""
    h = ig.History()
    for i in range(3):
        record(h, i)
    record(h, 3, status="error", error="Prompt failed the safety check", error_type="UnprocessableError",
           http_status=422, images=[], cost_usd=0.0)  # fmt: skip
    record(h, 4, endpoint="remix", spec={"endpoint": "remix", "prompt": "in winter"}, label="best")
    return h


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def ids(history: ig.History) -> list[str]:
    return [r.run_id for r in history.runs(newest_first=False)]


def test_list_is_a_table_newest_first_with_totals(history):
    code, out, err = cli("history", "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["RUN", "ID", "WHEN", "(UTC)", "ENDPOINT"]
    assert [line.split()[0] for line in lines[1:6]] == ids(history)[::-1]
    assert "UnprocessableError: Prompt failed the safety check" in lines[2]
    assert lines[-1].startswith("runs 1–5 of 5 · 4 images · $0.24 estimated")
    columns = {line.index("generate") for line in lines[2:6]}
    assert len(columns) == 1  # aligned


def test_list_filters_limit_offset_and_json(history):
    assert cli("history", "list", "--status", "error")[1].splitlines()[-1].startswith("runs 1–1 of 1 · 0 images")
    _, out, _ = cli("history", "list", "--endpoint", "generate", "--limit", "2", "--offset", "1", "--json")
    assert [json.loads(line)["run_id"] for line in out.splitlines()] == ids(history)[2:0:-1]
    _, out, _ = cli("history", "list", "--text", "number 1", "--json")
    assert [json.loads(line)["spec"]["prompt"] for line in out.splitlines()] == ["prompt number 1"]
    _, out, _ = cli("history", "list", "--label", "best", "--json")
    assert [json.loads(line) for line in out.splitlines()] == [history.to_records()[-1]]
    code, out, _ = cli("history", "list", "--provider", "replay")
    assert code == 0 and out.startswith("no runs of 0 · 0 images")


def test_table_cuts_only_the_free_text_column():
    rows = [["A", "B", "TEXT"], ["1", "22", "x" * 200]]
    lines = format_table(rows, 40).splitlines()
    assert lines[1].startswith("1  22  ") and lines[1].endswith("…") and len(lines[1]) == 7 + 33


def test_show_prints_the_record_as_json(history):
    run_id = ids(history)[3]
    code, out, _ = cli("history", "show", run_id)
    assert code == 0 and json.loads(out) == history[run_id].to_dict()
    code, out, err = cli("history", "show", "no-such-run")
    assert code == 2 and out == "" and "no run 'no-such-run'" in err


def test_export_notebook_and_jsonl_with_runs_and_title(history, tmp_path):
    a, b = ids(history)[4], ids(history)[0]
    code, out, _ = cli("history", "export", str(tmp_path / "two.ipynb"), "--runs", f"{a}, {b}", "--title", "Picked")
    assert code == 0 and out == f"wrote {tmp_path / 'two.ipynb'} (2 runs)\n"
    nb = nbformat.read(tmp_path / "two.ipynb", as_version=4)
    assert nb.cells[0].source.startswith("# Picked")
    assert [c.metadata["ideogram_nb"]["run_id"] for c in nb.cells if "ideogram_nb" in c.metadata] == [a, b]
    code, out, _ = cli("history", "export", str(tmp_path / "all.jsonl"))
    assert code == 0 and out.endswith("(5 runs)\n")
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == history.to_records()


def test_export_refuses_unknown_runs_and_formats(history, tmp_path):
    code, _, err = cli("history", "export", str(tmp_path / "x.ipynb"), "--runs", f"{ids(history)[0]},ghost")
    assert code == 2 and "no run 'ghost'" in err and not (tmp_path / "x.ipynb").exists()
    code, _, err = cli("history", "export", str(tmp_path / "x.html"))
    assert code == 2 and ".ipynb" in err and ".jsonl" in err and "'.html'" in err
    assert cli("history", "export", str(tmp_path / "x.ipynb"), "--runs", ",")[0] == 2


def test_home_before_or_after_the_command_and_missing_history(history, tmp_path):
    other = ig.History(tmp_path / "other")
    record(other, 7)
    for argv in (["--home", str(other.path), "history", "list", "--json"],
                 ["history", "--home", str(other.path), "list", "--json"],
                 ["history", "list", "--json", "--home", str(other.path)]):  # fmt: skip
        code, out, _ = cli(*argv)
        assert code == 0 and [json.loads(line)["spec"]["prompt"] for line in out.splitlines()] == ["prompt number 7"]
    code, _, err = cli("history", "list", "--home", str(tmp_path / "typo"))
    assert code == 2 and "no run history in" in err
    assert not (tmp_path / "typo").exists()  # a typo leaves nothing behind


def test_usage_errors_exit_2_and_help_0(history, capsys):
    assert cli("history")[0] == 2
    assert cli("history", "frobnicate")[0] == 2
    assert cli("history", "list", "--limit", "0")[0] == 2
    assert cli("history", "list", "--provider", "nobody")[0] == 2
    assert cli("--help")[0] == 0
    assert "list" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_command_line(history):
    ok = subprocess.run([sys.executable, "-m", "ideogram_nb", "history", "list", "--json", "--limit", "1"],
                        capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout)["run_id"] == ids(history)[-1]
    bad = subprocess.run([sys.executable, "-m", "ideogram_nb", "history", "show", "ghost"],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert bad.returncode == 2 and "no run 'ghost'" in bad.stderr


def test_unknown_outcome_is_visible_in_list_show_and_totals(history):
    lost = record(history, 5, status="unknown", images=[], cost_usd=0.06, http_status=None,
                  error_type="OutcomeUnknownTimeoutError",
                  error="no answer within the timeout after the request was sent (ReadTimeout). Outcome unknown")  # fmt: skip
    code, out, _ = cli("history", "list")
    assert code == 0
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith(lost.run_id))
    assert " unknown " in row and "POSSIBLY BILLED, not re-sent: OutcomeUnknownTimeoutError" in row
    assert "(incl. $0.06 possibly billed by 1 outcome-unknown run)" in lines[-1]
    code, out, _ = cli("history", "list", "--status", "unknown", "--json")
    assert code == 0 and [json.loads(line)["run_id"] for line in out.splitlines()] == [lost.run_id]
    assert json.loads(cli("history", "show", lost.run_id)[1])["status"] == "unknown"
    # a listing without unknown runs keeps its plain totals line
    assert "possibly billed" not in cli("history", "list", "--status", "ok")[1]


# --- check and repair ----------------------------------------------------------------------------
def test_check_a_sound_history_exits_0_and_says_so(history):
    code, out, err = cli("history", "check")
    assert code == 0 and err == ""
    # the fixture stored an image for its failed run too: no run names it, a harmless note
    assert out.startswith(f"history {history.path}: no problems, 1 note")
    assert "no run names this image" in out
    assert "5 runs read · 4 images named (sha256 verified) · 5 files in the store" in out
    assert "sha256 not verified" in cli("history", "check", "--quick")[1]


def test_check_exits_1_naming_the_run_whose_image_is_gone_and_repair_marks_it(history):
    gone = history.runs(newest_first=False)[1]
    history.store.path(gone.images[0]["sha256"]).unlink()
    code, out, _ = cli("history", "check")
    assert code == 1 and f"run {gone.run_id}: output image sha256:" in out and "missing" in out
    assert "history repair --home" in out
    code, out, _ = cli("history", "repair")
    assert code == 1 and "1 images marked as gone" in out and gone.run_id in out
    assert history[gone.run_id].images[0]["missing"]  # the run says so itself
    assert cli("history", "check")[0] == 0  # known now: a note, not a problem
    code, out, _ = cli("history", "repair")
    assert code == 0 and "nothing to repair (5 runs, all readable)" in out


def test_check_and_repair_exit_2_where_there_is_no_history(tmp_path):
    for action in ("check", "repair"):
        code, out, err = cli("history", action, "--home", str(tmp_path / "typo"))
        assert code == 2 and out == "" and "no run history in" in err
    assert not (tmp_path / "typo").exists()
    assert cli("history", "repair", "--home", str(tmp_path), "--search", str(tmp_path / "nope"))[0] == 2


def test_a_damaged_database_is_our_error_with_exit_1_for_list(history):
    db = history.path / "history.sqlite"
    history.close()
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xa5" * 4096  # page 2: an index of the runs table
    db.write_bytes(bytes(data))
    code, out, err = cli("history", "list")
    assert code == 1 and out == ""
    assert err.startswith("ideogram-nb: the history database") and "is damaged" in err and "history repair" in err


def test_export_into_a_folder_and_overwrite_only_when_asked(history, tmp_path):
    code, out, _ = cli("history", "export", str(tmp_path))
    assert code == 0 and out == f"wrote {tmp_path / 'runs.ipynb'} (5 runs)\n"
    code, _, err = cli("history", "export", str(tmp_path))
    assert code == 1 and "already exists" in err and "--overwrite" in err
    assert cli("history", "export", str(tmp_path), "--overwrite")[0] == 0
