"""The exceptions of ideogram_nb.

The tree::

    IdeogramError
    ├── SpecError (also ValueError)      a spec breaks a rule; nothing was sent
    │   └── ComparisonError              cells of a comparison break rules; nothing ran
    ├── ImageInputError (also ValueError) an image or mask cannot be used; nothing was sent
    ├── BudgetError                      a comparison would cost more than its budget
    ├── MissingKeyError                  a real provider was chosen but no key is set (configuration)
    ├── MetadataError (also ValueError)  an image's embedded record cannot be read (not an image, none)
    ├── ReplayMiss                       the replay provider has no recording of this request
    │   └── ReplayImageMissing           recorded, but its image is gone (also MissingImageError)
    ├── HistoryError                     the history on disk cannot be used as it is (names the file)
    │   ├── HistoryCorruptError          the database file is damaged: `history repair` saves what it can
    │   ├── HistoryVersionError          written by a newer ideogram_nb (a higher schema version)
    │   ├── HistoryWriteError (also OSError)  a file cannot be written: disk full, no permission
    │   └── MissingImageError (also KeyError) a recorded image is not (or no longer) in the store
    └── APIError                         something went wrong talking to the service
        ├── APIStatusError               the service answered with an error status
        │   ├── BadRequestError          400
        │   ├── AuthenticationError      401, 403
        │   ├── PaymentRequiredError     402 (v2: insufficient funds, daily limit, …); final, not billed
        │   ├── UnprocessableError       422 (e.g. the safety check)
        │   ├── RateLimitError           429 (v2: `reject_reason`, the in-flight limit, Retry-After)
        │   └── ServerError              5xx
        ├── APIConnectionError           no answer (refused, dropped)
        │   └── APITimeoutError          no answer in time
        ├── APIResponseError             an answer we cannot read (malformed JSON, expired URL)
        ├── RedirectRefusedError         a redirect we would not follow; the key was not sent on
        ├── ProviderRefusedError         this provider does not offer the operation (v2 on AiHubMix); nothing sent
        ├── JobFailedError               a v2 job the service accepted reported `failed`
        └── OutcomeUnknownError          sent, then the answer was lost: maybe made and billed
            ├── OutcomeUnknownTimeoutError     (also APITimeoutError)   read timeout after sending
            ├── OutcomeUnknownConnectionError  (also APIConnectionError) connection lost mid-answer
            └── OutcomeUnknownServerError      (also ServerError)       500, 502, 504 (gateway)

Every `APIError` carries `status` (or None), the service's `message` and the `run_id` under
which the failed call is recorded, so a user can find it in the history. No error text ever
contains the API key: messages are built from the service's answer and our own words only.

Every `HistoryError` carries `path` (the file or folder at fault) and, when a call is
concerned, `run_id`; its message says what is wrong and what to do. Raw `sqlite3`, Pillow and
`OSError`s about the history's own files are translated into these at the history's edge
(`_history/_disk.py`), so a user never has to read a library's error to know their history
is damaged, full, or from a newer version.

Why the `OutcomeUnknown…` classes inherit twice: "the outcome is unknown" is what decides
whether sending again may pay twice, so it is one class to catch; but a read timeout is still
a timeout and a 502 still a server error, so code written against `APITimeoutError` or
`ServerError` keeps catching them. The rules are in docs/reliability.md.
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
        # One line per distinct problem, however many cells share it: a bad axis value is
        # named once (with where it applies), not once per cell of its row or column.
        where: dict[tuple[str, str, str], tuple[Problem, list[str]]] = {}
        for legend, p in cell_problems:  # keyed by text: a value may be unhashable (a list, a dict)
            where.setdefault((p.field, repr(p.value), p.rule), (p, []))[1].append(legend)
        n = len(where)
        lines = [f"comparison has {n} problem{'s' if n != 1 else ''} in {len(by_cell)} of {n_cells} cells; "
                 "nothing was run:"]  # fmt: skip
        for p, legends in where.values():
            lines.append(f"  - {p} ({_where_text(p, legends, n_cells)})")
        self.args = ("\n".join(lines),)


def _where_text(problem: Problem, legends: list[str], n_cells: int) -> str:
    """Which cells a problem is in: every cell, the axis value they share, or the cells by name."""
    if len(legends) == n_cells > 1:
        return "every cell"
    if len(legends) == 1:
        return f"cell [{legends[0]}]"
    field = f"{problem.field}: "
    shared = set.intersection(*({t for t in legend.split(", ") if t.startswith(field)} for legend in legends))
    if len(shared) == 1:
        return f"the {shared.pop()} cells, {len(legends)} of them"
    named = "; ".join(f"[{legend}]" for legend in legends[:3])
    return f"{len(legends)} cells: {named}{'; …' if len(legends) > 3 else ''}"


class ImageInputError(IdeogramError, ValueError):
    """An image input (image, mask, style reference) cannot be sent as it is."""


class BudgetError(IdeogramError):
    """Running would cost more than the budget allows; nothing was run."""


class MissingKeyError(IdeogramError):
    """A real provider was chosen (by argument, `IDEOGRAM_NB_PROVIDER` or a key's shape) but
    no key is set for it. A configuration problem, found before anything is sent; not an
    HTTP error, because no service ever answered."""

    def __init__(self, provider: str, env_var: str | None) -> None:
        self.provider = provider
        self.env_var = env_var
        where = f"set {env_var} or pass api_key=..." if env_var else "pass api_key=..."
        super().__init__(
            f"provider={provider!r} needs an API key: {where} (or choose provider='offline' "
            "for the simulator); nothing was sent"
        )


class MetadataError(IdeogramError, ValueError):
    """An image's embedded record cannot be read: the file is missing or unreadable, is not
    a PNG/JPEG/WebP image, or carries no `ideogram_nb` record. The message names the file.
    A `ValueError`, as "no record" always was."""


class ReplayMiss(IdeogramError):
    """The replay provider was asked for a request the history never recorded."""


class HistoryError(IdeogramError):
    """The history on disk cannot be used as it is. `path` is the file (or folder) at fault,
    `run_id` the call concerned, if any; the message says what is wrong and what to do."""

    def __init__(self, message: str, *, path: object = None, run_id: str | None = None) -> None:
        self.message = message
        self.path = path
        self.run_id = run_id
        super().__init__(message)

    def explain(self, sentence: str) -> HistoryError:
        """Add what this failure meant for the caller (e.g. "nothing was sent"); returns self."""
        self.message = f"{self.message.rstrip('.')}. {sentence}"
        self.args = (self.message,)
        return self

    def __str__(self) -> str:
        return self.message


class HistoryCorruptError(HistoryError):
    """The history database is damaged (SQLite: "database disk image is malformed", "file is
    not a database"). Nothing is deleted: `python -m ideogram_nb history repair` copies every
    readable run into a fresh database and keeps the damaged file beside it."""


class HistoryVersionError(HistoryError):
    """The database was written by a newer ideogram_nb (its schema version is higher than
    this one knows). Opening it with an older toolkit could lose data: upgrade instead."""

    def __init__(self, message: str, *, path: object = None, found: int = 0, known: int = 0) -> None:
        self.found = found
        self.known = known
        super().__init__(message, path=path)


class HistoryWriteError(HistoryError, OSError):
    """A history file (database, image, export) cannot be written: no space left, no
    permission, a read-only disk. Also an `OSError` (with `errno` and `filename`), so code
    that catches those keeps working."""

    def __init__(
        self, message: str, *, path: object = None, errno: int | None = None, run_id: str | None = None
    ) -> None:
        HistoryError.__init__(self, message, path=path, run_id=run_id)
        self.errno = errno
        self.strerror = message
        self.filename = None if path is None else str(path)


class MissingImageError(HistoryError, KeyError):
    """A recorded image is not in the image store (deleted by hand, a partial copy) or its
    file is damaged. `sha256` names it. Also a `KeyError`, as `ImageStore.get` always raised."""

    def __init__(
        self, message: str, *, sha256: str | None = None, path: object = None, run_id: str | None = None
    ) -> None:
        self.sha256 = sha256
        HistoryError.__init__(self, message, path=path, run_id=run_id)

    def __str__(self) -> str:  # KeyError would show the repr
        return self.message


class ReplayImageMissing(ReplayMiss, MissingImageError):
    """Replay found the request recorded (run `run_id`), but an image it returned is gone
    from the store, so it cannot answer. Not "never recorded": `history check` shows the
    damage, `history repair --search DIR` brings images back from a copy."""


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


def _reject_reason(body: object) -> str | None:
    reason = body.get("reject_reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else None


class PaymentRequiredError(APIStatusError):
    """402 (v2): the account cannot pay for this now. `reject_reason` says why
    (`insufficient_funds`, `subscription_required`, `daily_limit`, `priority_credit_required`,
    `feature_limit`). Final: nothing was made or billed, and sending again will not help until
    the account changes."""

    def __init__(self, message: str, *, status: int | None = 402, run_id: str | None = None, body: object = None):
        super().__init__(message, status=status, run_id=run_id, body=body)
        self.reject_reason = _reject_reason(body)


class UnprocessableError(APIStatusError):
    """422: typically a prompt or image that failed the safety check. Not billed."""


class RateLimitError(APIStatusError):
    """429: too many images in flight. Retried with backoff before it reaches you.

    v2 answers say why: `reject_reason` (`inflight_limit`), `max_inflight_requests` (how many
    generations may run at once on `task_completion_speed`'s queue) and, on polls,
    `retry_after` (seconds, from the `Retry-After` header). Never billed: safe to send again."""

    def __init__(
        self, message: str, *, status: int | None = 429, run_id: str | None = None, body: object = None,
        retry_after: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message, status=status, run_id=run_id, body=body)
        self.reject_reason = _reject_reason(body)
        limit = body.get("max_inflight_requests") if isinstance(body, dict) else None
        self.max_inflight_requests = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        speed = body.get("task_completion_speed") if isinstance(body, dict) else None
        self.task_completion_speed = speed if isinstance(speed, str) else None
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the service failed. Retried with backoff before it reaches you."""


class APIConnectionError(APIError):
    """No answer: the connection was refused or dropped."""


class APITimeoutError(APIConnectionError):
    """No answer in time."""


class APIResponseError(APIError):
    """An answer we cannot use: malformed JSON, or an image URL that expired."""


class RedirectRefusedError(APIError):
    """The service answered a call with a redirect we will not follow: to another origin
    (scheme, host or port), one that would turn the POST into a GET, or too many hops.
    Refused, not followed without the key: the request was not sent there at all, so the key
    never reached that host and nothing was billed. `target` is where it pointed."""

    def __init__(self, message: str, *, status: int | None = None, target: str | None = None) -> None:
        self.target = target
        super().__init__(message, status=status)


class ProviderRefusedError(APIError):
    """The chosen provider does not offer this operation (v2 specs with `aihubmix`, whose
    documentation lists no `/v2` route). Found before anything was sent: nothing was billed."""


class JobFailedError(APIError):
    """A v2 job was accepted (and may be billed) but its generation reported `failed`;
    `failure_reason` is the service's short reason (e.g. `content_policy_violation`) and
    `generation_id` the job. Not sent again: the job is final."""

    def __init__(
        self, message: str, *, failure_reason: str | None = None, generation_id: str | None = None,
        run_id: str | None = None,
    ) -> None:  # fmt: skip
        self.failure_reason = failure_reason
        self.generation_id = generation_id
        super().__init__(message, run_id=run_id)


class OutcomeUnknownError(APIError):
    """The request was sent, then the answer was lost (read timeout, connection dropped
    mid-answer, a gateway error): the service may have made, and billed, the images.

    Not sent again automatically (Ideogram has no idempotency keys, so a re-send may pay
    twice); recorded in the history with status ``"unknown"`` and its estimated cost counted
    as possibly spent. `cause` says what happened; `estimated_usd` is the most it may have
    cost. To send it again on purpose: run the spec again, or pass ``resend_unknown=True``.
    """

    def __init__(
        self,
        cause: str,
        *,
        status: int | None = None,
        run_id: str | None = None,
        body: object = None,
        estimated_usd: float | None = None,
    ) -> None:
        self.cause = cause
        self.estimated_usd = estimated_usd
        super().__init__(cause, status=status, run_id=run_id, body=body)
        self.settle(run_id, estimated_usd)

    @classmethod
    def recorded(
        cls, message: str, *, status: int | None, run_id: str | None, estimated_usd: float | None
    ) -> OutcomeUnknownError:
        """The error as a history row recorded it (its message already complete)."""
        error = cls(message, status=status, run_id=run_id, estimated_usd=estimated_usd)
        error.message = message
        error.args = (message,)
        return error

    def settle(self, run_id: str | None, estimated_usd: float | None) -> None:
        """Name the run and the money once they are known (the client records, then raises)."""
        self.run_id = run_id
        self.estimated_usd = estimated_usd
        cost = f"${estimated_usd:.3f} estimated, " if estimated_usd else ""
        where = f"Recorded as run {run_id} with status 'unknown'. " if run_id else ""
        self.message = (
            f"{self.cause}. Outcome unknown: the request was sent and the service may have made "
            f"and billed the images ({cost}counted as possibly spent). It was not sent again, "
            f"because a second send may be paid twice. {where}To send it again on purpose, run the "
            "spec once more, or pass resend_unknown=True (Client, run, run_many, retry_failed)."
        )
        self.args = (self.message,)

    def __str__(self) -> str:  # the message already names the run
        return f"HTTP {self.status}: {self.message}" if self.status is not None else self.message


class OutcomeUnknownTimeoutError(OutcomeUnknownError, APITimeoutError):
    """No answer in time after the request was sent: it may still have been made and billed."""


class OutcomeUnknownConnectionError(OutcomeUnknownError, APIConnectionError):
    """The connection was lost after the request was sent (mid-answer)."""


class OutcomeUnknownServerError(OutcomeUnknownError, ServerError):
    """500, 502, 504 and other 5xx that do not say "not done": behind a gateway (AiHubMix,
    load balancers) the upstream may have acted although the answer is an error."""


def outcome_unknown(error: APIError) -> OutcomeUnknownError:
    """The same failure, marked as possibly billed, keeping its timeout/connection/5xx kind."""
    if isinstance(error, OutcomeUnknownError):
        return error
    cls: type[OutcomeUnknownError] = OutcomeUnknownError
    if isinstance(error, APITimeoutError):
        cls = OutcomeUnknownTimeoutError
    elif isinstance(error, APIConnectionError):
        cls = OutcomeUnknownConnectionError
    elif isinstance(error, ServerError):
        cls = OutcomeUnknownServerError
    return cls(error.message, status=error.status, run_id=error.run_id, body=error.body)


_UNKNOWN_CLASSES: dict[str, type[OutcomeUnknownError]] = {
    cls.__name__: cls
    for cls in (
        OutcomeUnknownError,
        OutcomeUnknownTimeoutError,
        OutcomeUnknownConnectionError,
        OutcomeUnknownServerError,
    )
}


def unknown_error_class(name: str | None) -> type[OutcomeUnknownError]:
    """The class a history row's `error_type` names, to raise it again as it was recorded."""
    return _UNKNOWN_CLASSES.get(name or "", OutcomeUnknownError)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
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
