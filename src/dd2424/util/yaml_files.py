"""The YAML a user hands us (report files, config files, ``--config`` values), read as it is meant and bounded.

PyYAML implements YAML 1.1, whose implicit types change meaning silently:
a run named ``on`` or ``off`` becomes ``True`` or ``False``, ``no`` a bool,
``010`` the octal 8, ``1:20`` the sexagesimal 80, while ``1e-3`` (no dot) stays
text.  Here the scalars follow YAML 1.2's core schema instead (only
``true``/``false`` are bools, ``1e-3`` is a float, ``010`` is ten), a key
given twice in one mapping is refused, and a file is read in bounded time
and memory: at most ``MAX_BYTES`` bytes, ``MAX_NODES`` values once every
alias is expanded (a "billion laughs" file is refused before anything walks
it), no alias that contains itself, and no nesting deeper than Python's
recursion allows.  Every refusal is a ``YamlError`` naming the file and the
line, a few lines long whatever the input.
"""

import re

import yaml

# A report or config file is a few KB; the largest shipped one is under 20 KB.
MAX_BYTES = 1 << 20
# Values (scalars, lists, mappings) after aliases are expanded; the largest shipped file has about 2,000.
MAX_NODES = 200_000
# What a refusal quotes of the input, at most.
QUOTE = 200

_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class YamlError(ValueError):
    """A YAML file or value we refuse; the message names the file (or value) and the line."""


def shorten(text, limit=QUOTE):
    """``text`` on one line, cut to ``limit`` characters (a refusal quoting the input stays short)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# libyaml's parser where PyYAML was built with it (five times faster than the pure-Python one); the same rules.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_SafeLoader):
    """PyYAML's safe loader with YAML 1.2's core schema for bools, integers and floats, and no duplicate keys."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Loader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)


def _mapping_without_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` merges; its keys may be set again here
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shorten(repr(key))} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep)


Loader.add_constructor(_INT, _int)
Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _expanded_size(node, name, memo, open_nodes):
    """The number of values ``node`` stands for once its aliases are expanded; refused above MAX_NODES.

    Each distinct node is counted once (``memo``), so the walk is linear in the
    file even when aliases nest nine deep."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_nodes:
        raise YamlError(f"{name}:{node.start_mark.line + 1}: an alias that contains itself")
    open_nodes.add(key)
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(
            _expanded_size(k, name, memo, open_nodes) + _expanded_size(v, name, memo, open_nodes) for k, v in node.value
        )
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, name, memo, open_nodes) for v in node.value)
    else:
        size = 1
    open_nodes.discard(key)
    if size > MAX_NODES:
        raise YamlError(
            f"{name}:{node.start_mark.line + 1}: its aliases expand to more than {MAX_NODES:,} values "
            "(nested aliases, a 'billion laughs'?): write the values out, or use fewer aliases"
        )
    memo[key] = size
    return size


def _node(text, name):
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, name, {}, set())
        return loader, node
    except yaml.YAMLError as e:
        loader.dispose()
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(filter(None, (getattr(e, "context", None), getattr(e, "problem", None)))) or str(e)
        lines = text.splitlines()
        before = lines[mark.line][: mark.column + 1] if mark is not None and mark.line < len(lines) else ""
        hint = " (YAML indents with spaces, never tabs)" if "\t" in before else ""
        if "nesting depth" in problem:
            raise YamlError(f"{name}{where}: nested too deeply to be a report or config file") from None
        raise YamlError(f"{name}{where}: not valid YAML: {shorten(problem)}{hint}") from None
    except RecursionError:
        loader.dispose()
        raise YamlError(f"{name}: nested too deeply to be a report or config file") from None


def loads(text, name="<text>"):
    """The data of the YAML document ``text`` (``name`` says where it comes from, in refusals)."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"{name}: {len(text):,} characters; a report or config file is at most {MAX_BYTES:,}")
    loader, node = _node(text, name)
    try:
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise YamlError(f"{name}{where}: {shorten(getattr(e, 'problem', None) or e)}") from None
    except RecursionError:
        raise YamlError(f"{name}: nested too deeply to be a report or config file") from None
    finally:
        loader.dispose()


def read(path):
    """The data of the YAML file at ``path``; ``YamlError`` names the file and the line of any problem."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise YamlError(f"{path}: cannot be read: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise YamlError(f"{path}: larger than {MAX_BYTES:,} bytes; a report or config file is a few KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise YamlError(f"{path}: not UTF-8 text (byte {e.start})") from None
    return loads(text, str(path))


def line_of(path, keys):
    """The line (1-based) of the deepest of ``keys`` (a path of mapping keys and list indices) found in
    the YAML file at ``path``; None where the file cannot be read again."""
    try:
        with open(path, encoding="utf-8") as f:
            loader, node = _node(f.read(MAX_BYTES + 1), str(path))
    except (OSError, UnicodeDecodeError, YamlError):
        return None
    loader.dispose()
    line = None if node is None else node.start_mark.line + 1
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)]
            if not match:
                break
            line = next(k for k, v in node.value if v is match[-1]).start_mark.line + 1
            node = match[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
