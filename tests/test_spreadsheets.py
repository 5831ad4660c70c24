import pytest

from common.spreadsheets import cell_text, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_written_as_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ada", "", "a=b", 42, None])
def test_other_cells_pass_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", ["=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "Ada", "", "'", "'x"])
def test_a_written_cell_reads_back_unchanged(value):
    assert cell_text(safe_cell(value)) == value
