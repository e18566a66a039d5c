"""The seed document's registrar configuration checks clean as written."""

from pathlib import Path

from ser_script.checker import check_file, check_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ser.cfg"

SEED = '''
loadmodule "/usr/lib/ser/modules/mysql.so"
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/usrloc.so"
loadmodule "/usr/lib/ser/modules/registrar.so"
loadmodule "/usr/lib/ser/modules/auth.so"
loadmodule "/usr/lib/ser/modules/auth_db.so"
modparam("usrloc", "db_mode", 2)
modparam("auth", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
route {
      if (!www_authorize("myserver.foobar.com", "subscriber")) {
        www_challenge("myserver.foobar.com", "0");
        break;
      }
      save("location");
}
'''


def test_seed_lines_check_clean_with_a_warning_for_calculate_ha1():
    result = check_text(SEED, "seed.cfg", "0.9")
    assert result.errors == []
    moved = [w for w in result.warnings if "calculate_ha1" in w.message]
    assert len(moved) == 1
    assert "auth_db" in moved[0].message
    assert moved[0].line == 9


def test_example_ser_cfg_checks_clean():
    result = check_file(EXAMPLE)
    assert result.dialect == "0.9"
    assert result.errors == []
    assert [w.message for w in result.warnings if "calculate_ha1" not in w.message] == []
