"""The orchestration core, driven by the SDK's own orchestrator code (no I/O, no clock).

``Simulation`` plays the part of the host: it hands the SDK the context JSON, feeds the answer
to ``decide`` and delivers the outgoing work back as history, at a clock it controls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import azure.durable_functions as df
import pytest

from emulator.errors import DurableError
from emulator.functions.orchestrations import (
    ActionType,
    ActivityWork,
    Decision,
    EntityRequest,
    Episode,
    EventType,
    HistoryEvent,
    Known,
    Notify,
    OrchestrationStatus,
    StartInstance,
    context_json,
    decide,
    decide_terminated,
    parse_orchestrator_result,
    unknown_function_message,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OUT_OF_PROC = "\n\n$OutOfProcData$:"
KNOWN = Known(activities=("hello", "fail", "flaky"), orchestrators=("child", "orch"),
              entities=("counter",))


class Simulation:
    """One instance of ``fn`` with activities from ``activities`` (name -> callable)."""

    def __init__(self, fn: Any, activities: dict[str, Any] | None = None,
                 input_: Any = None) -> None:
        self.fn = fn
        self.activities = activities or {}
        self.now = T0
        self.history: list[HistoryEvent] = []
        self.input = None if input_ is None else json.dumps(json.dumps(input_))
        self.inbox: list[HistoryEvent] = [HistoryEvent(
            kind=EventType.EXECUTION_STARTED, timestamp=T0, name="orch", input=self.input,
            instance_id="i1", execution_id="e1")]
        self.outgoing: list[Any] = []
        self.ids = (f"id-{n}" for n in count())

    def episode(self) -> Episode:
        self.now += timedelta(seconds=1)
        new = (HistoryEvent(kind=EventType.ORCHESTRATOR_STARTED, timestamp=self.now),
               *self.inbox)
        self.inbox = []
        return Episode(instance_id="i1", execution_id="e1", name="orch", input=self.input,
                       past=tuple(self.history), new=new, now=self.now)

    def step(self) -> Decision:
        episode = self.episode()
        handle = df.Orchestrator.create(self.fn)
        try:
            text = handle(context_json(episode))
        except Exception as exc:  # the SDK's failure carries its state
            text = str(exc).split(OUT_OF_PROC, 1)[1]
        decision = decide(episode, parse_orchestrator_result(text), KNOWN,
                          lambda: next(self.ids))
        self.history += decision.events
        self.outgoing += decision.outgoing
        return decision

    def deliver(self) -> None:
        """Run every outgoing activity and fire every timer (the clock jumps to it)."""
        work, self.outgoing = self.outgoing, []
        for item in work:
            if isinstance(item, ActivityWork):
                self.inbox.append(self._run(item))
            elif isinstance(item, Notify) and item.visible_at is not None:
                self.now = max(self.now, item.visible_at)
                self.inbox.append(item.event)

    def _run(self, item: ActivityWork) -> HistoryEvent:
        try:
            value = self.activities[item.name](json.loads(item.input or "null"))
        except Exception as exc:
            return HistoryEvent(kind=EventType.TASK_FAILED, timestamp=self.now,
                                task_id=item.task_id, reason=f"Activity function "
                                f"'{item.name}' failed: {exc}", details="{}")
        return HistoryEvent(kind=EventType.TASK_COMPLETED, timestamp=self.now,
                            task_id=item.task_id, result=json.dumps(value))

    def run(self, limit: int = 20) -> Decision:
        for _ in range(limit):
            decision = self.step()
            if decision.status != OrchestrationStatus.RUNNING or not self.outgoing:
                return decision
            self.deliver()
        raise AssertionError("the orchestration did not settle")


def chain(context):
    first = yield context.call_activity("hello", "a")
    second = yield context.call_activity("hello", "b")
    return [first, second]


def test_replay_chains_activities_with_sequence_numbers() -> None:
    sim = Simulation(chain, {"hello": lambda x: f"hi {x}"})
    first = sim.step()
    assert first.status == OrchestrationStatus.RUNNING
    assert first.outgoing == (ActivityWork(0, "hello", '"a"'),)
    assert [e.kind for e in first.events] == [EventType.ORCHESTRATOR_STARTED,
                                              EventType.EXECUTION_STARTED,
                                              EventType.TASK_SCHEDULED,
                                              EventType.ORCHESTRATOR_COMPLETED]
    sim.deliver()
    second = sim.step()
    assert second.outgoing == (ActivityWork(1, "hello", '"b"'),)
    sim.deliver()
    done = sim.step()
    assert (done.status, json.loads(done.output or "")) == (OrchestrationStatus.COMPLETED,
                                                           ["hi a", "hi b"])
    assert done.events[-1].kind == EventType.EXECUTION_COMPLETED


def test_replay_context_marks_past_events_played() -> None:
    sim = Simulation(chain, {"hello": str})
    sim.step()
    sim.deliver()
    context = json.loads(context_json(sim.episode()))
    played = [e["IsPlayed"] for e in context["history"]]
    assert played == [True] * 4 + [False, False]
    assert context["isReplaying"] is True and context["upperSchemaVersionNew"] == 2
    assert context["history"][1]["Version"] == ""


def fan_out(context):
    results = yield context.task_all([context.call_activity("hello", n) for n in range(3)])
    return sum(results)


def test_replay_fan_out_schedules_all_then_completes_once_all_answer() -> None:
    sim = Simulation(fan_out, {"hello": lambda n: n * 10})
    first = sim.step()
    assert [w.task_id for w in first.outgoing] == [0, 1, 2]
    assert sim.run().output == "30"


def retried(context):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000,
                              max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("flaky", options, 1))


def test_replay_retry_waits_then_tries_again() -> None:
    calls: list[int] = []

    def flaky(value: int) -> int:
        calls.append(value)
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return len(calls)

    sim = Simulation(retried, {"flaky": flaky})
    done = sim.run()
    assert (done.status, done.output) == (OrchestrationStatus.COMPLETED, "3")
    scheduled = [(e.kind, e.event_id) for e in sim.history
                 if e.kind in (EventType.TASK_SCHEDULED, EventType.TIMER_CREATED)]
    assert scheduled == [(EventType.TASK_SCHEDULED, 0), (EventType.TIMER_CREATED, 1),
                         (EventType.TASK_SCHEDULED, 2), (EventType.TIMER_CREATED, 3),
                         (EventType.TASK_SCHEDULED, 4)]
    timers = [e for e in sim.history if e.kind == EventType.TIMER_CREATED]
    assert timers[0].fire_at == timers[0].timestamp + timedelta(seconds=1)


def test_replay_retry_exhausted_fails_after_a_last_timer() -> None:
    sim = Simulation(retried, {"flaky": lambda _: 1 / 0})
    done = sim.run()
    assert done.status == OrchestrationStatus.FAILED
    assert done.output is not None and "division by zero" in done.output
    kinds = [e.kind for e in sim.history]
    assert kinds.count(EventType.TASK_FAILED) == 3 and kinds.count(EventType.TIMER_FIRED) == 3


def timeout_or_event(context):
    timer = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    event = context.wait_for_external_event("Approve")
    winner = yield context.task_any([timer, event])
    if winner == event:
        timer.cancel()
        return event.result
    return "late"


@pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")
def test_replay_task_any_event_cancels_timer_and_completes() -> None:
    sim = Simulation(timeout_or_event)
    first = sim.step()
    (timer,) = first.outgoing
    assert isinstance(timer, Notify) and timer.visible_at == sim.now + timedelta(hours=1)
    sim.inbox.append(HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=sim.now,
                                  name="approve", input='"yes"'))  # names: case-insensitive
    assert sim.step().status == OrchestrationStatus.RUNNING  # the SDK matches names exactly
    sim.inbox.append(HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=sim.now,
                                  name="Approve", input='"yes"'))
    done = sim.step()
    assert (done.status, done.output) == (OrchestrationStatus.COMPLETED, '"yes"')


def test_replay_timer_wins_when_it_fires() -> None:
    sim = Simulation(timeout_or_event)
    sim.step()
    sim.deliver()
    assert sim.step().output == '"late"'


def return_while_timer_open(context):
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    event = context.wait_for_external_event("go")
    yield context.task_any([timer, event])
    return "done"


def test_replay_completion_waits_for_open_timers() -> None:
    """DTFx completes an instance only when no timer or task is open (cancel your timers)."""
    sim = Simulation(return_while_timer_open)
    sim.step()
    sim.inbox.append(HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=sim.now, name="go",
                                  input="1"))
    assert sim.step().status == OrchestrationStatus.RUNNING
    sim.deliver()
    assert sim.step().status == OrchestrationStatus.COMPLETED


def entity_user(context):
    counter = df.EntityId("Counter", "k")
    context.signal_entity(counter, "add", 1)
    return (yield context.call_entity(counter, "get"))


def test_replay_entity_signal_and_call() -> None:
    sim = Simulation(entity_user)
    first = sim.step()
    signal, call = first.outgoing
    assert isinstance(signal, EntityRequest) and signal.scheduler_id == "@counter@k"
    request = json.loads(call.request)
    assert request["op"] == "get" and "signal" not in request
    assert json.loads(signal.request)["input"] == '"1"'  # as RequestMessage.SetInput does
    sim.inbox.append(HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=sim.now,
                                  name=request["id"], input=json.dumps({"result": "7"})))
    done = sim.step()
    assert (done.status, done.output) == (OrchestrationStatus.COMPLETED, "7")


def parent(context):
    return (yield context.call_sub_orchestrator("child", {"x": 1}))


def test_replay_sub_orchestration_gets_an_instance_and_a_parent() -> None:
    sim = Simulation(parent)
    (start,) = sim.step().outgoing
    assert isinstance(start, StartInstance)
    assert (start.instance_id, start.name) == ("e1:0", "child")
    assert start.parent == {"instance_id": "i1", "execution_id": "e1", "task_id": 0,
                            "name": "orch"}
    assert json.loads(json.loads(start.input or "")) == {"x": 1}


def countdown(context):
    left = context.get_input()
    if left:
        context.continue_as_new(left - 1)
        return None
    return "zero"


def test_replay_continue_as_new_passes_the_new_input() -> None:
    decision = Simulation(countdown, input_=2).step()
    assert decision.status == OrchestrationStatus.CONTINUED_AS_NEW
    assert json.loads(json.loads(decision.continue_as_new or "")) == 1


def raising(context):
    yield context.call_activity("hello", 1)
    raise ValueError("bad input")


def test_replay_sdk_error_fails_with_the_extensions_words() -> None:
    done = Simulation(raising, {"hello": str}).run()
    assert (done.status, done.output) == (OrchestrationStatus.FAILED,
                                          "Orchestrator function 'orch' failed: bad input")


def calls_unknown(context):
    return (yield context.call_activity("nope", 1))


def test_replay_unknown_activity_fails_like_the_extension() -> None:
    done = Simulation(calls_unknown).run()
    assert done.status == OrchestrationStatus.FAILED
    assert done.output == "Orchestrator function 'orch' failed: " + unknown_function_message(
        "activity", "nope", KNOWN)
    assert "known activity functions: 'hello', 'fail', 'flaky'" in done.output


@pytest.mark.parametrize(("changed", "message"), [
    (lambda c: c.call_activity("fail", 1),
     "instead scheduled an activity task named 'fail' with this sequence number"),
    (lambda c: c.create_timer(c.current_utc_datetime),
     "instead produced a CreateTimerOrchestratorAction action"),
    (None, "the current replay execution hasn't (yet?) scheduled this task"),
])
def test_replay_nondeterminism_is_reported_like_dtfx(changed, message) -> None:
    sim = Simulation(chain, {"hello": str})
    sim.step()
    sim.deliver()

    def other(context):
        if changed is None:
            return "nothing"
        yield changed(context)
        return "x"

    sim.fn = other
    done = sim.step()
    assert done.status == OrchestrationStatus.FAILED
    assert done.output is not None
    assert done.output.startswith("Non-Deterministic workflow detected: A previous execution "
                                  "of this orchestration scheduled an activity task named "
                                  "'hello' with sequence number 0")
    assert message in done.output


def test_replay_terminated_tells_the_parent() -> None:
    episode = Episode(instance_id="c", execution_id="e", name="child", input=None, past=(),
                      new=(HistoryEvent(kind=EventType.EXECUTION_TERMINATED, timestamp=T0,
                                        input="stop"),), now=T0,
                      parent={"instance_id": "p", "execution_id": "pe", "task_id": 4})
    decision = decide_terminated(episode, "stop")
    assert (decision.status, decision.output) == (OrchestrationStatus.TERMINATED, "stop")
    (notify,) = decision.outgoing
    assert isinstance(notify, Notify) and notify.instance_id == "p"
    assert (notify.event.kind, notify.event.task_id, notify.event.reason) == (
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED, 4, "stop")


@pytest.mark.parametrize("kind", list(EventType))
def test_history_event_round_trips(kind) -> None:
    event = HistoryEvent(kind=kind, timestamp=T0, event_id=3, name="n", input='"i"',
                         result='"r"', task_id=2, instance_id="x", execution_id="y",
                         reason="why", details="{}", fire_at=T0 + timedelta(seconds=1),
                         status=OrchestrationStatus.FAILED)
    again = HistoryEvent.decode(event.encode())
    assert again.encode() == event.encode()
    assert again.kind == kind and again.timestamp == T0


def test_actions_parse_every_schema() -> None:
    v2 = parse_orchestrator_result(json.dumps({
        "isDone": False, "schemaVersion": 2, "customStatus": {"a": 1}, "actions": [[
            {"actionType": 12, "compoundActions": [
                {"actionType": 0, "functionName": "hello", "input": "1"},
                {"actionType": 5, "fireAt": "2026-01-01T00:00:00.000000Z", "isCanceled": True}]},
            {"actionType": 3, "functionName": "child", "input": "null", "retryOptions": {
                "firstRetryIntervalInMilliseconds": 5, "maxNumberOfAttempts": 2}}]]}))
    assert [a.type for a in v2.actions] == [ActionType.WHEN_ALL,
                                            ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY]
    assert v2.actions[0].children[1].canceled and v2.actions[1].retry is not None
    assert v2.custom_status == {"a": 1}
    v1 = parse_orchestrator_result({"isDone": True, "actions": [[{"actionType": 6,
                                                                   "externalEventName": "e"}]],
                                    "output": 5})
    assert v1.schema == 0 and v1.episodes[0][0].name == "e" and v1.output == 5


@pytest.mark.parametrize("value", [
    "not json", "{}", {"isDone": True, "actions": {}},
    {"isDone": True, "schemaVersion": 7, "actions": []},
    {"isDone": True, "schemaVersion": 2, "actions": [[], []]},
    {"isDone": True, "schemaVersion": 2, "actions": [[{"actionType": 99}]]},
    {"isDone": True, "schemaVersion": 2, "actions": [[{"actionType": 5}]]},
    {"isDone": True, "schemaVersion": 2, "actions": [[{"actionType": 1, "functionName": "a"}]]},
])
def test_actions_refuse_what_is_not_an_orchestrator_state(value) -> None:
    with pytest.raises(DurableError):
        parse_orchestrator_result(value if isinstance(value, str) else json.dumps(value))
