"""Document limits in time linear in the document's size (issue 9, docs/ARCHITECTURE.md "Cost").

Why not strawberry's depth and alias validators: they expand every fragment spread where it is
used, without memoising, so `fragment F0 {...F1 ...F1} fragment F1 {...F2 ...F2} …` doubles the
work per level (22 levels: 13 s of CPU for a 904-byte document, sent without a token), and they
recurse, so a chain of 300 fragments raised RecursionError. Here each fragment is summarised once
(depth, aliases, cost, exports), in dependency order, with explicit stacks instead of recursion;
a spread then costs one look-up.

Order of the checks, each cheap enough to run before the next:
1. lexical: at most MAX_TOKENS tokens and MAX_NESTING nested brackets (graphql-core's parser
   recurses per bracket), in one pass of the lexer, before parsing;
2. the limits below, on the parsed document, before graphql-core's own validation (some of whose
   rules recurse through fragments: the fragment nesting bound keeps them shallow);
3. graphql-core's validation.

Every operation of the document is checked (clients send the whole contract file and name one
operation), so the verdict depends on the text only and is cached for small documents.

The cost of a field is 1, plus its selection's cost times `first` for a paged field (a variable
counts as the largest page, MAX_PAGE_SIZE; no `first` as DEFAULT_PAGE_SIZE), and an export costs
EXPORT_COST; an operation must stay within COST_BUDGET and hold at most one export.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    TokenKind,
    parse,
    validate,
)
from graphql.language.lexer import Lexer
from graphql.validation import ASTValidationRule
from seatkeeper.rules.engine import DEFAULT_PAGE_SIZE, MAX_BULK_USERS, MAX_PAGE_SIZE
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.types.base import get_object_definition

MAX_DEPTH = 10
#: A document's length in characters, refused before it is lexed: graphql-core's lexer reads a
#: comment or a string character by character in Python (a 10 MB comment cost seconds of CPU).
#: The contract's whole document is about 9 KB; CSV files travel in variables, not in documents.
MAX_DOCUMENT_CHARS = 256 * 1024
MAX_TOKENS = 5_000
MAX_ALIASES = 30
#: Brackets (`{`, `[`, `(`) open at once; depth 10 needs 12, arguments and lists a few more.
MAX_NESTING = 40
#: Fragments spreading fragments spreading fragments…: longest chain of spreads.
MAX_FRAGMENT_NESTING = 30
#: What one operation may cost (see the module docstring); the contract's largest query, `Users`
#: with a variable `first`, costs about 8,000.
COST_BUDGET = 20_000
EXPORT_FIELDS = frozenset({"exportLicenses", "exportUsers"})
EXPORT_COST = 10_000
MAX_EXPORTS = 1
#: Fields that are paged by `first` (a missing `first` means DEFAULT_PAGE_SIZE).
PAGED_FIELDS = frozenset({"users", "syncLog", "auditLog", "adminLog"})

#: A list in the variables holds at most this many entries (the largest list an operation takes:
#: MAX_BULK_USERS ids or users), checked before graphql-core coerces them.
MAX_VARIABLE_LIST = MAX_BULK_USERS

#: Only documents up to this size are cached; each cache holds at most CACHE_BYTES, as estimated
#: by `document_weight`: a parsed document outweighs its text (a 10 KB document of 5,000 one-letter
#: fields is a 2.8 MB syntax tree), so the caches count what they keep alive, not the text.
MAX_CACHED_DOCUMENT = 64 * 1024
CACHE_BYTES = 8 * 1024 * 1024
#: A parsed document's memory per token (its nodes, their locations, the token chain): measured
#: ~600 bytes (the contract: 738 tokens, 441 KB; 5,000 one-letter fields: 570 bytes a token).
AST_BYTES_PER_TOKEN = 640

_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R})
#: Values are capped here: cost and alias counts can grow exponentially with fragments.
_CAP = 1 << 62


V = TypeVar("V")


class BoundedCache(Generic[V]):
    """An LRU map from document text to a value, bounded by the total weight of its entries.

    An entry weighs what it keeps alive (`document_weight` for a parsed document or errors that
    point into one; its text's length by default). Only texts of at most `max_item` characters are
    kept, so a stream of large distinct documents never grows the process (issue 9: 30 distinct
    10 MB queries raised RSS by 580 MB), nor does one of small documents dense in tokens.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES, max_item: int = MAX_CACHED_DOCUMENT) -> None:
        self.max_bytes = max_bytes
        self.max_item = max_item
        self.size = 0
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, value: V, weight: int | None = None) -> None:
        weight = len(key) if weight is None else weight
        if len(key) > self.max_item or weight > self.max_bytes or key in self._items:
            return
        self._items[key] = (value, weight)
        self.size += weight
        while self.size > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= dropped

    def __len__(self) -> int:
        return len(self._items)


