"""Image tags: the tags docker/metadata-action's rules give a git ref, as pure functions."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Callable, Literal

from mlc_devops.errors import UsageError

# The spec's rules (section 6.4, "docker" job), written as the ``tags`` and
# ``flavor`` inputs of docker/metadata-action so the workflow can use them
# verbatim: sha-<short>, the branch name, the v* tag as pushed, and latest only
# on the default branch.
SPEC_TAG_RULES: tuple[str, ...] = (
    "type=sha",
    "type=ref,event=branch",
    "type=semver,pattern={{raw}}",
    "type=raw,value=latest,enable={{is_default_branch}}",
)
SPEC_FLAVOR: tuple[str, ...] = ("latest=false",)

SHORT_SHA_LENGTH = 7
_PRIORITIES = {
    "schedule": 1000,
    "semver": 900,
    "pep440": 900,
    "match": 800,
    "edge": 700,
    "ref": 600,
    "raw": 200,
    "sha": 100,
}
_SUPPORTED_TYPES = ("semver", "ref", "raw", "sha")
_REF_EVENTS = ("branch", "tag", "pr")
_NUM = r"0|[1-9]\d*"
_PRE_ID = r"0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*"
_SEMVER = re.compile(
    rf"^v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_EXPR = re.compile(r"\{\{\s*(.*?)\s*\}\}")


@dataclass(frozen=True)
class TagRule:
    """One line of metadata-action's ``tags`` input, parsed."""

    type: str
    attrs: Mapping[str, str]
    priority: int

    @classmethod
    def parse(cls, line: str) -> TagRule:
        fields = next(csv.reader([line], skipinitialspace=True), [])
        attrs: dict[str, str] = {}
        kind = "raw"
        for item in fields:
            key, sep, value = item.partition("=")
            if not sep:
                attrs["value"] = item.strip()
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "type":
                kind = value
            else:
                attrs[key] = value
        if kind not in _PRIORITIES:
            raise UsageError(f"unknown tag type {kind!r} in {line!r}")
        if kind not in _SUPPORTED_TYPES:
            raise UsageError(f"tag type {kind!r} is not supported here", hint="use sha, ref, semver or raw rules")
        if kind == "semver" and "pattern" not in attrs:
            raise UsageError(f"missing pattern attribute in {line!r}")
        if kind == "ref":
            if attrs.get("event") not in _REF_EVENTS:
                raise UsageError(f"ref rule needs event=branch, tag or pr: {line!r}")
            if attrs["event"] == "pr":
                attrs.setdefault("prefix", "pr-")
        if kind == "raw" and "value" not in attrs:
            raise UsageError(f"missing value attribute in {line!r}")
        if kind == "sha":
            attrs.setdefault("prefix", "sha-")
            attrs.setdefault("format", "short")
            if attrs["format"] not in ("short", "long"):
                raise UsageError(f"sha format must be short or long: {line!r}")
        attrs.setdefault("enable", "true")
        try:
            priority = int(attrs.get("priority", _PRIORITIES[kind]))
        except ValueError:
            raise UsageError(f"priority must be a number: {line!r}") from None
        return cls(kind, attrs, priority)


@dataclass(frozen=True)
class Flavor:
    latest: Literal["auto", "true", "false"] = "auto"
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Flavor:
        latest = "auto"
        prefix = suffix = ""
        for line in lines:
            for item in next(csv.reader([line], skipinitialspace=True), []):
                key, sep, value = item.partition("=")
                key, value = key.strip().lower(), value.strip()
                if not sep:
                    raise UsageError(f"invalid flavor entry {line!r}")
                if key == "latest":
                    if value not in ("auto", "true", "false"):
                        raise UsageError(f"flavor latest must be auto, true or false: {line!r}")
                    latest = value
                elif key == "prefix":
                    prefix = value
                elif key == "suffix":
                    suffix = value
                else:
                    raise UsageError(f"unknown flavor entry {line!r}")
        return cls(latest, prefix, suffix)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RefContext:
    ref: str
    sha: str
    default_branch: str = "main"
    short_sha_length: int = SHORT_SHA_LENGTH

    @property
    def branch(self) -> str:
        return self.ref[len("refs/heads/") :] if self.ref.startswith("refs/heads/") else ""

    @property
    def tag(self) -> str:
        return self.ref[len("refs/tags/") :] if self.ref.startswith("refs/tags/") else ""

    @property
    def short_sha(self) -> str:
        return self.sha[: self.short_sha_length] if self.short_sha_length < len(self.sha) else self.sha

    @property
    def is_default_branch(self) -> bool:
        return bool(self.branch) and self.branch == self.default_branch


def sanitize_tag(tag: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "-", tag)


