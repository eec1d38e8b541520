"""What a build must do, decided from plain data: no model, no disk, unit-tested in milliseconds.

`plan_sync(known, found)` compares what the index holds with the files found on disk (with their
hashes) and says which files to add, update, keep, move (rename), remove, or skip as duplicates.
`plan_remove(known, wanted)` says which documents a `qa index remove` names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from .errors import UserInputError


@dataclass(frozen=True)
class Known:
    """A document the index holds."""

    path: str
    name: str
    sha256: str
    size: int = -1


@dataclass(frozen=True)
class Found:
    """A file on disk; `problem` (too large, unreadable) means it was not hashed and is skipped."""

    path: str
    name: str
    sha256: str = ""
    size: int = 0
    problem: str = ""


@dataclass(frozen=True)
class Move:
    """A known document whose path or name changes; its chunks and vectors are kept as they are."""

    old_path: str
    new_path: str
    old_name: str
    new_name: str


@dataclass(frozen=True)
class Plan:
    add: tuple[Found, ...] = ()
    update: tuple[Found, ...] = ()  # same path, new content: re-embedded, keeps its name
    unchanged: tuple[str, ...] = ()  # names
    rename: tuple[Move, ...] = ()
    remove: tuple[Known, ...] = ()
    duplicate: tuple[tuple[Found, str], ...] = ()  # (file, name of the document with its content)
    skip: tuple[Found, ...] = ()  # files with a problem
    names: dict[str, str] = field(default_factory=dict)  # path -> name after the plan

    @property
    def changed(self) -> bool:
        return bool(self.add or self.update or self.rename or self.remove)


def plan_sync(known: Iterable[Known], found: Iterable[Found], *, remove_missing: bool = True,
              gone: Iterable[str] = ()) -> Plan:
    """The changes that make the index match `found`.

    With `remove_missing` every known document not found is removed (a build); without it only
    those whose file is `gone` from disk may be (an add). A new path with the content of such a
    missing document is a move, not an add plus a removal: nothing is embedded again.
    """
    known_by_path = {k.path: k for k in known}
    found = list(found)
    found_paths = {f.path for f in found}
    gone = set(gone)
    missing = {p: k for p, k in known_by_path.items()
               if p not in found_paths and (remove_missing or p in gone)}
    movable: dict[str, list[Known]] = {}
    for k in missing.values():
        movable.setdefault(k.sha256, []).append(k)
    kept_hashes = {k.sha256: k.name for p, k in known_by_path.items() if p not in missing}

    add, update, unchanged, skip, duplicate = [], [], [], [], []
    moves: list[tuple[Known, Found]] = []
    new_hashes: dict[str, str] = {}
    for f in found:
        if f.problem:
            skip.append(f)
            continue
        old = known_by_path.get(f.path)
        if old is not None and old.sha256 == f.sha256:
            unchanged.append(f)
            continue
        twin = new_hashes.get(f.sha256) or (kept_hashes.get(f.sha256) if old is None else None)
        if twin is None and old is None and movable.get(f.sha256):
            moves.append((movable[f.sha256].pop(0), f))
            new_hashes[f.sha256] = f.name
            continue
        if twin is not None:
            duplicate.append((f, twin))
            continue
        new_hashes[f.sha256] = f.name
        (update if old is not None else add).append(f)

    moved_from = {k.path for k, _ in moves}
    remove = [k for p, k in missing.items() if p not in moved_from]
    removed_paths = {k.path for k in remove}
    preferred = {p: k.name for p, k in known_by_path.items() if p not in removed_paths | moved_from}
    preferred.update({f.path: f.name for _, f in moves})
    preferred.update({f.path: f.name for f in add})
    names = unique_names(preferred)

    renames = [Move(k.path, f.path, k.name, names[f.path]) for k, f in moves]
    renames += [Move(p, p, k.name, names[p]) for p, k in known_by_path.items()
                if p in names and names[p] != k.name]
    return Plan(add=tuple(replace(f, name=names[f.path]) for f in add),
                update=tuple(replace(f, name=names[f.path]) for f in update),
                unchanged=tuple(names[f.path] for f in unchanged), rename=tuple(renames),
                remove=tuple(remove), duplicate=tuple(duplicate), skip=tuple(skip), names=names)


def unique_names(preferred: dict[str, str]) -> dict[str, str]:
    """path -> name, each name unique: colliding names grow to the shortest path tail that differs.

    `a/notes.txt` and `b/notes.txt` added alone are both `notes.txt` by preference; they become
    `a/notes.txt` and `b/notes.txt`, so a citation and `qa index remove NAME` name one file.
    """
    names = dict(preferred)
    for _ in range(64):
        groups: dict[str, list[str]] = {}
        for path, name in names.items():
            groups.setdefault(name, []).append(path)
        clashes = [paths for paths in groups.values() if len(paths) > 1]
        if not clashes:
            return names
        for paths in clashes:
            depth = max(len(PurePosixPath(names[p]).parts) for p in paths) + 1
            for p in paths:
                names[p] = _tail(p, depth)
    return names


def _tail(path: str, depth: int) -> str:
    parts = [part for part in PurePosixPath(path.replace("\\", "/")).parts if part != "/"]
    return "/".join(parts[-depth:])


def plan_remove(known: Sequence[Known], wanted: Sequence[str],
                resolve: Callable[[str], str]) -> list[Known]:
    """The documents `wanted` names: by exact name, by path (a folder: all below it), or by the end
    of one name (`notes.txt` for `a/notes.txt`). An ambiguous or unknown item raises, naming the
    candidates, and nothing is removed."""
    chosen: dict[str, Known] = {}
    unknown = []
    for item in wanted:
        hits = [k for k in known if k.name == item]
        if not hits:
            target = resolve(item).rstrip("/")
            hits = [k for k in known if k.path == target or k.path.startswith(target + "/")]
        if not hits:
            hits = [k for k in known if k.name.endswith("/" + item.strip("/"))]
            if len(hits) > 1:
                listed = ", ".join(sorted(k.name for k in hits))
                raise UserInputError(f"{item!r} matches {len(hits)} documents ({listed}); "
                                     "name the one to remove.")
        if not hits:
            unknown.append(item)
        chosen.update({k.path: k for k in hits})
    if unknown:
        raise UserInputError(f"Not in the index: {', '.join(unknown)}; nothing was removed "
                             "(`qa index status --documents` lists the documents).")
    return list(chosen.values())