def check_lexical(query: str) -> None:
    """Refuse a document too long, with too many tokens or too deeply nested brackets, before
    parsing."""
    if len(query) > MAX_DOCUMENT_CHARS:
        raise GraphQLError(
            f"Document longer than {MAX_DOCUMENT_CHARS:,} characters.",
            extensions={"code": "DOCUMENT_TOO_LARGE"},
        )
    lexer = Lexer(Source(query))
    tokens = nesting = 0
    token = lexer.advance()
    while token.kind is not TokenKind.EOF:
        tokens += 1
        if tokens > MAX_TOKENS:
            raise GraphQLError(
                f"Document contains more than {MAX_TOKENS} tokens. Parsing aborted.",
                extensions={"code": "DOCUMENT_TOO_LARGE"},
            )
        if token.kind in _OPENING:
            nesting += 1
            if nesting > MAX_NESTING:
                raise GraphQLError(
                    f"Document nests more than {MAX_NESTING} brackets.",
                    extensions={"code": "DOCUMENT_TOO_LARGE"},
                )
        elif token.kind in _CLOSING:
            nesting -= 1
        token = lexer.advance()


def parse_bounded(query: str) -> DocumentNode:
    """`parse`, after the lexical limits (GraphQLError for a refused or malformed document)."""
    check_lexical(query)
    return parse(query, max_tokens=MAX_TOKENS)


