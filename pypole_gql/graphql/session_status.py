"""GraphQL for where a session's load stands: ``RaceSession.status`` and ``loadSession``.

``status`` answers at once and never starts a load; a query whose ``session`` selection asks
only for ``status`` (and ``year``, ``type``, ``__typename``) does not load the session at all
(:func:`needs_data`). ``Mutation.loadSession`` starts a load in the background and returns
the status; concurrent clients polling it, or starting it again, share one load
(:class:`~pypole_gql.services.session_loads.SessionLoads`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from pypole_gql.domain.params import SessionRequest
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.session_type import DEFAULT_TYPE, SessionType
from pypole_gql.services import session_loads

#: Fields of ``RaceSession`` answered without the session's data.
WITHOUT_DATA = frozenset({"status", "year", "type", "__typename"})

_STATES = {
    session_loads.SessionState.NOT_LOADED: "Neither loaded, nor archived, nor loading.",
    session_loads.SessionState.LOADING: "A load runs (startedAt, waiting); poll again after "
    "retryAfter seconds.",
    session_loads.SessionState.READY: "Loaded (this server, Redis) or in the session archive: "
    "asking for its data costs no FastF1 load.",
    session_loads.SessionState.NOT_AVAILABLE: "Loaded without timing data: the live-timing "
    "archive has not published it (yet); reason says why. Tried again after "
    "PYPOLE_FASTF1_UNAVAILABLE_TTL seconds.",
    session_loads.SessionState.FAILED: "The last load failed (reason); loadSession tries again.",
}

if TYPE_CHECKING:
    SessionState = session_loads.SessionState
else:
    SessionState = strawberry.enum(
        enum.Enum(
            "SessionState",
            {
                state.name: strawberry.enum_value(state.value, description=_STATES[state])
                for state in session_loads.SessionState
            },
        ),
        description="Where a session stands in this server.",
    )


@strawberry.type(
    description="Where a session's load stands. Answered at once: asking never starts a load "
    "(`loadSession` does)."
)
class SessionStatus:
    state: SessionState = strawberry.field(
        description="NOT_LOADED: not loaded, not archived and not loading; LOADING: a load "
        "runs (see startedAt, waiting); READY: the data is here (or in the archive); "
        "NOT_AVAILABLE: loaded, but the live-timing archive has no timing data for it (yet), "
        "see reason; FAILED: the last load failed, see reason (loadSession tries again)."
    )
    started_at: dt.datetime | None = strawberry.field(
        description="When the running load started (UTC); null unless LOADING."
    )
    waiting: int = strawberry.field(
        description="Requests in this server waiting for the running load; 0 unless LOADING."
    )
    reason: str | None = strawberry.field(
        description="Why the session is NOT_AVAILABLE or FAILED; null otherwise."
    )
    retry_after: int | None = strawberry.field(
        description="Seconds to wait before polling again while LOADING; null otherwise."
    )

    @classmethod
    def of(cls, status: session_loads.SessionStatus) -> SessionStatus:
        return cls(
            state=SessionState.__members__[status.state.name],
            started_at=status.started_at,
            waiting=status.waiting,
            reason=status.reason,
            retry_after=status.retry_after,
        )


READY = SessionStatus.of(session_loads.SessionStatus(session_loads.SessionState.READY))


async def status_of(info: Info, asked: SessionRequest) -> SessionStatus:
    return SessionStatus.of(await info.context.resources.sessions.status(asked))


def needs_data(info: Info) -> bool:
    """Whether the field being resolved (a ``RaceSession``) selects more than
    :data:`WITHOUT_DATA`, in any of its fragments."""
    return any(_needs(field.selections) for field in info.selected_fields)


def _needs(selections: Iterable[Selection]) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name not in WITHOUT_DATA:
                return True
        elif isinstance(selection, FragmentSpread | InlineFragment) and _needs(
            selection.selections
        ):
            return True
    return False


@strawberry.type
class SessionStatusMutation:
    @strawberry.mutation(
        description="Start loading a session in the background (unless it is ready or "
        "loading) and return its status at once; poll `session { status }` until READY. "
        "Concurrent calls share one load. NOT_FOUND when there is no such event or session."
    )
    async def load_session(
        self,
        info: Info,
        year: Annotated[int, strawberry.argument(description="The season, from 2018.")],
        race: Annotated[
            str,
            strawberry.argument(description='Round number ("4") or event name ("Baku").'),
        ],
        type: Annotated[
            SessionType, strawberry.argument(description="Which session of the weekend.")
        ] = DEFAULT_TYPE,
    ) -> SessionStatus:
        service = info.context.resources.sessions
        asked = service.request(year, race, type.name)
        return SessionStatus.of(await service.start_load(asked))
