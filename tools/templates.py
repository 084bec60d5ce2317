"""SMS templates: checked when saved, rendered in a sandbox with Close's tags and the caller's variables.

A template may use Close's tags (`{{ contact.first_name }}`, `{{ lead.custom["Budget"] }}`), free variables
(`{{ time }}`) that the caller must supply, `{% if %}` blocks and a few text filters. Anything else is refused
by `check_template`, at save and again at every render; the sandbox is the second line of defence.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from db.models.crm import Contact, Lead
from db.models.workspace import Organization, User
from tools.problems import Problem

TAGS: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "name", "title", "phone", "email", "custom"),
    "lead": ("display_name", "name", "url", "description", "custom"),
    "user": ("first_name", "last_name", "full_name", "email", "phone"),
    "organization": ("name",),
}
FILTERS = frozenset({"capitalize", "default", "lower", "title", "trim", "upper"})
TESTS = frozenset({"defined", "none", "undefined"})

# Names Jinja gives a meaning of its own; none of them may stand for a free variable.
_RESERVED = frozenset(
    {"caller", "cycler", "dict", "joiner", "kwargs", "lipsum", "loop", "namespace", "range", "self", "varargs"}
)
# Statement nodes whose tag is not their lower-cased class name.
_STATEMENT_TAGS = {"Assign": "set", "AssignBlock": "set", "CallBlock": "call", "ExprStmt": "do",
                   "FilterBlock": "filter", "FromImport": "import"}  # fmt: skip
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.CondExpr,
    nodes.Const, nodes.Concat, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Keyword,
)  # fmt: skip


class _DataOnlySandbox(ImmutableSandboxedEnvironment):
    """The sandbox, refusing methods too: a template reads values, so `{{ x.upper }}` is never a way in."""

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return not callable(value) and super().is_safe_attribute(obj, attr, value)


class BlankTag(str):
    """A tag with no value for this message: reads as "" (false in `{% if %}`, replaced by `default(x, true)`),
    and remembers its name so that printing it bare can be reported."""

    tag: str

    def __new__(cls, tag: str) -> "BlankTag":
        blank = super().__new__(cls, "")
        blank.tag = tag
        return blank


_PRINTED_BLANKS = "printed blanks"  # a context key no template can name (it has a space)


@pass_context
def _note_blank(context: Context, value: object) -> object:
    """Every `{{ ... }}` passes here: a blank tag printed as it is goes on the render's list."""
    if isinstance(value, BlankTag):
        context.get(_PRINTED_BLANKS).append(value.tag)
    return value


env = _DataOnlySandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_note_blank)
env.globals.clear()
env.filters = {name: env.filters[name] for name in FILTERS}
env.tests = {name: env.tests[name] for name in TESTS}


@dataclass(frozen=True)
class Rendered:
    text: str | None
    problems: list[Problem]


class _Blanks(dict):
    """Custom fields, where a field the record does not have reads as blank, as in Close."""

    def __init__(self, root: str, values: dict[str, str]):
        super().__init__(values)
        self.root = root

    def __missing__(self, key: str) -> str:
        return BlankTag(f'{self.root}.custom["{key}"]')


def check_template(text: str) -> list[Problem]:
    """The problems that stop this template text from being saved or rendered; empty when it is fine."""
    if not text.strip():
        return [Problem("empty", "text", "The template text is empty.")]
    try:
        return list(dict.fromkeys(_walk(env.parse(text), None)))
    except TemplateSyntaxError as e:
        return [Problem("template_syntax", "text", f"Template syntax error on line {e.lineno}: {e.message}")]
    except RecursionError:
        return [_TOO_DEEP]


def check_template_to_save(text: str) -> list[Problem]:
    """`check_template`, then compiled once: Python's own limits on nesting would otherwise fail every render of a
    template that was saved."""
    problems = check_template(text)
    if problems:
        return problems
    try:
        env.compile(text)
    except (SyntaxError, RecursionError):
        return [_TOO_DEEP]
    return []