@dataclass(frozen=True)
class Summary:
    """What a selection set costs: its depth, aliases, cost and exports (fragments expanded)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    exports: int = 0


_EMPTY = Summary()


def _multiplier(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), MAX_PAGE_SIZE))
            return MAX_PAGE_SIZE  # a variable: the largest page it may ask for
    return DEFAULT_PAGE_SIZE if field.name.value in PAGED_FIELDS else 1


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif (
                isinstance(selection, (FieldNode, InlineFragmentNode))
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)


def _summarise(selection_set: SelectionSetNode, fragments: dict[str, Summary]) -> Summary:
    """Post-order walk with an explicit stack; fragments already summarised are looked up."""
    done: dict[int, Summary] = {}
    stack: list[tuple[SelectionSetNode, bool]] = [(selection_set, False)]
    while stack:
        node, children_done = stack.pop()
        if not children_done:
            stack.append((node, True))
            for selection in node.selections:
                if (
                    isinstance(selection, (FieldNode, InlineFragmentNode))
                    and selection.selection_set
                ):
                    stack.append((selection.selection_set, False))
            continue
        depth = aliases = cost = exports = 0
        for selection in node.selections:
            if isinstance(selection, FragmentSpreadNode):
                part = fragments.get(selection.name.value, _EMPTY)
            elif isinstance(selection, InlineFragmentNode):
                part = done[id(selection.selection_set)]
            elif isinstance(selection, FieldNode):
                field = selection
                name = field.name.value
                child = done[id(field.selection_set)] if field.selection_set else _EMPTY
                field_depth = 0
                if field.selection_set and not name.startswith("__"):
                    field_depth = 1 + child.depth
                if name in EXPORT_FIELDS:
                    field_cost, field_exports = EXPORT_COST, 1
                else:
                    field_cost, field_exports = 1 + _multiplier(field) * child.cost, 0
                part = Summary(
                    field_depth,
                    child.aliases + (1 if field.alias else 0),
                    field_cost,
                    child.exports + field_exports,
                )
            else:  # graphql-core's three kinds of selection are the ones above
                continue
            depth = max(depth, part.depth)
            aliases = min(aliases + part.aliases, _CAP)
            cost = min(cost + part.cost, _CAP)
            exports = min(exports + part.exports, _CAP)
        done[id(node)] = Summary(depth, aliases, cost, exports)
    return done[id(selection_set)]


def _error(message: str, node: Node | None = None, code: str = "QUERY_TOO_COMPLEX") -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


def limit_errors(document: DocumentNode) -> list[GraphQLError]:
    """Errors of the depth, alias, cost, export and fragment limits, in time linear in size."""
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    dependencies = {name: set(_spreads(d.selection_set)) for name, d in definitions.items()}
    # Dependency order (iterative depth-first search), the longest chain, and cycles.
    order: list[str] = []
    chain: dict[str, int] = {}
    state: dict[str, int] = {}  # 1 on the path, 2 finished
    for root in definitions:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(sorted(dependencies[root])))]
        while stack:
            name, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                stack.pop()
                state[name] = 2
                order.append(name)
                known = [chain[d] for d in dependencies[name] if d in chain]
                chain[name] = 1 + max(known, default=0)
                continue
            if following not in definitions:
                continue  # an unknown fragment: graphql-core's validation reports it
            if state.get(following) == 1:
                return [
                    _error(
                        f"Cannot spread fragment '{following}' within itself.",
                        definitions[following],
                        "GRAPHQL_VALIDATION_FAILED",
                    )
                ]
            if following not in state:
                state[following] = 1
                stack.append((following, iter(sorted(dependencies[following]))))
    longest = max(chain.values(), default=0)
    if longest > MAX_FRAGMENT_NESTING:
        return [_error(f"Fragments are nested {longest} deep. Allowed: {MAX_FRAGMENT_NESTING}")]
    fragments: dict[str, Summary] = {}
    for name in order:
        fragments[name] = _summarise(definitions[name].selection_set, fragments)
    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        label = operation.name.value if operation.name else "anonymous"
        summary = _summarise(operation.selection_set, fragments)
        if summary.depth > MAX_DEPTH:
            errors.append(
                _error(f"'{label}' exceeds maximum operation depth of {MAX_DEPTH}", operation)
            )
        if summary.aliases > MAX_ALIASES:
            errors.append(_error(f"{summary.aliases} aliases found. Allowed: {MAX_ALIASES}"))
        if summary.exports > MAX_EXPORTS:
            errors.append(
                _error(f"'{label}' asks for {summary.exports} exports. Allowed: {MAX_EXPORTS}")
            )
        if summary.cost > COST_BUDGET:
            shown = f"{summary.cost:,}" if summary.cost < _CAP else "more than 2^62"
            errors.append(
                _error(
                    f"'{label}' costs {shown}, over the budget of {COST_BUDGET:,} per operation "
                    "(a field costs 1, a page `first` times its selection, an export "
                    f"{EXPORT_COST:,})",
                    operation,
                )
            )
    return errors


_documents: BoundedCache[DocumentNode] = BoundedCache()
_verdicts: BoundedCache[list[GraphQLError]] = BoundedCache()


def document_weight(query: str, document: DocumentNode) -> int:
    """What a parsed document keeps alive, estimated from its tokens (AST_BYTES_PER_TOKEN)."""
    tokens = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        token = token.next
    return len(query) + tokens * AST_BYTES_PER_TOKEN


def cached_document(query: str) -> DocumentNode:
    """The parsed document, from a cache bounded in bytes (GraphQLError when refused)."""
    document = _documents.get(query)
    if document is None:
        document = parse_bounded(query)
        _documents.put(query, document, document_weight(query, document))
    return document


_executable: WeakKeyDictionary[Schema, GraphQLSchema] = WeakKeyDictionary()


def graphql_schema(schema: Schema) -> GraphQLSchema:
    """graphql-core's schema over the very type objects (so the very resolvers) of `schema`.

    Strawberry keeps its own graphql-core schema private (`_schema`); its converter hands out the
    types it built (one object per type name), from which this one is assembled, once per schema.
    """
    built = _executable.get(schema)
    if built is None:
        converter = schema.schema_converter
        mutation = schema.mutation
        built = GraphQLSchema(
            query=converter.from_object(get_object_definition(schema.query, strict=True)),
            mutation=converter.from_object(get_object_definition(mutation, strict=True))
            if mutation is not None
            else None,
        )
        _executable[schema] = built
    return built


def document_errors(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """The limits, then graphql-core's validation; the verdict is cached for small documents."""
    errors = _verdicts.get(query)
    if errors is None:
        errors = limit_errors(document) or validate(schema, document, rules)
        # Errors point into the document (their nodes): they keep its syntax tree alive.
        _verdicts.put(query, errors, document_weight(query, document) if errors else None)
    return errors


def variable_errors(variables: object) -> list[GraphQLError]:
    """A list longer than MAX_VARIABLE_LIST anywhere in the variables (iterative walk)."""
    stack = [variables]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            if len(value) > MAX_VARIABLE_LIST:
                message = (
                    f"A list in the variables holds {len(value):,} entries. "
                    f"Allowed: {MAX_VARIABLE_LIST:,}"
                )
                return [GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})]
            stack.extend(value)
    return []


class DocumentLimits(SchemaExtension):
    """Parse and validate with the limits above and the bounded caches (replaces strawberry's
    MaxTokensLimiter, ParserCache, ValidationCache and depth/alias validators)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            context.graphql_document = cached_document(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is not None:
            context.pre_execution_errors = document_errors(
                graphql_schema(context.schema),
                context.query,
                context.graphql_document,
                tuple(context.validation_rules),
            ) or variable_errors(context.variables)
        yield
