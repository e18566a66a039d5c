"""The ser-check and ser command lines, run as real processes."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ser.cfg"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from ser_script.cli import run; run()", *args],
                          capture_output=True, text=True, timeout=60)


def run_ser(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ser_runtime.main", *args],
                          capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.cfg"
    path.write_text(text)
    return path


def test_clean_file_exits_zero_with_a_summary():
    result = run(str(EXAMPLE))
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


def test_errors_exit_one_with_location_source_line_and_caret(tmp_path):
    path = write(tmp_path, "route {\n\tstrip(\"2\");\n}\n")
    result = run(str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (f"{path}:2:8: error: 'strip' expects a number here, not a string; "
                        "core actions take unquoted numbers: strip(2)")
    assert lines[1] == '    \tstrip("2");'.expandtabs(1)
    assert lines[2] == "    " + " " * 7 + "^"
    assert "\x1b[" not in result.stdout  # plain when piped


def test_json_format(tmp_path):
    path = write(tmp_path, "route {\n\tsetflag(32);\n}\n")
    result = run("--format", "json", str(path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["dialect"] == "0.9"
    assert report["diagnostics"][0] == {
        "file": str(path), "line": 2, "col": 10, "severity": "error",
        "message": "flag 32 is out of range: flags are 1 to 31"}


def test_dialect_option_changes_the_verdict(tmp_path):
    path = write(tmp_path, "route {\n\texit;\n}\n")
    assert run("--dialect", "0.9", str(path)).returncode == 1
    assert run("--dialect", "2.0", str(path)).returncode == 0


def test_missing_file_is_a_usage_error_of_one_line(tmp_path):
    result = run(str(tmp_path / "nope.cfg"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("ser-check: cannot read")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_option_is_a_usage_error():
    result = run("--dialect", "3.0", str(EXAMPLE))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_binary_garbage_never_gives_a_traceback(tmp_path):
    path = tmp_path / "garbage.cfg"
    path.write_bytes(bytes(range(256)) * 4)
    result = run(str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_ser_check_mode_accepts_a_valid_file():
    result = run_ser("-c", "-f", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "configuration is valid" in result.stdout


def test_ser_refuses_to_start_naming_unimplemented_functions(tmp_path):
    path = write(tmp_path, 'loadmodule "/usr/lib/ser/modules/tm.so"\n'
                           'route {\n\tt_write_req("/tmp/fifo", "app");\n}\n')
    result = run_ser("-f", str(path))
    assert result.returncode == 1
    assert "not implemented yet: t_write_req() (tm)" in result.stderr
    assert "Traceback" not in result.stderr


def test_ser_rejects_a_broken_config(tmp_path):
    path = write(tmp_path, "route {\n")
    result = run_ser("-c", "-f", str(path))
    assert result.returncode == 1
    assert "not a" not in result.stderr and "Traceback" not in result.stderr


def test_ser_reports_a_refused_fixup_at_its_argument(tmp_path):
    path = write(tmp_path, 'loadmodule "/usr/lib/ser/modules/maxfwd.so"\n'
                           'route {\n\tmf_process_maxfwd_header("70");\n}\n')
    result = run_ser("-f", str(path))
    assert result.returncode == 1
    assert f"{path}:3:27: error: mf_process_maxfwd_header: 70 is out of range" in result.stderr
    assert "Traceback" not in result.stderr


def test_ser_check_and_ser_c_report_refused_fixups(tmp_path):
    path = write(tmp_path, 'listen=udp:127.0.0.1:5060\nroute {\n\tforce_send_socket(udp:10.9.9.9:5060);\n}\n')
    for result in (run(str(path)), run_ser("-c", "-f", str(path))):
        assert result.returncode == 1
        assert f"{path}:3:20: error: force_send_socket: 10.9.9.9:5060 is not one of the listen sockets" \
            in result.stdout + result.stderr


def test_ser_version_and_help():
    version = run_ser("-V")
    assert version.returncode == 0 and version.stdout.startswith("ser ")
    usage = run_ser("-h")
    assert usage.returncode == 0
    for flag in ("-f", "-c", "-D", "-E", "-d", "-l", "-n", "-P", "-u", "-g", "-w", "-b", "-m", "-r", "-R", "-v"):
        assert f"  {flag} " in usage.stdout, flag


def test_ser_unknown_flag_is_one_line():
    result = run_ser("-Z")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["ser: unrecognized arguments: -Z (see ser -h)"]


def test_an_absurd_repetition_count_is_a_regex_error(tmp_path):
    path = write(tmp_path, 'loadmodule "textops.so"\nroute { if (search("a{4294967296}")) { drop; }; }\n')
    result = run(str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
