"""Probe: what openai-python does with an endpoint, one call of each kind an app makes.

Each call checks the result the way an application reads it and reports `works`, `raises`
(the exception class and message) or `wrong` (what was lost or changed). Run by
`llm-parity clients` and by llm-parity's CI (see docs/clients.md); the job comes from the
environment (common.job).
"""

import sys

from common import (
    BAD_KEY, BAD_MODEL, BATCH_STATUSES, CANCELLABLE, CHAT_PROMPT, WEATHER_PROMPT, WEATHER_RESULT, WEATHER_TOOL,
    NotApplicable, Wrong,
    batch_jsonl, check_text, check_weather_args, context_words, error_problems, expect, filler, job, run,
    short, tone_wav, vector_problems,
)

try:
    import openai
    import pydantic
except ImportError as e:  # reported, not raised: the user may not have it installed
    print('{"type": "missing", "client": "openai-python", "error": %r}' % str(e).replace('"', "'"))
    sys.exit(3)



class Context:
    def __init__(self, target, key, models):
        self.models = models
        self.client = openai.OpenAI(base_url=target["base_url"], api_key=key or "none", max_retries=0, timeout=30)
        self.bad_key_client = openai.OpenAI(base_url=target["base_url"], api_key=BAD_KEY, max_retries=0, timeout=30)

    @property
    def chat_model(self):
        return self.models["chat"]

    def model(self, role):
        if role not in self.models:
            raise NotApplicable(f"no {role} model configured")
        return self.models[role]


def messages(text):
    return [{"role": "user", "content": text}]


def usage_problem(usage, what="usage"):
    if usage is None:
        return f"{what} is None"
    if usage.total_tokens != usage.prompt_tokens + usage.completion_tokens:
        return f"{what}: total {usage.total_tokens} != prompt {usage.prompt_tokens} + completion {usage.completion_tokens}"
    return None


def chat(ctx):
    r = ctx.client.chat.completions.create(model=ctx.chat_model, messages=messages(CHAT_PROMPT))
    choice = r.choices[0]
    expect([
        check_text(choice.message.content),
        None if choice.finish_reason == "stop" else f"finish_reason is {choice.finish_reason!r}, not 'stop'",
        None if isinstance(r.id, str) and r.id else f"id is {r.id!r}",
        usage_problem(r.usage),
    ])


def stream(ctx):
    text, ids, usage, finishes, roles = "", [], None, [], []
    for chunk in ctx.client.chat.completions.create(
        model=ctx.chat_model, messages=messages(CHAT_PROMPT), stream=True,
        stream_options={"include_usage": True},
    ):
        ids.append(chunk.id)
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            if c.delta.role is not None:
                roles.append(c.delta.role)
            if c.finish_reason is not None:
                finishes.append(c.finish_reason)
    expect([
        check_text(text, "streamed content"),
        None if ids and all(isinstance(i, str) and i and i == ids[0] for i in ids) else f"chunk ids are {sorted(set(map(repr, ids)))}",
        None if usage is not None else "no usage in the stream although include_usage was asked",
        None if finishes == ["stop"] else f"finish reasons {finishes}",
    ])


def stream_helper(ctx):
    with ctx.client.chat.completions.stream(
        model=ctx.chat_model, messages=messages(CHAT_PROMPT), stream_options={"include_usage": True},
    ) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    choice = final.choices[0]
    expect([
        check_text(choice.message.content, "final content"),
        None if choice.message.role == "assistant" else f"final message role is {short(choice.message.role)}",
        None if choice.finish_reason == "stop" else f"final finish_reason is {choice.finish_reason!r}",
        usage_problem(final.usage, "final usage"),
    ])


def tool_call_problems(calls, finish=None):
    if not calls:
        return [f"{len(calls or [])} tool calls, expected 1"]
    call = calls[0]
    return [
        None if len(calls) == 1 else f"{len(calls)} tool calls, expected 1",
        None if isinstance(call.id, str) and call.id else f"tool call id is {call.id!r}",
        None if call.function.name == "get_weather" else f"tool name is {call.function.name!r}",
        check_weather_args(call.function.arguments),
        None if finish in (None, "tool_calls") else f"finish_reason is {finish!r}, not 'tool_calls'",
    ]


