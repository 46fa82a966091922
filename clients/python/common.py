"""What every Python probe shares: reading the job from the environment, running each call,
turning what happened into a status and a symptom, and printing one JSON line per result.

A probe never prints the API key: it is read from LLM_PARITY_PROBE_KEY and only handed to the
client library. Symptoms are normalised (local ports, long bodies) so that the same behaviour
gives the same text on every run.
"""

import json
import math
import os
import re
import sys
import traceback

STATUS_WORKS = "works"
STATUS_RAISES = "raises"
STATUS_WRONG = "wrong"
STATUS_NA = "n/a"


class Wrong(Exception):
    """The call returned, but not what OpenAI's behaviour gives: data lost, changed or mistyped."""


class NotApplicable(Exception):
    """The client has no API for this call."""


# The key, masked in every text before it is cut (a cut key would no longer match).
_KEY = ""


def job():
    """The targets, key, models and selected calls, from the environment."""
    global _KEY
    targets = json.loads(os.environ["LLM_PARITY_PROBE_TARGETS"])
    models = json.loads(os.environ.get("LLM_PARITY_PROBE_MODELS", "{}"))
    key = os.environ.get("LLM_PARITY_PROBE_KEY", "")
    _KEY = key
    calls = [c for c in os.environ.get("LLM_PARITY_PROBE_CALLS", "").split(",") if c]
    return targets, key, models, calls


# Calls that send more than a short prompt run only when asked for: `context_length` sends a
# prompt of LLM_PARITY_PROBE_CONTEXT_WORDS words (`llm-parity clients --context-words N`).
OPT_IN_CALLS = {"context_length": "LLM_PARITY_PROBE_CONTEXT_WORDS"}

# The words of llm-parity's `{{filler:N}}` template: about one token each on mainstream tokenizers.
FILLER_WORDS = "the of and to in is that for it as with was on be at by".split()


def context_words():
    """How many filler words the context_length call sends (0: the call is not run)."""
    return int(os.environ.get("LLM_PARITY_PROBE_CONTEXT_WORDS") or 0)


def filler(n):
    return " ".join(FILLER_WORDS[i % len(FILLER_WORDS)] for i in range(n))


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def normalise(text, key):
    text = str(text)
    for secret in (key, _KEY):
        if secret:
            text = text.replace(secret, "***")
    text = re.sub(r"(127\.0\.0\.1|localhost|\[::1\]):\d+", r"\1:PORT", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:240]


def symptom_of(exc, key):
    name = type(exc).__name__
    return normalise(f"{name}: {exc}", key)


def run(client_name, versions, calls, targets, key, selected, make_context):
    """Runs every selected call against every target and prints the results."""
    emit({"type": "client", "client": client_name, "versions": versions})
    for target in targets:
        ctx = make_context(target)
        for name, fn in calls:
            if selected and name not in selected:
                continue
            if name in OPT_IN_CALLS and not os.environ.get(OPT_IN_CALLS[name]):
                continue
            try:
                fn(ctx)
                status, symptom = STATUS_WORKS, ""
            except Wrong as w:
                status, symptom = STATUS_WRONG, normalise(w, key)
            except NotApplicable as n:
                status, symptom = STATUS_NA, normalise(n, key)
            except Exception as e:  # the point: whatever the library raises is the result
                status, symptom = STATUS_RAISES, symptom_of(e, key)
                if os.environ.get("LLM_PARITY_PROBE_DEBUG"):
                    traceback.print_exc()
            emit({"type": "call", "target": target["name"], "call": name, "status": status, "symptom": symptom})


def expect(problems):
    """Raises Wrong naming every problem found, if any."""
    problems = [p for p in problems if p]
    if problems:
        raise Wrong("; ".join(problems))


def check_text(text, what="content"):
    if not isinstance(text, str):
        return f"{what} is {type(text).__name__} {short(text)}, not a string"
    if not text.strip():
        return f"{what} is empty"
    return None


def short(value):
    text = normalise(repr(value), "")
    return text if len(text) <= 40 else text[:40] + "…"


def check_weather_args(raw, what="arguments"):
    """Tool-call arguments as an app reads them: a JSON string holding `city`."""
    if not isinstance(raw, str):
        return f"{what} is {type(raw).__name__} {short(raw)}, not a JSON string"
    try:
        args = json.loads(raw)
    except ValueError as e:
        return f"{what} are not JSON ({e})"
    if not isinstance(args, dict) or not isinstance(args.get("city"), str):
        return f"{what} {short(args)} have no string `city`"
    return None


def vector_problems(vec, what):
    """An embedding as an app reads it: a non-empty list of finite floats."""
    if not isinstance(vec, list) or not vec:
        return f"{what} is {type(vec).__name__} {short(vec)}, not a list of floats"
    if not all(isinstance(x, float) and math.isfinite(x) for x in vec):
        return f"{what} holds non-finite or non-float values"
    return None


def error_problems(e, cls, status, code, mention):
    """An openai-python error (LangChain raises them too) as an app branches on it: its class,
    status, `code`, and the server's message."""
    return [
        None if isinstance(e, cls) else f"raised {type(e).__name__}, not {cls.__name__}",
        None if getattr(e, "status_code", None) == status else f"status {getattr(e, 'status_code', None)}",
        None if getattr(e, "code", None) == code else f"e.code is {short(getattr(e, 'code', None))}, not {code!r}",
        None if mention is None or mention in str(getattr(e, "message", e)) else "the message does not carry the server's message",
    ]


# The tool's result a round trip sends back.
WEATHER_RESULT = '{"city": "Paris", "temperature_c": 18, "conditions": "sunny"}'

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}

WEATHER_PROMPT = "What is the weather in Paris? Use the tool."
CHAT_PROMPT = "Say hello in one short sentence."
BAD_MODEL = "no-such-model-llm-parity"
BAD_KEY = "wrong-key-llm-parity-probe"
# A batch's statuses (any of them is a valid answer to a retrieve right after the create).
BATCH_STATUSES = {
    "validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled",
}
# The statuses a batch can be cancelled in.
CANCELLABLE = {"validating", "in_progress", "finalizing"}


def batch_jsonl(model):
    """A batch input file of one chat request, as uploaded for a batch."""
    line = {
        "custom_id": "probe-1", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": CHAT_PROMPT}]},
    }
    return (json.dumps(line) + "\n").encode()


def tone_wav():
    """Half a second of 16 kHz mono 16-bit silence in a WAV container, to transcribe."""
    samples = 8000
    data = bytes(2 * samples)
    return (
        b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt "
        + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
        + (16000).to_bytes(4, "little") + (32000).to_bytes(4, "little") + (2).to_bytes(2, "little")
        + (16).to_bytes(2, "little") + b"data" + len(data).to_bytes(4, "little") + data
    )
