"""GraphQL documents as requests bring them: parsed, validated and recognised once, then cached.

Every request's document goes through `Documents.prepare`: parsed (at most MAX_TOKENS tokens),
validated with the schema's rules (`schema.root.validation_rules`), its operation selected. The
verdict is kept in an LRU keyed by document text, then operation name, bounded by what the parsed
documents weigh (schema/limits.py `document_weight`), so a client sending the same operation
again pays nothing.

Trusted documents are the operations in `server/trusted_documents/*.graphql` (package data:
`contract.graphql` is the contract, `cli.graphql` and `console.graphql` the command line's and
the console's). They are parsed, validated and compiled at start-up (server/compiled.py). A
request's operation is recognised as trusted by its *fingerprint*: the SHA-256 of its printed
text once `__typename` selections are taken out, so formatting, comments, the other operations
of the document it came in, and the `__typename` fields Apollo Client adds all leave it
recognised. The fingerprint is also the operation's persisted-query id (README, "Persisted
queries"). A recognised operation is compiled as the request wrote it (its `__typename`s
included, so that the answer has them) and executed by the compiled executor; every other
operation by Strawberry. Both use the same resolvers, masking and serialisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    print_ast,
    specified_rules,
    visit,
)
from seatkeeper.schema.limits import BoundedCache, cached_document, document_errors, document_weight
from seatkeeper.server.compiled import CompiledOperation, compile_operation

#: The package's trusted documents (package data of seatkeeper.server).
TRUSTED_DOCUMENTS = "trusted_documents"

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_RESOLUTION_FAILURE = "BAD_REQUEST"


class TrustedDocumentError(Exception):
    """A trusted document does not parse or validate: the server refuses to start."""


@dataclass
class Prepared:
    """What a request's document and operation name come to.

    `errors` (with their `extensions.code`) when the document cannot run: a request error,
    answered without executing anything. Otherwise the selected `operation`, and `compiled` when
    it is a trusted operation.
    """

    errors: list[GraphQLError] = field(default_factory=list)
    operation: OperationDefinitionNode | None = None
    document: DocumentNode | None = None
    fingerprint: str | None = None
    compiled: CompiledOperation | None = None
    #: True for an operation-name problem (unknown or missing name): a malformed request (400).
    bad_operation_name: bool = False
    #: The operation's label in the metrics (server/metrics.py): a trusted document's name, else
    #: "other", so that the labels are the trusted documents' names, whatever clients send.
    label: str = "other"
    #: What keeping this verdict keeps alive (the parsed document its operation or errors point into).
    weight: int = 0

    @property
    def is_mutation(self) -> bool:
        return self.operation is not None and self.operation.operation is OperationType.MUTATION

    @property
    def is_subscription(self) -> bool:
        return self.operation is not None and self.operation.operation is OperationType.SUBSCRIPTION


class _StripTypename(Visitor):
    def enter_field(self, node: FieldNode, *_args: object) -> object:
        if node.name.value == "__typename" and node.alias is None:
            return REMOVE
        return None


def _with_code(errors: list[GraphQLError], code: str) -> list[GraphQLError]:
    """`code` on the errors that have none yet (the limits name their own)."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}
    return errors


