"""The exceptions of ideogram_nb.

The tree::

    IdeogramError
    ├── SpecError (also ValueError)      a spec breaks a rule; nothing was sent
    │   └── ComparisonError              cells of a comparison break rules; nothing ran
    ├── ImageInputError (also ValueError) an image or mask cannot be used; nothing was sent
    ├── BudgetError                      a comparison would cost more than its budget
    ├── ReplayMiss                       the replay provider has no recording of this request
    └── APIError                         something went wrong talking to the service
        ├── APIStatusError               the service answered with an error status
        │   ├── BadRequestError          400
        │   ├── AuthenticationError      401, 403
        │   ├── UnprocessableError       422 (e.g. the safety check)
        │   ├── RateLimitError           429
        │   └── ServerError              5xx
        ├── APIConnectionError           no answer (refused, dropped)
        │   └── APITimeoutError          no answer in time
        └── APIResponseError             an answer we cannot read (malformed JSON, expired URL)

Every `APIError` carries `status` (or None), the service's `message` and the `run_id` under
which the failed call is recorded, so a user can find it in the history. No error text ever
contains the API key: messages are built from the service's answer and our own words only.
"""

from __future__ import annotations

from dataclasses import dataclass


class IdeogramError(Exception):
    """Base of every error ideogram_nb raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: which field, what value, and the rule in words."""

    field: str
    value: object
    rule: str

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.field}={shown}: {self.rule}"


class SpecError(IdeogramError, ValueError):
    """A spec breaks one or more rules. `problems` lists them all, not just the first."""

    def __init__(self, problems: list[Problem], spec_name: str = "spec") -> None:
        self.problems = list(problems)
        self.spec_name = spec_name
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{spec_name} has {count} {noun}; nothing was sent:\n{lines}")

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class ComparisonError(SpecError):
    """Some cells of a comparison break rules. Lists every problem of every cell; nothing ran.

    `cell_problems` pairs each `Problem` with the legend of its cell (`"prompt: a dog, seed: 3"`).
    """

    def __init__(self, cell_problems: list[tuple[str, Problem]], n_cells: int) -> None:
        self.cell_problems = list(cell_problems)
        super().__init__([p for _, p in cell_problems], spec_name="comparison")
        by_cell: dict[str, list[Problem]] = {}
        for legend, p in cell_problems:
            by_cell.setdefault(legend, []).append(p)
        self.cells = by_cell
        lines = [
            f"comparison has {len(self.problems)} problems in {len(by_cell)} of {n_cells} cells; nothing was run:"
        ]
        everywhere = [p for p in next(iter(by_cell.values()), []) if all(p in ps for ps in by_cell.values())]
        if everywhere and len(by_cell) == n_cells > 1:
            lines.append("  every cell:")
            lines += [f"    - {p}" for p in everywhere]
        for legend, ps in by_cell.items():
            rest = [p for p in ps if p not in everywhere] if len(by_cell) == n_cells > 1 else ps
            if rest:
                lines.append(f"  cell [{legend}]:")
                lines += [f"    - {p}" for p in rest]
        self.args = ("\n".join(lines),)


class ImageInputError(IdeogramError, ValueError):
    """An image input (image, mask, style reference) cannot be sent as it is."""


class BudgetError(IdeogramError):
    """Running would cost more than the budget allows; nothing was run."""


class ReplayMiss(IdeogramError):
    """The replay provider was asked for a request the history never recorded."""


class APIError(IdeogramError):
    """Talking to the service failed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        run_id: str | None = None,
        body: object = None,
    ) -> None:
        self.message = message
        self.status = status
        self.run_id = run_id
        self.body = body
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.insert(0, f"HTTP {self.status}:")
        if self.run_id:
            parts.append(f"(run {self.run_id})")
        return " ".join(parts)


class APIStatusError(APIError):
    """The service answered with an error status."""


class BadRequestError(APIStatusError):
    """400: the service rejected the request's content."""


class AuthenticationError(APIStatusError):
    """401/403: the key is missing, wrong, or not allowed here (remix/upscale answer 403)."""


class UnprocessableError(APIStatusError):
    """422: typically a prompt or image that failed the safety check. Not billed."""


class RateLimitError(APIStatusError):
    """429: too many images in flight. Retried with backoff before it reaches you."""


class ServerError(APIStatusError):
    """5xx: the service failed. Retried with backoff before it reaches you."""


class APIConnectionError(APIError):
    """No answer: the connection was refused or dropped."""


class APITimeoutError(APIConnectionError):
    """No answer in time."""


class APIResponseError(APIError):
    """An answer we cannot use: malformed JSON, or an image URL that expired."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    422: UnprocessableError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The one place that maps an HTTP status to an error class."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    return APIStatusError


def error_message_from_body(body: object, default: str) -> str:
    """Read the message from any of the service's three error shapes.

    `{"error": "..."}` (Ideogram), `{"error": {"message": ...}}` (AiHubMix) or a problem
    document `{"detail", "title", "status"}` (connexion validation).
    """
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, str) and err:
            return err
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail")
            if isinstance(msg, str) and msg:
                return msg
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            title = body.get("title")
            return f"{title}: {detail}" if isinstance(title, str) and title else detail
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return default
