"""One reconcile pass: presence converges on the connections the SignalR Service has.

A lost ``disconnected`` event (a crash, a restart, a host outage, an upstream timeout) leaves a
connection recorded that no longer exists: a ghost that accepts private messages and makes a
returning user's ``connected`` look like a second tab. The pass walks the roster (the directory
of shards with open connections), reads each shard, asks the service about each of its
connections (``HEAD .../connections/{id}``), and decides here what to change:

- ``prune`` the connections the service no longer has, and send ``userLeft`` (the last one went)
  or ``userUpdated`` (fewer connections) for each change;
- bring the roster in line with each shard (an update the roster missed, or an entry left over
  from a shard that is empty now);
- repeat to everyone, as one ``usersChanged``, the changes the roster applied since the last
  pass (:mod:`chat.roster`: a list read just before a change reached the roster misses it), and
  tell the roster they went out.

Connections the service has but presence does not know are registered when they next invoke a
hub method (:mod:`chat.connections`); the service offers no list of connections to find them
sooner. Pure: the shell gathers the states and the answers, then carries the decision out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from .decisions import Decision
from .entities import PRESENCE, ROSTER, ROSTER_KEY, Signal
from .news import News, batch_news, entry_of, presence_change
from .outputs import Item, to_all
from .presence import Presence
from .roster import Roster

__all__ = ["ReconcilePlan", "connections_to_check", "plan_reconcile"]


def connections_to_check(shards: Mapping[str, Presence]) -> list[str]:
    """Every connection the shards record: what the shell asks the service about."""
    return [cid for shard in shards.values() for cid in shard.connections]


@dataclass(frozen=True)
class ReconcilePlan:
    """The prunes to signal, and the presence news they make (published like any other, so
    the instance's own view of the roster has them at once)."""

    prunes: tuple[Signal, ...] = ()
    news: tuple[News, ...] = ()
    repeats: tuple[Item, ...] = ()
    """The roster's fresh changes, for everyone."""
    repeated: tuple[Signal, ...] = ()
    """Tells the roster which fresh changes went out."""

    @cached_property
    def announced(self) -> Decision:
        """The news as one flush: the events and the roster update."""
        return batch_news(self.news)

    @property
    def signals(self) -> tuple[Signal, ...]:
        return (*self.prunes, *self.announced.signals)

    @property
    def items(self) -> tuple[Item, ...]:
        return self.announced.items


def plan_reconcile(roster: Roster, shards: Mapping[str, Presence],
                   alive: Mapping[str, bool]) -> ReconcilePlan:
    """The signals and events that make presence agree with ``alive`` (the service's answers).

    ``shards`` are the states of the roster's online keys (a key missing was not read and is left
    alone); a connection missing from ``alive`` (the service could not be asked) is kept.
    """
    signals: list[Signal] = []
    news: list[News] = []
    for key, listed in roster.online.items():
        shard = shards.get(key)
        if shard is None:
            continue  # not read this time
        dead = tuple(cid for cid in shard.connections if not alive.get(cid, True))
        after = shard.remove(dead)
        if dead:
            signals.append(Signal(entity=PRESENCE, key=key, operation="prune",
                                  data={"connectionIds": list(dead)}))
        change = presence_change(shard.user, shard.online, after, ended_by_us=True)
        if dead or entry_of(after) != listed:
            news.append(News.of(key, after, change if dead else None))
    changes = [entry.to_json() for entry in roster.fresh.values() if entry.user is not None]
    versions = {key: entry.version for key, entry in roster.fresh.items()}
    return ReconcilePlan(
        prunes=tuple(signals), news=tuple(news),
        repeats=(to_all("usersChanged", changes),) if changes else (),
        repeated=(Signal(entity=ROSTER, key=ROSTER_KEY, operation="repeated",
                         data={"versions": versions}),) if versions else ())
