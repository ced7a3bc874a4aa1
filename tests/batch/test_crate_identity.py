"""Who ran the runs and on what terms: --crate-author, --crate-license and
--crate-organization make a crate a repository can publish (roc-validator's
recommended level asks for an agent, authors with affiliations, a licence and a
publisher), and a later run into the folder keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from playnano.crate import license_url, parse_organization, parse_person
from tests import rocrate_check
from tests.rocrate_check import crate_graph, refs, run_playnano

#: Josiah Carberry, ORCID's own example of a valid iD.
ORCID = "0000-0002-1825-0097"


def test_authors_are_names_orcid_ids_or_both_and_ids_are_checked() -> None:
    carberry = parse_person(f"Josiah Carberry <{ORCID}>")
    assert (carberry.name, carberry.orcid) == (
        "Josiah Carberry",
        f"https://orcid.org/{ORCID}",
    )
    assert parse_person(f"https://orcid.org/{ORCID}").id == carberry.orcid
    assert parse_person(ORCID).name == ""
    assert parse_person("  Ada Lovelace ").id == "#person-ada-lovelace"
    # ISO 7064 11,2 with an X check character (10)
    assert parse_person("0000-0002-9079-593X").orcid
    for bad in ("0000-0002-1825-0098", "0000-0002-1825", f"Ada <{ORCID}1>", ""):
        with pytest.raises(ValueError):
            parse_person(bad)
    assert license_url("CC-BY-4.0") == "https://spdx.org/licenses/CC-BY-4.0"
    assert license_url("https://example.org/terms") == "https://example.org/terms"
    with pytest.raises(ValueError, match="SPDX"):
        license_url("my own terms")
    lab = parse_organization("Brown University <https://ror.org/05gq02987>")
    assert (lab.name, lab.id) == ("Brown University", "https://ror.org/05gq02987")
    assert parse_organization("Our lab").id == "#organization-our-lab"
    with pytest.raises(ValueError, match="not a URL"):
        parse_organization("Our lab <ror 123>")


def test_a_crate_with_its_people_and_licence_meets_the_recommended_level(
    tmp_path: Path,
) -> None:
    pytest.importorskip("rocrate_validator", reason="in the test extra")
    cache = rocrate_check.seed_cache(tmp_path / "cache")
    base = ("process", "--synthetic", "-p", "remove_plane", "-e", "npz", "-o", "out")
    bare = tmp_path / "bare"
    bare.mkdir()
    assert run_playnano(*base, "--crate", cwd=bare).returncode == 0
    named = tmp_path / "named"
    named.mkdir()
    run = run_playnano(
        *base,
        "--crate-author", f"Josiah Carberry <{ORCID}>",
        "--crate-author", "Ada Lovelace",
        "--crate-license", "CC-BY-4.0",
        "--crate-organization", "Brown University <https://ror.org/05gq02987>",
        cwd=named,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr  # the options imply --crate
    topics = ("agent", "author", "license", "publisher", "affiliation", "organization")

    def about_people(folder: Path) -> list[str]:
        report = rocrate_check.validate(folder / "out", cache, "recommended")
        lines = rocrate_check.issues(report)
        return [t for t in lines if any(w in t.lower() for w in topics)]

    assert about_people(bare)  # without them, the validator asks for each
    assert about_people(named) == []
    assert rocrate_check.validate(named / "out", cache)["passed"]
    graph = crate_graph(named / "out")
    root = graph["./"]
    carberry = f"https://orcid.org/{ORCID}"
    assert refs(root["author"]) == [carberry, "#person-ada-lovelace"]
    assert refs(root["license"]) == ["https://spdx.org/licenses/CC-BY-4.0"]
    assert refs(root["publisher"]) == ["https://ror.org/05gq02987"]
    (action,) = [e for e in graph.values() if e["@type"] == "CreateAction"]
    assert refs(action["agent"]) == [carberry]  # the first author ran it
    assert graph[carberry]["affiliation"] == {"@id": "https://ror.org/05gq02987"}
    rocrate = pytest.importorskip("rocrate.rocrate", reason="in the test extra")
    crate = rocrate.ROCrate(named / "out")
    assert [a.id for a in crate.root_dataset["author"]] == refs(root["author"])


def test_a_later_run_keeps_the_crates_people_and_the_earlier_agent(
    tmp_path: Path,
) -> None:
    """A second run into the folder, its people from the environment (a lab sets
    them once), then a third naming nobody: the authors, licence and publisher
    stay, each run keeps the agent who ran it, and the third, whose runner is
    unknown, is given none."""
    base = ("process", "--synthetic", "-e", "npz", "-o", "out", "--crate")
    first = run_playnano(*base, "-n", "a", "--crate-author", ORCID, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    env = {
        "PLAYNANO_CRATE_AUTHOR": "Ada Lovelace; Charles Babbage",
        "PLAYNANO_CRATE_LICENSE": "CC0-1.0",
        "PLAYNANO_CRATE_ORGANIZATION": "Analytical Engines",
    }
    second = run_playnano(*base, "-n", "b", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    third = run_playnano(*base, "-n", "c", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    graph = crate_graph(tmp_path / "out")
    root = graph["./"]
    assert refs(root["author"]) == ["#person-ada-lovelace", "#person-charles-babbage"]
    assert refs(root["license"]) == ["https://spdx.org/licenses/CC0-1.0"]
    assert graph["#organization-analytical-engines"]["@type"] == "Organization"
    agents = [
        refs(a.get("agent")) for a in graph.values() if a["@type"] == "CreateAction"
    ]
    assert sorted(agents) == [
        [],
        ["#person-ada-lovelace"],
        [f"https://orcid.org/{ORCID}"],
    ]
    assert graph[f"https://orcid.org/{ORCID}"]["@type"] == "Person"  # kept


@pytest.mark.parametrize(
    ("args", "env", "where"),
    [
        (("--crate-author", "Ada <0000-0002-1825-0098>"), {}, "--crate-author"),
        (("--crate-license", "my own terms"), {}, "--crate-license"),
        (
            (),
            {"PLAYNANO_CRATE_AUTHOR": "0000-0002-1825-0098"},
            "$PLAYNANO_CRATE_AUTHOR",
        ),
    ],
)
def test_a_bad_author_or_licence_is_refused_before_anything_is_written(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], where: str
) -> None:
    run = run_playnano(
        "process", "--synthetic", "-e", "npz", "-o", "out", "--crate", *args,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0], run.stderr
    assert not (tmp_path / "out").exists()


def test_a_batch_names_who_ran_every_input(synthetic_inputs: Path, tmp_path: Path):
    run = run_playnano(
        "batch", str(synthetic_inputs), "-r", "-w", "1", "-q", "-e", "npz",
        "-o", "out", "--crate-author", f"Josiah Carberry <{ORCID}>",
        "--crate-license", "CC-BY-4.0", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    graph = crate_graph(tmp_path / "out")
    actions = [e for e in graph.values() if e["@type"] == "CreateAction"]
    assert len(actions) == 4
    assert all(refs(a["agent"]) == [f"https://orcid.org/{ORCID}"] for a in actions)
    assert refs(graph["./"]["license"]) == ["https://spdx.org/licenses/CC-BY-4.0"]