def tools(ctx):
    r = ctx.client.chat.completions.create(
        model=ctx.chat_model, messages=messages(WEATHER_PROMPT), tools=[WEATHER_TOOL], tool_choice="required",
    )
    choice = r.choices[0]
    expect(tool_call_problems(choice.message.tool_calls, choice.finish_reason))


def tools_stream(ctx):
    with ctx.client.chat.completions.stream(
        model=ctx.chat_model, messages=messages(WEATHER_PROMPT), tools=[WEATHER_TOOL], tool_choice="required",
    ) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    expect(tool_call_problems(final.choices[0].message.tool_calls))


def tools_round_trip(ctx):
    # The tool loop as the SDK's documentation writes it: the answer's message object goes back
    # into the history as it came, then the tool's result.
    history = messages(WEATHER_PROMPT)
    r = ctx.client.chat.completions.create(
        model=ctx.chat_model, messages=history, tools=[WEATHER_TOOL], tool_choice="required",
    )
    message = r.choices[0].message
    if not message.tool_calls:
        raise Wrong("no tool call to answer")
    history += [message, {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": WEATHER_RESULT}]
    final = ctx.client.chat.completions.create(model=ctx.chat_model, messages=history, tools=[WEATHER_TOOL])
    expect([check_text(final.choices[0].message.content)])


class Answer(pydantic.BaseModel):
    city: str
    sunny: bool


def parse(ctx):
    r = ctx.client.chat.completions.parse(
        model=ctx.chat_model, messages=messages("Describe the weather in Paris as JSON."), response_format=Answer,
    )
    parsed = r.choices[0].message.parsed
    expect([None if isinstance(parsed, Answer) else f"parsed is {short(parsed)}"])


def embeddings(ctx):
    model = ctx.model("embedding")
    default = ctx.client.embeddings.create(model=model, input="hello world").data[0].embedding
    floats = ctx.client.embeddings.create(model=model, input="hello world", encoding_format="float").data[0].embedding
    problem = vector_problems(default, "the vector (SDK default encoding)")
    if problem is None and (len(default) != len(floats) or any(abs(a - b) > 1e-5 for a, b in zip(default, floats))):
        problem = f"the SDK-default vector ({len(default)} values) differs from the float one ({len(floats)} values)"
    expect([problem])


def embeddings_dimensions(ctx):
    vec = ctx.client.embeddings.create(model=ctx.model("embedding"), input="hello world", dimensions=64).data[0].embedding
    expect([vector_problems(vec, "the vector") or (None if len(vec) == 64 else f"{len(vec)} values, 64 asked")])


def models(ctx):
    ids = [m.id for m in ctx.client.models.list()]
    expect([None if ctx.chat_model in ids else f"{ctx.chat_model!r} not among the listed ids {sorted(ids)[:3]}…"])


def n_choices(ctx):
    r = ctx.client.chat.completions.create(model=ctx.chat_model, messages=messages(CHAT_PROMPT), n=2)
    expect([None if len(r.choices) == 2 else f"{len(r.choices)} choices, 2 asked"])


def reasoning_effort(ctx):
    r = ctx.client.chat.completions.create(
        model=ctx.model("reasoning"), messages=messages(CHAT_PROMPT), reasoning_effort="medium",
    )
    expect([check_text(r.choices[0].message.content)])


def responses(ctx):
    r = ctx.client.responses.create(model=ctx.chat_model, input=CHAT_PROMPT)
    expect([check_text(r.output_text)])


def upload_batch_input(ctx):
    content = batch_jsonl(ctx.chat_model)
    return content, ctx.client.files.create(file=("probe.jsonl", content, "application/jsonl"), purpose="batch")


def deleting(ctx, file_id, steps):
    """Runs `steps`; the uploaded file is deleted even when one raises, so a user's account keeps
    nothing of a probe (a failed clean-up is left to the step's own exception)."""
    try:
        return steps()
    except BaseException:
        try:
            ctx.client.files.delete(file_id)
        except Exception:
            pass
        raise


def files(ctx):
    content, f = upload_batch_input(ctx)

    def steps():
        listed = [x.id for x in ctx.client.files.list(purpose="batch").data]
        meta = ctx.client.files.retrieve(f.id)
        return listed, meta, ctx.client.files.content(f.id).content

    listed, meta, got = deleting(ctx, f.id, steps)
    deleted = ctx.client.files.delete(f.id)
    expect([
        None if isinstance(f.id, str) and f.id else f"file id is {f.id!r}",
        None if f.bytes == len(content) else f"bytes is {f.bytes!r}, not {len(content)}",
        None if f.id in listed else "the uploaded file is not on the first page of the list",
        None if meta.id == f.id and meta.bytes == len(content) else f"retrieved {meta.id!r} of {meta.bytes!r} bytes",
        None if got == content else f"downloaded {len(got)} bytes that differ from the {len(content)} uploaded",
        None if deleted.deleted is True and deleted.id == f.id else f"delete answered deleted={deleted.deleted!r}",
    ])


def batch(ctx):
    _, f = upload_batch_input(ctx)

    def steps():
        created = ctx.client.batches.create(
            input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
        )
        b = ctx.client.batches.retrieve(created.id)
        # Cancelled at once, so no batch runs on a user's account; a finished one has nothing to cancel.
        cancelled = ctx.client.batches.cancel(b.id) if b.status in CANCELLABLE else None
        return created, b, cancelled

    created, b, cancelled = deleting(ctx, f.id, steps)
    ctx.client.files.delete(f.id)
    expect([
        None if b.id == created.id else f"retrieved id {b.id!r}, not {created.id!r}",
        None if b.input_file_id == f.id else f"input_file_id is {b.input_file_id!r}, not the uploaded file",
        None if b.status in BATCH_STATUSES else f"status is {b.status!r}",
        None if cancelled is None or cancelled.status in ("cancelling", "cancelled")
        else f"cancel answered status {cancelled.status!r}",
    ])


def speech(ctx):
    audio = ctx.client.audio.speech.create(
        model=ctx.model("speech"), voice="alloy", input=CHAT_PROMPT, response_format="wav",
    ).content
    expect([None if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE" else f"the audio starts {audio[:12]!r}, not a WAV header"])


def transcription(ctx):
    t = ctx.client.audio.transcriptions.create(
        model=ctx.model("transcription"), file=("tone.wav", tone_wav(), "audio/wav"),
    )
    expect([check_text(t.text, "transcript")])


def error_bad_model(ctx):
    try:
        ctx.client.chat.completions.create(model=BAD_MODEL, messages=messages(CHAT_PROMPT))
    except openai.APIError as e:
        expect(error_problems(e, openai.NotFoundError, 404, "model_not_found", BAD_MODEL))
        return
    raise Wrong("no error for an unknown model")


def error_bad_key(ctx):
    try:
        ctx.bad_key_client.chat.completions.create(model=ctx.chat_model, messages=messages(CHAT_PROMPT))
    except openai.APIError as e:
        expect(error_problems(e, openai.AuthenticationError, 401, "invalid_api_key", None))
        return
    raise Wrong("no error for a wrong key")


def context_length(ctx):
    try:
        ctx.client.chat.completions.create(
            model=ctx.chat_model, messages=messages(filler(context_words())), max_tokens=8,
        )
    except openai.APIError as e:
        expect(error_problems(e, openai.BadRequestError, 400, "context_length_exceeded", None))
        return
    raise Wrong("no error for a prompt longer than the context")


CALLS = [
    ("chat", chat),
    ("stream", stream),
    ("stream_helper", stream_helper),
    ("tools", tools),
    ("tools_stream", tools_stream),
    ("tools_round_trip", tools_round_trip),
    ("parse", parse),
    ("embeddings", embeddings),
    ("embeddings_dimensions", embeddings_dimensions),
    ("models", models),
    ("n_choices", n_choices),
    ("reasoning_effort", reasoning_effort),
    ("responses", responses),
    ("files", files),
    ("batch", batch),
    ("speech", speech),
    ("transcription", transcription),
    ("error_bad_model", error_bad_model),
    ("error_bad_key", error_bad_key),
    ("context_length", context_length),
]


if __name__ == "__main__":
    targets, key, models_by_role, selected = job()
    versions = {"openai": openai.__version__, "pydantic": pydantic.VERSION}
    run("openai-python", versions, CALLS, targets, key, selected, lambda t: Context(t, key, models_by_role))