_TOO_DEEP = Problem("template_syntax", "text",
                    "The template is nested too deeply; use fewer brackets or {% if %} blocks inside one another.")


def free_variables(text: str) -> set[str]:
    """The names a caller must supply to render this text (which must parse: run `check_template` first)."""
    return meta.find_undeclared_variables(env.parse(text)) - TAGS.keys()


def render_template(
    text: str,
    *,
    contact: Contact | None,
    lead: Lead | None,
    user: User | None,
    organization: Organization | None,
    variables: dict[str, str],
) -> Rendered:
    """Check and render the text; on any problem the text is None and the problems say why."""
    problems = check_template(text)
    if problems:
        return Rendered(None, problems)
    needed = free_variables(text)
    missing = sorted(name for name in needed if not (variables.get(name) or "").strip())
    if missing:
        return Rendered(None, [_missing(name) for name in missing])
    context = {
        "contact": _contact_tags(contact),
        "lead": _lead_tags(lead, contact),
        "user": _user_tags(user),
        "organization": _blanked("organization", {"name": organization.name} if organization else {}),
    }
    return _render(text, context | {name: variables[name] for name in needed})


def _render(text: str, context: dict[str, object]) -> Rendered:
    """The text, and a problem for each tag printed with no value ("Hi , ..."): the text is kept so that it can be
    shown and edited, but it does not go out as it is."""
    printed: list[str] = []
    try:
        rendered = env.from_string(text).render(context | {_PRINTED_BLANKS: printed})
        return Rendered(rendered, [_blank(tag) for tag in dict.fromkeys(printed)])
    except SecurityError as e:
        return Rendered(None, [Problem("template_unsafe", "text", f"The template was refused: {e}")])
    except Exception as e:  # noqa: BLE001 -- the template is the caller's text: any failure in it is theirs to fix
        return Rendered(None, [Problem("template_error", "text", f"The template could not be rendered: {e}")])


def _missing(name: str) -> Problem:
    return Problem("missing_variable", f"variables.{name}", f"The template needs a value for {name}.")


def _blank(tag: str) -> Problem:
    return Problem("blank_tag", "template_id", f"The template uses {{{{ {tag} }}}}, which has no value for this "
                                               "text: fill it in first, or write the text yourself.")


# Save-time checks: walk the parsed template and allow only what an SMS template needs.


def _walk(node: nodes.Node, parent: nodes.Node | None) -> Iterator[Problem]:
    yield from _node_problems(node, parent)
    for child in node.iter_child_nodes():
        yield from _walk(child, node)


def _node_problems(node: nodes.Node, parent: nodes.Node | None) -> list[Problem]:
    if isinstance(node, nodes.Name):
        return _name_problems(node, parent)
    if isinstance(node, nodes.Getattr):
        return _key_problems(node.node, node.attr) or _walk_problems(node)
    if isinstance(node, nodes.Getitem):
        if not isinstance(node.arg, nodes.Const):
            return [_unsafe('Fields can only be looked up by a quoted name, like lead.custom["Budget"].')]
        return _key_problems(node.node, node.arg.value) or _walk_problems(node)
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        return [_unsupported(f"the filter {node.name!r}")]
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        return [_unsupported(f"the test {node.name!r}")]
    if not isinstance(node, (nodes.Filter, nodes.Test, *_ALLOWED_NODES)):
        return [_unsupported(_describe(node))]
    return []


def _name_problems(node: nodes.Name, parent: nodes.Node | None) -> list[Problem]:
    if node.name.startswith("_"):
        return [_unsafe(f"Templates cannot use {node.name!r}: names starting with an underscore are hidden.")]
    if node.name in _RESERVED:
        return [_unsafe(f"Templates cannot use {node.name!r}: it is a reserved name.")]
    looked_up = isinstance(parent, (nodes.Getattr, nodes.Getitem)) and parent.node is node
    if node.name in TAGS and not looked_up:
        example = f"{node.name}.{TAGS[node.name][0]}"
        return [Problem("unknown_tag", "text", f"{node.name} needs a field, such as {{{{ {example} }}}}.")]
    return []


