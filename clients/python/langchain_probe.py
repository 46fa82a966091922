"""Probe: what LangChain's `langchain-openai` (ChatOpenAI, OpenAIEmbeddings) does with an
endpoint, one call of each kind an app makes. Same contract as openai_probe.py
(docs/clients.md).
"""

import sys
from importlib.metadata import version

from common import (
    BAD_KEY, BAD_MODEL, CHAT_PROMPT, WEATHER_PROMPT, WEATHER_RESULT, WEATHER_TOOL, NotApplicable, Wrong,
    check_text, context_words, error_problems, expect, filler, job, run, short, vector_problems,
)

try:
    import langchain_core
    import langchain_openai
    import openai
    import pydantic
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings
except ImportError as e:  # reported, not raised: the user may not have it installed
    print('{"type": "missing", "client": "langchain-openai", "error": %r}' % str(e).replace('"', "'"))
    sys.exit(3)


class Context:
    def __init__(self, target, key, models):
        self.target = target
        self.key = key or "none"
        self.models = models

    def chat(self, **kwargs):
        kwargs.setdefault("model", self.models["chat"])
        kwargs.setdefault("api_key", self.key)
        return ChatOpenAI(base_url=self.target["base_url"], max_retries=0, timeout=30, **kwargs)

    def model(self, role):
        if role not in self.models:
            raise NotApplicable(f"no {role} model configured")
        return self.models[role]

    def embeddings(self, **kwargs):
        return OpenAIEmbeddings(
            model=self.model("embedding"), base_url=self.target["base_url"], api_key=self.key,
            max_retries=0, check_embedding_ctx_length=False, **kwargs,
        )


def usage_problem(usage, what="usage_metadata"):
    if not usage:
        return f"{what} is {short(usage)}"
    if usage.get("total_tokens") != usage.get("input_tokens", 0) + usage.get("output_tokens", 0):
        return f"{what}: total {usage.get('total_tokens')} != input + output"
    return None


def tool_call_problems(calls, finish=None):
    if not calls:
        return [f"{len(calls or [])} tool calls, expected 1"]
    call = calls[0]
    args = call.get("args")
    return [
        None if len(calls) == 1 else f"{len(calls)} tool calls, expected 1",
        None if isinstance(call.get("id"), str) and call.get("id") else f"tool call id is {short(call.get('id'))}",
        None if call.get("name") == "get_weather" else f"tool name is {short(call.get('name'))}",
        None if isinstance(args, dict) and isinstance(args.get("city"), str) else f"args {short(args)} have no string `city`",
        None if finish in (None, "tool_calls") else f"finish_reason is {finish!r}, not 'tool_calls'",
    ]


def chat(ctx):
    m = ctx.chat().invoke(CHAT_PROMPT)
    finish = m.response_metadata.get("finish_reason")
    expect([
        check_text(m.content),
        None if finish == "stop" else f"finish_reason is {finish!r}, not 'stop'",
        usage_problem(m.usage_metadata),
    ])


def stream(ctx):
    total = None
    for chunk in ctx.chat(stream_usage=True).stream(CHAT_PROMPT):
        total = chunk if total is None else total + chunk
    expect([
        None if total is not None else "no chunk",
        check_text(total.content if total is not None else None, "streamed content"),
        usage_problem(total.usage_metadata if total is not None else None),
    ])


def tools(ctx):
    m = ctx.chat().bind_tools([WEATHER_TOOL], tool_choice="required").invoke(WEATHER_PROMPT)
    expect(tool_call_problems(m.tool_calls, m.response_metadata.get("finish_reason")))


def tools_stream(ctx):
    total = None
    for chunk in ctx.chat().bind_tools([WEATHER_TOOL], tool_choice="required").stream(WEATHER_PROMPT):
        total = chunk if total is None else total + chunk
    expect(tool_call_problems(total.tool_calls if total is not None else []))


def tools_round_trip(ctx):
    # The tool loop as LangChain's documentation writes it: the AIMessage and a ToolMessage.
    history = [HumanMessage(WEATHER_PROMPT)]
    m = ctx.chat().bind_tools([WEATHER_TOOL], tool_choice="required").invoke(history)
    if not m.tool_calls:
        raise Wrong("no tool call to answer")
    history += [m, ToolMessage(WEATHER_RESULT, tool_call_id=m.tool_calls[0]["id"])]
    final = ctx.chat().bind_tools([WEATHER_TOOL]).invoke(history)
    expect([check_text(final.content)])


class Answer(pydantic.BaseModel):
    city: str
    sunny: bool


def parse(ctx):
    out = ctx.chat().with_structured_output(Answer, method="json_schema").invoke(
        "Describe the weather in Paris as JSON."
    )
    expect([None if isinstance(out, Answer) else f"structured output is {short(out)}"])


def embeddings(ctx):
    vec = ctx.embeddings().embed_query("hello world")
    expect([vector_problems(vec, "the vector")])


def embeddings_dimensions(ctx):
    vec = ctx.embeddings(dimensions=64).embed_query("hello world")
    expect([vector_problems(vec, "the vector") or (None if len(vec) == 64 else f"{len(vec)} values, 64 asked")])


def n_choices(ctx):
    result = ctx.chat(n=2).generate([[HumanMessage(content=CHAT_PROMPT)]])
    got = len(result.generations[0])
    expect([None if got == 2 else f"{got} generations, 2 asked"])


def reasoning_effort(ctx):
    m = ctx.chat(model=ctx.model("reasoning"), reasoning_effort="medium").invoke(CHAT_PROMPT)
    expect([check_text(m.content)])


def error_bad_model(ctx):
    try:
        ctx.chat(model=BAD_MODEL).invoke(CHAT_PROMPT)
    except openai.APIError as e:
        expect(error_problems(e, openai.NotFoundError, 404, "model_not_found", BAD_MODEL))
        return
    raise Wrong("no error for an unknown model")


def error_bad_key(ctx):
    try:
        ctx.chat(api_key=BAD_KEY).invoke(CHAT_PROMPT)
    except openai.APIError as e:
        expect(error_problems(e, openai.AuthenticationError, 401, "invalid_api_key", None))
        return
    raise Wrong("no error for a wrong key")


def context_length(ctx):
    # LangChain re-raises the SDK's error as a subclass of openai.BadRequestError (its own
    # ContextOverflowError only when "context_length_exceeded" is in str(e), which openai 3.x
    # no longer puts there: the body's code is what an app can branch on).
    try:
        ctx.chat(max_tokens=8).invoke(filler(context_words()))
    except openai.APIError as e:
        expect(error_problems(e, openai.BadRequestError, 400, "context_length_exceeded", None))
        return
    raise Wrong("no error for a prompt longer than the context")


CALLS = [
    ("chat", chat),
    ("stream", stream),
    ("tools", tools),
    ("tools_stream", tools_stream),
    ("tools_round_trip", tools_round_trip),
    ("parse", parse),
    ("embeddings", embeddings),
    ("embeddings_dimensions", embeddings_dimensions),
    ("n_choices", n_choices),
    ("reasoning_effort", reasoning_effort),
    ("error_bad_model", error_bad_model),
    ("error_bad_key", error_bad_key),
    ("context_length", context_length),
]


if __name__ == "__main__":
    targets, key, models_by_role, selected = job()
    versions = {
        "langchain-openai": version("langchain-openai"),
        "langchain-core": version("langchain-core"),
        "openai": openai.__version__,
    }
    run("langchain-openai", versions, CALLS, targets, key, selected, lambda t: Context(t, key, models_by_role))
