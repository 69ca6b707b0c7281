"""The shared YAML loader: duplicate keys, hostile nesting and bad YAML each end as one line with FILE:LINE:COLUMN,
and the positions it returns point at the text they name."""

from __future__ import annotations

import pytest
import yaml

from training.errors import DataError, UsageError, name_some
from training.yaml_load import MAX_DEPTH, load_yaml, load_yaml_positions


def write(tmp_path, text: str | bytes):
    path = tmp_path / "f.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_plain_pyyaml_keeps_the_last_duplicate_and_we_refuse_it_naming_both_lines(tmp_path):
    text = "fid_max: 50\npersons:\n  ana: {fid_max: 40}\n  bo: {fid_max: 60}\n  ana: {fid_max: 30}\n"
    assert yaml.safe_load(text)["persons"]["ana"] == {"fid_max": 30}  # the silent accept this guards against
    with pytest.raises(UsageError) as err:
        load_yaml(write(tmp_path, text))
    assert str(err.value).startswith(f"{tmp_path / 'f.yaml'}:5:3: the key 'ana' appears twice (lines 3 and 5)")
    assert "\n" not in str(err.value)


def test_duplicates_inside_a_flow_mapping_and_merge_keys(tmp_path):
    with pytest.raises(UsageError, match=r":1:22: the key 'fid_max' appears twice \(lines 1 and 1\)"):
        load_yaml(write(tmp_path, "{fid_max: 1, kid: 2, fid_max: 3}\n"))
    # a merge key `<<` is not a duplicate, and explicit keys override merged ones as YAML says
    assert load_yaml(write(tmp_path, "base: &b {x: 1, y: 2}\nme:\n  <<: *b\n  y: 3\n"))["me"] == {"x": 1, "y": 3}


@pytest.mark.parametrize("text", [
    "fid_max: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "a: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    "".join(" " * i + "- \n" for i in range(3000)),
])
def test_deep_nesting_is_one_line_not_a_recursion_error(tmp_path, text):
    with pytest.raises(RecursionError):
        yaml.safe_load(text)  # the traceback this guards against
    with pytest.raises(DataError) as err:
        load_yaml(write(tmp_path, text), error=DataError)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(err.value) and "\n" not in str(err.value)


def test_nesting_up_to_the_limit_loads(tmp_path):
    depth = MAX_DEPTH - 1  # the top mapping is one level
    data = load_yaml(write(tmp_path, "a: " + "[" * depth + "1" + "]" * depth + "\n"))
    for _ in range(depth + 1):
        data = data["a"] if isinstance(data, dict) else data[0]
    assert data == 1
    with pytest.raises(UsageError, match="nested more than"):
        load_yaml(write(tmp_path, "a: " + "[" * (depth + 1) + "1" + "]" * (depth + 1) + "\n"))


@pytest.mark.parametrize("text, where, words", [
    ("fid_max: [50\n", ":2:1:", "not valid YAML: while parsing a flow sequence: expected ',' or ']'"),
    ("a: 1\n b: 2\n", ":2:3:", "not valid YAML: mapping values are not allowed here"),
    ("a: 1\n\x01: 2\n", ":2:1:", "the character U+0001 is not allowed in YAML"),
    ("a: *nowhere\n", ":1:4:", "found undefined alias 'nowhere'"),
])
def test_bad_yaml_is_one_line_with_file_line_column(tmp_path, text, where, words):
    with pytest.raises(UsageError) as err:
        load_yaml(write(tmp_path, text), hint="fix it")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'f.yaml'}{where} ") and words in message, message
    assert message.endswith("; fix it") and "\n" not in message


def test_not_text_and_not_a_file(tmp_path):
    with pytest.raises(UsageError, match=r"f.yaml: not UTF-8 text \(byte 4\)"):
        load_yaml(write(tmp_path, b"a: \"\xff\xfe\"\n"))
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(DataError, match="dir.yaml: cannot be read"):
        load_yaml(tmp_path / "dir.yaml", error=DataError)


def test_positions_point_at_the_text_of_each_entry(tmp_path):
    text = "fid_max: 50\npersons:\n  ana:\n    fid_max: 40\n  bo: {kid_max: 0.1}\nlist:\n  - x\n  -   y\n"
    doc = load_yaml_positions(write(tmp_path, text))
    lines = text.splitlines()
    for keys, start in [(("persons", "ana", "fid_max"), "fid_max: 40"), (("persons", "bo", "kid_max"), "kid_max"),
                        (("list", 1), "y"), (("fid_max",), "fid_max: 50")]:
        line, column = doc.positions[keys]
        assert lines[line - 1][column - 1:].startswith(start), keys
    assert doc.where("persons", "bo", "kid_max") == f"{tmp_path / 'f.yaml'}:5:8"
    assert doc.where("persons", "ana", "nothing") == f"{tmp_path / 'f.yaml'}:3:3"  # nearest known entry
    assert load_yaml_positions(write(tmp_path, "")).data is None


def test_aliases_are_walked_once(tmp_path):
    """A billion-laughs file: PyYAML shares the aliased lists, and the position walk must not expand them."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    doc = load_yaml_positions(write(tmp_path, "\n".join(lines) + "\n"))
    assert doc.data["a8"][0][0] is doc.data["a7"][0] and len(doc.positions) < 200


def test_name_some_names_a_few_and_counts_the_rest():
    keys = [f"k{i}" for i in range(200_000)]
    assert name_some(keys) == "k0, k1, k2, k3, k4 and 199,995 more (200,000 in all)"
    assert name_some(keys[:5]) == "k0, k1, k2, k3, k4" and name_some([]) == ""