def _expand(text: str, ctx: RefContext) -> str:
    values = {
        "branch": ctx.branch,
        "tag": ctx.tag,
        "sha": ctx.short_sha,
        "base_ref": "",
        "is_default_branch": "true" if ctx.is_default_branch else "false",
        "is_not_default_branch": "false" if ctx.is_default_branch else "true",
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UsageError(
                f"expression {{{{{name}}}}} is not supported",
                hint="use " + ", ".join(sorted(values)),
            )
        return values[name]

    return _EXPR.sub(one, text)


def _semver_fields(text: str) -> dict[str, str] | None:
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    version = f"{match['major']}.{match['minor']}.{match['patch']}"
    if match["pre"]:
        version += f"-{match['pre']}"
    return {
        "raw": text,
        "version": version,
        "major": match["major"],
        "minor": match["minor"],
        "patch": match["patch"],
        "prerelease": match["pre"] or "",
    }


def _render_pattern(pattern: str, fields: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fields:
            raise UsageError(f"semver pattern expression {{{{{name}}}}} is not supported")
        return fields[name]

    return _EXPR.sub(one, pattern)


def _decorate(value: str, rule: TagRule, flavor: Flavor, ctx: RefContext) -> str:
    if "prefix" in rule.attrs:
        value = _expand(rule.attrs["prefix"], ctx) + value
    elif flavor.prefix:
        value = _expand(flavor.prefix, ctx) + value
    if "suffix" in rule.attrs:
        value = value + _expand(rule.attrs["suffix"], ctx)
    elif flavor.suffix:
        value = value + _expand(flavor.suffix, ctx)
    return value


def _sha_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    if not ctx.sha:
        return None
    sha = ctx.short_sha if rule.attrs["format"] == "short" else ctx.sha
    return _decorate(sha, rule, flavor, ctx), False


def _ref_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    event = rule.attrs["event"]
    if event == "branch" and ctx.branch:
        return _decorate(ctx.branch, rule, flavor, ctx), False
    if event == "tag" and ctx.tag:
        return _decorate(ctx.tag, rule, flavor, ctx), True
    if event == "pr" and ctx.ref.startswith("refs/pull/"):
        number = ctx.ref[len("refs/pull/") :]
        number = number[: -len("/merge")] if number.endswith("/merge") else number
        return _decorate(number, rule, flavor, ctx), False
    return None


def _raw_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    return _decorate(_expand(rule.attrs["value"], ctx), rule, flavor, ctx), False


def _semver_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    value = rule.attrs.get("value", "")
    if not ctx.tag and not value:
        return None
    raw = (_expand(value, ctx) if value else ctx.tag).replace("/", "-")
    fields = _semver_fields(raw)
    if fields is None:
        return None
    pattern = rule.attrs["pattern"]
    if fields["prerelease"]:
        # metadata-action keeps a prerelease whole: {{raw}} stays, any other pattern is {{version}}.
        pattern = pattern if pattern.strip() == "{{raw}}" else "{{version}}"
        return _decorate(_render_pattern(pattern, fields), rule, flavor, ctx), False
    return _decorate(_render_pattern(pattern, fields), rule, flavor, ctx), True


# The tag one rule gives, and whether it asks for ``latest`` under latest=auto.
_RULE_VALUES: dict[str, Callable[[TagRule, Flavor, RefContext], tuple[str, bool] | None]] = {
    "sha": _sha_value,
    "ref": _ref_value,
    "raw": _raw_value,
    "semver": _semver_value,
}


def compute_tags(
    ref: str,
    sha: str,
    *,
    default_branch: str = "main",
    rules: Sequence[str] = SPEC_TAG_RULES,
    flavor: Sequence[str] = SPEC_FLAVOR,
    images: Sequence[str] = (),
    short_sha_length: int = SHORT_SHA_LENGTH,
) -> list[str]:
    """The tags docker/metadata-action gives ``ref`` at ``sha`` under ``rules``.

    Same order and rules as the action: rules sorted by priority (stable); the
    first tag is the version, later ones follow in order, duplicates of the
    version dropped; ``latest`` is appended when the flavor says so (auto:
    when the first rule that gave a tag was a final semver or a git tag).
    """
    if not ref.startswith("refs/"):
        raise UsageError(
            f"--ref must be a full git ref, not {ref!r}",
            hint="e.g. refs/heads/main, refs/tags/v1.2.3 or refs/pull/7/merge",
        )
    if sha and not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
        raise UsageError(f"--sha must be a hexadecimal commit id, not {sha!r}")
    ctx = RefContext(ref, sha.lower(), default_branch, short_sha_length)
    parsed_flavor = Flavor.parse(flavor)
    parsed = sorted((TagRule.parse(line) for line in rules), key=lambda r: -r.priority)
    main: str | None = None
    partial: list[str] = []
    latest: bool | None = None
    for rule in parsed:
        enable = _expand(rule.attrs["enable"], ctx)
        if enable not in ("true", "false"):
            raise UsageError(f"enable must be true or false, not {enable!r}")
        if enable != "true":
            continue
        given = _RULE_VALUES[rule.type](rule, parsed_flavor, ctx)
        if given is None or not given[0]:
            continue
        value, wants_latest = sanitize_tag(given[0]), given[1]
        if main is None:
            main = value
        elif value != main and value not in partial:
            partial.append(value)
        if latest is None:
            latest = wants_latest if parsed_flavor.latest == "auto" else parsed_flavor.latest == "true"
    if main is None:
        return []
    names = [main, *partial]
    if latest:
        names.append("latest")
    if not images:
        return names
    return [f"{image.lower()}:{name}" for image in images for name in names]