def _operation_document(document: DocumentNode, operation: OperationDefinitionNode) -> DocumentNode:
    """The operation with the fragments it uses (transitively), in the document's order."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    used: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
            name = node.name.value
            if name not in used and name in fragments:
                used.add(name)
                visit(fragments[name], self)

    visit(operation, Spreads())
    kept = [operation, *(f for name, f in fragments.items() if name in used)]
    return DocumentNode(definitions=tuple(kept))


def fingerprint(document: DocumentNode, operation: OperationDefinitionNode) -> str:
    """SHA-256 (hex) of the operation's printed text without `__typename` selections."""
    stripped = visit(_operation_document(document, operation), _StripTypename())
    return hashlib.sha256(print_ast(stripped).encode("utf-8")).hexdigest()


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | str:
    """The operation a request names, or the reason there is none (as the GraphQL spec says)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            return "Must provide an operation."
        return "Must provide operation name if query contains multiple operations."
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return f'Unknown operation named "{operation_name}".'


@dataclass(frozen=True)
class TrustedOperation:
    name: str
    source: str
    text: str
    fingerprint: str


class Documents:
    """Prepares documents for requests; holds the trusted operations and the cache."""

    def __init__(
        self, schema: GraphQLSchema, trusted_dirs: list[Path] | None = None, *, trusted: bool = True
    ) -> None:
        """`trusted=False` leaves every operation to Strawberry (the tests compare both routes)."""
        self.schema = schema
        self.rules = tuple(specified_rules)  # and schema/limits.py's limits, as Strawberry's path
        self.trusted: dict[str, TrustedOperation] = {}
        if trusted:
            for directory in trusted_dirs or [package_trusted_dir()]:
                self._load(directory)
        # Document text -> operation name -> verdict. Documents longer than MAX_CACHED_DOCUMENT
        # are prepared for every request, never cached (the contract is 8 KB).
        self._cache: BoundedCache[dict[str | None, Prepared]] = BoundedCache()

    # ------------------------------------------------------------ start-up

    def _load(self, directory: Path) -> None:
        for path in sorted(directory.glob("*.graphql")):
            text = path.read_text(encoding="utf-8")
            prepared = self._parse_and_validate(text)
            if prepared.errors:
                raise TrustedDocumentError(f"{path.name}: {prepared.errors[0].message}")
            document = prepared.document
            assert document is not None
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                name = definition.name.value if definition.name else "(anonymous)"
                operation_text = print_ast(_operation_document(document, definition))
                key = fingerprint(document, definition)
                self.trusted[key] = TrustedOperation(name, path.name, operation_text, key)
                # Compiled now, so that a bad trusted document fails the start, not a request.
                compile_operation(self.schema, document, definition)

    def text_of(self, persisted_id: str) -> str | None:
        """The text of the trusted operation with this persisted-query id (its fingerprint)."""
        trusted = self.trusted.get(persisted_id)
        return trusted.text if trusted else None

    # ------------------------------------------------------------ requests

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        """The verdict on a request's document and operation name (cached)."""
        by_name = self._cache.get(query)
        prepared = by_name.get(operation_name) if by_name is not None else None
        if prepared is not None:
            return prepared
        prepared = self._prepare(query, operation_name)
        if prepared.bad_operation_name:
            return prepared  # names a client makes up are not kept: they would grow the entry
        if by_name is not None:
            by_name[operation_name] = prepared  # one more operation of a document kept already
        else:
            self._cache.put(query, {operation_name: prepared}, prepared.weight)
        return prepared

    def _parse_and_validate(self, query: str) -> Prepared:
        """Parsed and validated as Strawberry's path does it (schema/limits.py, cached there)."""
        try:
            document = cached_document(query)
        except GraphQLError as error:
            return Prepared(errors=_with_code([error], PARSE_FAILED), weight=len(query))
        weight = document_weight(query, document)
        errors = document_errors(self.schema, query, document, self.rules)
        if errors:
            return Prepared(errors=_with_code(list(errors), VALIDATION_FAILED), weight=weight)
        return Prepared(document=document, weight=weight)

    def _prepare(self, query: str, operation_name: str | None) -> Prepared:
        parsed = self._parse_and_validate(query)
        if parsed.errors:
            return parsed
        document = parsed.document
        assert document is not None
        prepared = Prepared(document=document, weight=parsed.weight)
        operation = select_operation(document, operation_name)
        if isinstance(operation, str):
            return Prepared(
                errors=_with_code([GraphQLError(operation)], OPERATION_RESOLUTION_FAILURE),
                bad_operation_name=True,
            )
        prepared.operation = operation
        if self.trusted:
            prepared.fingerprint = fingerprint(document, operation)
            trusted = self.trusted.get(prepared.fingerprint)
            if trusted is not None:
                prepared.label = trusted.name
                prepared.compiled = compile_operation(self.schema, document, operation)
        return prepared


def package_trusted_dir() -> Path:
    """`server/trusted_documents/` as installed (package data)."""
    return Path(str(resources.files("seatkeeper.server") / TRUSTED_DOCUMENTS))
