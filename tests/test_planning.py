"""plan_sync / plan_remove on plain data: no model, no disk."""

from __future__ import annotations

import pytest

from qa.errors import UserInputError
from qa.planning import Found, Known, Move, plan_remove, plan_sync, unique_names


def test_new_changed_unchanged_and_missing() -> None:
    known = [Known("/d/a.txt", "d/a.txt", "A"), Known("/d/b.txt", "d/b.txt", "B"),
             Known("/d/c.txt", "d/c.txt", "C")]
    found = [Found("/d/a.txt", "d/a.txt", "A"), Found("/d/b.txt", "d/b.txt", "B2"),
             Found("/d/n.txt", "d/n.txt", "N")]
    plan = plan_sync(known, found)
    assert [f.name for f in plan.add] == ["d/n.txt"]
    assert [f.name for f in plan.update] == ["d/b.txt"]
    assert plan.unchanged == ("d/a.txt",)
    assert [k.name for k in plan.remove] == ["d/c.txt"]
    assert plan.rename == () and plan.changed


def test_rename_is_a_move_not_a_skip_and_a_removal() -> None:
    known = [Known("/d/old.txt", "d/old.txt", "X")]
    plan = plan_sync(known, [Found("/d/new.txt", "d/new.txt", "X")])
    assert plan.rename == (Move("/d/old.txt", "/d/new.txt", "d/old.txt", "d/new.txt"),)
    assert plan.add == () and plan.remove == () and plan.duplicate == ()


def test_move_during_add_only_when_the_old_file_is_gone() -> None:
    known = [Known("/d/old.txt", "old.txt", "X")]
    found = [Found("/e/copy.txt", "copy.txt", "X")]
    kept = plan_sync(known, found, remove_missing=False)
    assert kept.duplicate == ((found[0], "old.txt"),) and kept.rename == ()
    moved = plan_sync(known, found, remove_missing=False, gone=["/d/old.txt"])
    assert moved.rename == (Move("/d/old.txt", "/e/copy.txt", "old.txt", "copy.txt"),)


def test_same_content_twice_is_indexed_once() -> None:
    found = [Found("/d/a.txt", "d/a.txt", "S"), Found("/d/b.txt", "d/b.txt", "S")]
    plan = plan_sync([], found)
    assert [f.name for f in plan.add] == ["d/a.txt"]
    assert plan.duplicate == ((found[1], "d/a.txt"),)


def test_problem_files_are_skipped_and_their_old_version_kept() -> None:
    known = [Known("/d/big.txt", "d/big.txt", "B")]
    plan = plan_sync(known, [Found("/d/big.txt", "d/big.txt", problem="file too large")])
    assert [f.problem for f in plan.skip] == ["file too large"]
    assert plan.remove == () and not plan.changed


def test_same_file_names_in_two_folders_get_distinct_names() -> None:
    plan = plan_sync([], [Found("/x/a/notes.txt", "notes.txt", "1"),
                          Found("/x/b/notes.txt", "notes.txt", "2")])
    assert sorted(f.name for f in plan.add) == ["a/notes.txt", "b/notes.txt"]


def test_a_new_namesake_renames_the_indexed_document() -> None:
    plan = plan_sync([Known("/x/a/notes.txt", "notes.txt", "1")],
                     [Found("/x/b/notes.txt", "notes.txt", "2")], remove_missing=False)
    assert [f.name for f in plan.add] == ["b/notes.txt"]
    assert plan.rename == (Move("/x/a/notes.txt", "/x/a/notes.txt", "notes.txt", "a/notes.txt"),)


def test_unique_names_grow_until_they_differ() -> None:
    names = unique_names({"/p/x/docs/n.md": "docs/n.md", "/p/y/docs/n.md": "docs/n.md",
                          "/p/z.md": "z.md"})
    assert names == {"/p/x/docs/n.md": "x/docs/n.md", "/p/y/docs/n.md": "y/docs/n.md",
                     "/p/z.md": "z.md"}


KNOWN = [Known("/x/a/notes.txt", "a/notes.txt", "1"), Known("/x/b/notes.txt", "b/notes.txt", "2"),
         Known("/x/c/report.pdf", "c/report.pdf", "3")]


def test_remove_by_name_path_folder_or_unique_tail() -> None:
    def resolve(item: str) -> str:
        return item if item.startswith("/") else "/cwd/" + item

    assert [k.name for k in plan_remove(KNOWN, ["a/notes.txt"], resolve)] == ["a/notes.txt"]
    assert [k.name for k in plan_remove(KNOWN, ["/x/b"], resolve)] == ["b/notes.txt"]
    assert [k.name for k in plan_remove(KNOWN, ["report.pdf"], resolve)] == ["c/report.pdf"]


def test_remove_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(UserInputError) as err:
        plan_remove(KNOWN, ["notes.txt"], lambda item: "/cwd/" + item)
    assert str(err.value) == ("'notes.txt' matches 2 documents (a/notes.txt, b/notes.txt); "
                              "name the one to remove.")


def test_remove_an_unknown_name_fails_and_removes_nothing() -> None:
    with pytest.raises(UserInputError, match=r"^Not in the index: nothing\.txt; nothing was removed"):
        plan_remove(KNOWN, ["a/notes.txt", "nothing.txt"], lambda item: "/cwd/" + item)
