"""Timer functions the way apps write them: a cron schedule from a setting, a nightly job that
must not miss a run, and a warm-up that runs when the app starts. ``seen`` shows what each
timer function was given."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

seen: list[dict] = []


def record(name: str, timer: func.TimerRequest) -> None:
    seen.append({"function": name, "past_due": timer.past_due,
                 "schedule_status": timer.schedule_status, "schedule": timer.schedule})


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="tick")
def tick(tick: func.TimerRequest) -> None:
    record("tick", tick)


@app.timer_trigger(schedule="0 30 2 * * *", arg_name="timer", use_monitor=True)
def nightly(timer: func.TimerRequest) -> None:
    record("nightly", timer)


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True,
                   use_monitor=False)
async def warmup(timer: func.TimerRequest) -> None:
    record("warmup", timer)


@app.route(route="seen", methods=["GET"])
def list_seen(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(seen), mimetype="application/json")