def _key_problems(target: nodes.Node, key: object) -> list[Problem]:
    if isinstance(key, str) and key.startswith("_"):
        return [_unsafe(f"Templates cannot use {key!r}: names starting with an underscore are hidden.")]
    if isinstance(target, nodes.Name) and target.name in TAGS and key not in TAGS[target.name]:
        known = ", ".join(f"{target.name}.{field}" for field in TAGS[target.name])
        return [Problem("unknown_tag", "text", f"{target.name}.{key} is not a tag; use one of {known}.")]
    return []


def _walk_problems(node: nodes.Getattr | nodes.Getitem) -> list[Problem]:
    """A lookup must start at a tag and go one field deep (`contact.first_name`), or into custom fields
    (`lead.custom["Budget"]`): anything else walks into a value's attributes (`{{ time.upper }}`)."""
    keys: list[object] = []
    target: nodes.Node = node
    while isinstance(target, (nodes.Getattr, nodes.Getitem)):
        keys.insert(0, target.attr if isinstance(target, nodes.Getattr) else getattr(target.arg, "value", None))
        target = target.node
    if not (isinstance(target, nodes.Name) and target.name in TAGS):
        return [_unsafe("Only tags have fields, like contact.first_name; a template can't look inside other values.")]
    if len(keys) > 1 and keys[0] != "custom":
        return [_unsafe(f"{target.name}.{keys[0]} has no fields of its own; only custom fields can be looked up.")]
    return []


def _describe(node: nodes.Node) -> str:
    if isinstance(node, (nodes.BinExpr, nodes.UnaryExpr)):
        return f"the {node.operator!r} operator"
    if isinstance(node, nodes.Call):
        return "a function call"
    if isinstance(node, nodes.Stmt):
        tag = _STATEMENT_TAGS.get(type(node).__name__, type(node).__name__.lower())
        return f"the {{% {tag} %}} tag"
    return f"a {type(node).__name__.lower()} expression"


def _unsupported(what: str) -> Problem:
    filters = ", ".join(sorted(FILTERS))
    return _unsafe(f"Templates can only use tags, if blocks and the filters {filters}; this one uses {what}.")


def _unsafe(message: str) -> Problem:
    return Problem("template_unsafe", "text", message)


# Render-time context: plain dicts of strings built from the models; no ORM object enters the sandbox.


def _contact_tags(contact: Contact | None) -> dict[str, object]:
    if contact is None:
        return _blanked("contact", {})
    return _blanked("contact", {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phones[0].phone if contact.phones else None,
        "email": contact.emails[0].email if contact.emails else None,
        "custom": contact.custom,
    })


def _lead_tags(lead: Lead | None, contact: Contact | None) -> dict[str, object]:
    if lead is None:
        return _blanked("lead", {})
    return _blanked("lead", {
        "display_name": lead.name or (contact.name if contact else None),
        "name": lead.name,
        "url": lead.url,
        "description": lead.description,
        "custom": lead.custom,
    })


def _user_tags(user: User | None) -> dict[str, object]:
    if user is None:
        return _blanked("user", {})
    first, last = user.first_name or "", user.last_name or ""
    return _blanked("user", {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "email": user.email,
        "phone": user.forwarding_phone,
    })


def _blanked(root: str, values: dict[str, object]) -> dict[str, object]:
    """Every tag of the root: its value as text, or a BlankTag naming it when the record has none (or no record)."""
    tags: dict[str, object] = {}
    for field in TAGS[root]:
        value = values.get(field)
        if field == "custom":
            tags[field] = _Blanks(root, {name: _custom_text(v) or BlankTag(f'{root}.custom["{name}"]')
                                         for name, v in (value or {}).items()})
        else:
            tags[field] = value if value else BlankTag(f"{root}.{field}")
    return tags


def _custom_text(value: object) -> str:
    """A custom field's value as Close shows it: blank for none, a list joined by commas."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
