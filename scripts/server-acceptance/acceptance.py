#!/usr/bin/env python3
"""Acceptance checks of a running `shimmy serve` (started by run.sh with --parallel 2 --max-queue 0).

Every check prints PASS or FAIL with what differed; the exit status is the number of failures (capped at 1).
Greedy means temperature 0.
"""
import argparse
import asyncio
import json
import math
import socket
import subprocess
import sys
import threading
import time
import traceback
from array import array

import ollama
import openai
import requests
import websockets

ARGS = None
MODEL = None
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def url(path):
    return ARGS.base + path


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_error(response, status, code):
    expect(response.status_code == status, f"status {response.status_code}, wanted {status}: {response.text[:300]}")
    body = response.json()
    error = body.get("error")
    expect(isinstance(error, dict), f"no error object: {body}")
    expect(error.get("code") == code, f"code {error.get('code')!r}, wanted {code!r}")
    expect(isinstance(error.get("message"), str) and error["message"], f"empty message: {error}")
    expect("details" in error, f"no details key: {error}")


def token_count(text):
    """Tokens of a raw prompt as the server feeds it (special tokens parsed), from `shimmy tokenize`."""
    out = subprocess.run([ARGS.shimmy, "tokenize", "--model", ARGS.model_path, "--parse-special", "--prompt", text],
                         capture_output=True, text=True, check=True).stdout
    return len(json.loads(out))


def chatml(messages):
    """SmolLM2's chat template with an explicit system message (no default one is added then)."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + "<|im_start|>assistant\n"


MESSAGES = [{"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Name three colors."}]


def oai():
    return openai.OpenAI(base_url=url("/v1"), api_key="unused")


def sse_events(response):
    events = []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            events.append(line[6:])
        elif line:
            raise AssertionError(f"unexpected SSE line {line!r}")
    return events


# ---------------------------------------------------------------- seed endpoints and documented defaults

@check
def health():
    for path in ("/health", "/api/health"):
        body = requests.get(url(path), timeout=10).json()
        expect(body.get("status") == "healthy", f"{path}: {body}")
        expect(isinstance(body.get("models_loaded"), int) and body["models_loaded"] >= 1, f"{path}: {body}")
        expect(str(body.get("memory_usage", "")).endswith(("MB", "GB")), f"{path}: {body}")


@check
def api_models():
    global MODEL
    body = requests.get(url("/api/models"), timeout=10).json()
    models = body.get("models")
    expect(isinstance(models, list) and models, f"no models: {body}")
    for m in models:
        expect(set(m) >= {"id", "name", "description"}, f"model entry {m}")
    # the contract's entry for `default` comes first, then the models by their own names
    expect(models[0]["id"] == "default" and models[0]["name"] == "Default Model", f"first entry {models[0]}")
    expect(len(models) >= 2, f"no model by its own name: {body}")
    MODEL = models[1]["id"]


@check
def generate_defaults():
    response = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "Once upon a time"}, timeout=300)
    expect(response.status_code == 200, f"status {response.status_code}: {response.text[:300]}")
    expect(response.headers.get("Content-Type", "").startswith("application/json"), "not JSON (stream defaults to false)")
    body = response.json()
    choice = body["choices"][0]
    expect(set(choice) == {"text", "index", "finish_reason"}, f"choice keys {set(choice)}")
    usage = body["usage"]
    expect(usage["prompt_tokens"] == token_count("Once upon a time"),
           f"prompt_tokens {usage['prompt_tokens']} vs tokenize {token_count('Once upon a time')}")
    expect(usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], f"usage {usage}")
    if choice["finish_reason"] == "length":
        expect(usage["completion_tokens"] == 100, f"max_tokens default 100, got {usage}")
    else:
        expect(usage["completion_tokens"] <= 100, f"usage {usage}")


@check
def generate_stream():
    body = {"model": MODEL, "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0, "stream": True}
    with requests.post(url("/api/generate"), json=body, stream=True, timeout=300) as response:
        expect(response.headers.get("Content-Type", "").startswith("text/event-stream"), "not SSE")
        events = sse_events(response)
    expect(events and events[-1] == "[DONE]", f"last event {events[-1:]}")
    chunks = [json.loads(e) for e in events[:-1]]
    for c in chunks:
        expect(set(c) == {"choices"} and set(c["choices"][0]) == {"text", "index"}, f"chunk {c}")
    streamed = "".join(c["choices"][0]["text"] for c in chunks)
    whole = requests.post(url("/api/generate"), json={**body, "stream": False}, timeout=300).json()
    expect(streamed == whole["choices"][0]["text"], f"stream {streamed!r} vs whole {whole['choices'][0]['text']!r}")


@check
def errors():
    expect_error(requests.post(url("/api/generate"), json={"model": "no-such-model", "prompt": "x"}, timeout=10),
                 404, "model_not_found")
    expect_error(requests.post(url("/api/generate"), data="{not json", timeout=10), 400, "invalid_request")
    expect_error(requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "x", "max_tokens": "many"},
                               timeout=10), 400, "invalid_request")
    expect_error(requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "x", "temperature": -1},
                               timeout=10), 400, "invalid_request")
    long_prompt = "hello " * 5000
    expect_error(requests.post(url("/api/generate"), json={"model": MODEL, "prompt": long_prompt}, timeout=60),
                 400, "invalid_request")
    expect_error(requests.post(url("/v1/chat/completions"), json={"model": MODEL, "messages": MESSAGES, "n": 2},
                               timeout=10), 400, "invalid_request")
    expect_error(requests.get(url("/v1/models/no-such-model"), timeout=10), 404, "model_not_found")


@check
def over_capacity_503():
    """Two long streams fill --parallel 2 (queue 0); a third generation gets 503 with Retry-After."""
    streams = []
    try:
        for i in range(2):
            r = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": f"Count slowly {i}",
                                                          "max_tokens": 2000, "stream": True},
                              stream=True, timeout=300)
            lines = r.iter_lines()
            next(lines)  # generation running; keep the iterator: dropping it makes urllib3 close the connection
            streams.append((r, lines))
        refused = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "x"}, timeout=30)
        expect(refused.status_code == 503, f"status {refused.status_code}: {refused.text[:200]}")
        expect(refused.headers.get("Retry-After"), "no Retry-After")
        expect("error" in refused.json(), f"body {refused.text}")
    finally:
        for r, _ in streams:
            r.close()
    # the slots come back once the clients are gone
    deadline = time.time() + 10
    while time.time() < deadline:
        r = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "x", "max_tokens": 1}, timeout=60)
        if r.status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("slots not released after the clients disconnected")


@check
def websocket_generate():
    async def run():
        async with websockets.connect(url("/ws/generate").replace("http", "ws", 1)) as ws:
            await ws.send(json.dumps({"model": MODEL, "prompt": "Hello world", "max_tokens": 10, "temperature": 0}))
            tokens = []
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if "token" in message:
                    tokens.append(message["token"])
                    continue
                expect(message == {"done": True}, f"final frame {message}")
                return "".join(tokens)
    text = asyncio.run(run())
    whole = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "Hello world", "max_tokens": 10,
                                                      "temperature": 0}, timeout=300).json()
    expect(text == whole["choices"][0]["text"], f"websocket {text!r} vs http {whole['choices'][0]['text']!r}")


# ---------------------------------------------------------------- OpenAI


@check
def openai_chat():
    client = oai()
    result = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0)
    text = result.choices[0].message.content
    expect(isinstance(text, str) and text, f"content {text!r}")
    expect(result.usage.prompt_tokens == token_count(chatml(MESSAGES)),
           f"prompt_tokens {result.usage.prompt_tokens} vs template+tokenize {token_count(chatml(MESSAGES))}")
    if result.choices[0].finish_reason == "length":
        expect(result.usage.completion_tokens == 8, f"usage {result.usage}")
    expect(result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens, f"{result.usage}")

    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    pieces, usage, finish = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    expect("".join(pieces) == text, f"stream {''.join(pieces)!r} vs whole {text!r}")
    expect(usage is not None and usage.completion_tokens == result.usage.completion_tokens
           and usage.prompt_tokens == result.usage.prompt_tokens, f"stream usage {usage} vs {result.usage}")
    expect(finish == result.choices[0].finish_reason, f"finish {finish}")
    # max_completion_tokens, stop and seed are accepted
    limited = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=3, seed=42,
                                             temperature=0.7, top_p=0.9, presence_penalty=0.1, frequency_penalty=0.1)
    expect(limited.usage.completion_tokens <= 3, f"{limited.usage}")
    stopped = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0,
                                             stop=[text[2:4]] if len(text) > 4 else ["\n"])
    expect(stopped.choices[0].finish_reason in ("stop", "length"), f"{stopped.choices[0]}")


@check
def openai_completions():
    client = oai()
    prompt = "The quick brown fox"
    result = client.completions.create(model=MODEL, prompt=prompt, max_tokens=8, temperature=0)
    expect(result.usage.prompt_tokens == token_count(prompt), f"prompt_tokens {result.usage.prompt_tokens}")
    if result.choices[0].finish_reason == "length":
        expect(result.usage.completion_tokens == 8, f"{result.usage}")
    pieces, usage = [], None
    for chunk in client.completions.create(model=MODEL, prompt=prompt, max_tokens=8, temperature=0, stream=True,
                                           stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        pieces.extend(c.text for c in chunk.choices)
    expect("".join(pieces) == result.choices[0].text, f"stream {''.join(pieces)!r} vs {result.choices[0].text!r}")
    expect(usage is not None and usage.total_tokens == result.usage.total_tokens, f"usage {usage}")


@check
def openai_models():
    client = oai()
    ids = [m.id for m in client.models.list()]
    expect(MODEL in ids, f"{MODEL} not in {ids}")
    one = client.models.retrieve(MODEL)
    expect(one.id == MODEL and one.owned_by == "shimmy", f"{one}")


@check
def openai_embeddings():
    client = oai()
    texts = ["The sky is blue.", "Paris is the capital of France."]
    # without encoding_format the client asks for base64 and decodes it
    result = client.embeddings.create(model=MODEL, input=texts)
    expect([d.index for d in result.data] == [0, 1], f"{[d.index for d in result.data]}")
    expect({len(d.embedding) for d in result.data} == {576}, f"lengths {[len(d.embedding) for d in result.data]}")
    norm = math.sqrt(sum(v * v for v in result.data[0].embedding))
    expect(abs(norm - 1) < 1e-4, f"norm {norm}")
    expect(result.data[0].embedding != result.data[1].embedding, "two texts, one vector")
    expect(result.usage.prompt_tokens == sum(token_count(t) for t in texts), f"{result.usage}")
    floats = client.embeddings.create(model=MODEL, input=texts[0], encoding_format="float")
    # the numbers are the shortest decimals of the f32 values base64 carries exactly
    expect(array("f", floats.data[0].embedding) == array("f", result.data[0].embedding),
           "float and base64 encodings differ")
    short = client.embeddings.create(model=MODEL, input=texts[0], dimensions=64, encoding_format="float")
    expect(len(short.data[0].embedding) == 64, f"dimensions: {len(short.data[0].embedding)}")
    try:
        client.embeddings.create(model=MODEL, input="word " * 5000)
        expect(False, "an input longer than the context was embedded")
    except openai.BadRequestError as error:
        expect("maximum context length" in str(error), f"{error}")


# ---------------------------------------------------------------- Ollama


@check
def ollama_embeddings():
    client = ollama.Client(host=ARGS.base)
    texts = ["The sky is blue.", "Paris is the capital of France."]
    result = client.embed(model=MODEL, input=texts)
    expect(len(result.embeddings) == 2 and len(result.embeddings[0]) == 576, f"{len(result.embeddings)} embeddings")
    expect(result.prompt_eval_count == sum(token_count(t) for t in texts), f"prompt_eval_count {result.prompt_eval_count}")
    same = oai().embeddings.create(model=MODEL, input=texts[0], encoding_format="float").data[0].embedding
    expect(max(abs(a - b) for a, b in zip(same, result.embeddings[0])) < 1e-6, "/api/embed and /v1/embeddings differ")
    # the older route gives the raw vector: the same direction, not unit length
    raw = client.embeddings(model=MODEL, prompt=texts[0]).embedding
    norm = math.sqrt(sum(v * v for v in raw))
    expect(norm > 1.5, f"raw norm {norm}")
    expect(max(abs(a / norm - b) for a, b in zip(raw, same)) < 1e-5, "/api/embeddings is not /api/embed unnormalized")
    long = client.embed(model=MODEL, input="word " * 5000)  # truncate defaults to true
    expect(len(long.embeddings[0]) == 576, "a long input was not cut to the context")
    try:
        client.embed(model=MODEL, input="word " * 5000, truncate=False)
        expect(False, "truncate false embedded an input longer than the context")
    except ollama.ResponseError as error:
        expect(error.status_code == 400, f"{error}")



@check
def ollama_chat_and_list():
    client = ollama.Client(host=ARGS.base)
    names = [m.model for m in client.list().models]
    expect(MODEL in names, f"{MODEL} not in {names}")
    messages = [{"role": "user", "content": "Say hi."}]
    options = {"temperature": 0, "num_predict": 8}
    whole = client.chat(model=MODEL, messages=messages, stream=False, options=options)
    expect(whole.done and whole.message.role == "assistant", f"{whole}")
    expect(whole.eval_count is not None and whole.eval_count <= 8, f"eval_count {whole.eval_count}")
    parts = list(client.chat(model=MODEL, messages=messages, stream=True, options=options))
    expect(parts and parts[-1].done, "stream did not end with done")
    streamed = "".join(p.message.content for p in parts)
    expect(streamed == whole.message.content, f"stream {streamed!r} vs whole {whole.message.content!r}")
    shown = requests.post(url("/api/show"), json={"model": MODEL}, timeout=60).json()
    expect({"modelfile", "parameters", "template", "details", "model_info"} <= set(shown), f"show keys {set(shown)}")
    expect(requests.get(url("/api/version"), timeout=10).json().get("version"), "no version")
    running = [m.model for m in client.ps().models]
    expect(MODEL in running, f"{MODEL} not in ps {running}")


@check
def ollama_generate():
    client = ollama.Client(host=ARGS.base)
    options = {"temperature": 0, "num_predict": 8}
    whole = client.generate(model=MODEL, prompt="Say hi.", stream=False, options=options)
    expect(whole.done and whole.response and whole.done_reason in ("stop", "length"), f"{whole}")
    expect(whole.eval_count is not None and whole.eval_count <= 8, f"eval_count {whole.eval_count}")
    parts = list(client.generate(model=MODEL, prompt="Say hi.", stream=True, options=options))
    expect(parts and parts[-1].done, "stream did not end with done")
    streamed = "".join(p.response for p in parts)
    expect(streamed == whole.response, f"stream {streamed!r} vs whole {whole.response!r}")
    # the chat template is applied as /api/chat does it; raw skips it
    chat = client.chat(model=MODEL, messages=[{"role": "user", "content": "Say hi."}], stream=False, options=options)
    expect(whole.response == chat.message.content, f"generate {whole.response!r} vs chat {chat.message.content!r}")
    raw = client.generate(model=MODEL, prompt="Once upon a time", raw=True, stream=False,
                          options={**options, "repeat_penalty": 1.0})
    shimmy = requests.post(url("/api/generate"), json={"model": MODEL, "prompt": "Once upon a time", "max_tokens": 8,
                                                       "temperature": 0}, timeout=300).json()
    expect(raw.response == shimmy["choices"][0]["text"], f"raw {raw.response!r} vs shimmy {shimmy}")
    loaded = client.generate(model=MODEL, prompt="")
    expect(loaded.done and loaded.done_reason == "load", f"{loaded}")


@check
def logprobs():
    """Greedy answers with logprobs through both official clients: each token's entry is its position's most likely
    one, the tokens spell the text, streamed entries equal the whole answer's, and the APIs give the same values."""
    client = oai()
    whole = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0,
                                           logprobs=True, top_logprobs=3)
    choice = whole.choices[0]
    entries = choice.logprobs.content
    expect(len(entries) == whole.usage.completion_tokens or choice.finish_reason == "stop",
           f"{len(entries)} entries for {whole.usage.completion_tokens} tokens")
    expect("".join(e.token for e in entries) == choice.message.content,
           f"tokens {[e.token for e in entries]} vs {choice.message.content!r}")
    for e in entries:
        expect(len(e.top_logprobs) == 3 and e.top_logprobs[0].token == e.token and e.top_logprobs[0].logprob == e.logprob,
               f"greedy entry not its most likely: {e}")
        expect(e.logprob <= 0 and bytes(e.bytes).decode("utf-8", "replace") == e.token, f"{e}")
        expect(all(a.logprob >= b.logprob for a, b in zip(e.top_logprobs, e.top_logprobs[1:])), f"order {e}")
    streamed = []
    for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0,
                                                logprobs=True, top_logprobs=3, stream=True):
        for c in chunk.choices:
            if c.logprobs and c.logprobs.content:
                streamed.extend(c.logprobs.content)
    expect([(e.token, e.logprob) for e in streamed] == [(e.token, e.logprob) for e in entries],
           f"stream {[(e.token, e.logprob) for e in streamed]} vs whole {[(e.token, e.logprob) for e in entries]}")

    completion = client.completions.create(model=MODEL, prompt="The quick brown fox", max_tokens=6, temperature=0,
                                           logprobs=2)
    legacy = completion.choices[0].logprobs
    text = completion.choices[0].text
    expect("".join(legacy.tokens) == text and len(legacy.token_logprobs) == len(legacy.tokens), f"{legacy}")
    expect(legacy.text_offset == [len("".join(legacy.tokens[:i])) for i in range(len(legacy.tokens))], f"{legacy}")
    expect(all(len(t) <= 2 and max(t.values()) == lp for t, lp in zip(legacy.top_logprobs, legacy.token_logprobs)),
           f"{legacy.top_logprobs}")

    ollama_client = ollama.Client(host=ARGS.base)
    options = {"temperature": 0, "num_predict": 8, "repeat_penalty": 1.0}
    chat = ollama_client.chat(model=MODEL, messages=MESSAGES, stream=False, options=options, logprobs=True,
                              top_logprobs=3)
    expect([(e.token, e.logprob) for e in chat.logprobs] == [(e.token, e.logprob) for e in entries],
           f"/api/chat {[(e.token, e.logprob) for e in chat.logprobs]} vs /v1 {[(e.token, e.logprob) for e in entries]}")
    expect(all(len(e.top_logprobs) == 3 for e in chat.logprobs), f"{chat.logprobs}")
    parts = list(ollama_client.generate(model=MODEL, prompt="Say hi.", stream=True, options=options, logprobs=True))
    tokens = [e.token for p in parts for e in (p.logprobs or [])]
    expect("".join(tokens) == "".join(p.response for p in parts), f"generate stream {tokens} vs {[p.response for p in parts]}")
    # every generated token has an entry, but an end-of-generation token
    expect(len(tokens) == parts[-1].eval_count - (1 if parts[-1].done_reason == "stop" else 0),
           f"{len(tokens)} entries for {parts[-1].eval_count} tokens ({parts[-1].done_reason})")
    plain = ollama_client.chat(model=MODEL, messages=MESSAGES, stream=False, options=options)
    expect(plain.logprobs is None, f"logprobs without asking: {plain.logprobs}")


@check
def json_mode():
    """JSON mode through both official clients: an answer that ends is one JSON object and nothing else."""
    prompt = [{"role": "user", "content": "Describe a cat as a JSON object with a name and an age."}]
    result = oai().chat.completions.create(model=MODEL, messages=prompt, max_tokens=200, temperature=0,
                                           response_format={"type": "json_object"})
    choice = result.choices[0]
    expect(choice.finish_reason == "stop" and isinstance(json.loads(choice.message.content), dict),
           f"{choice.finish_reason}: {choice.message.content!r}")
    client = ollama.Client(host=ARGS.base)
    options = {"temperature": 0, "num_predict": 200}
    chat = client.chat(model=MODEL, messages=prompt, format="json", stream=False, options=options)
    expect(chat.done_reason == "stop" and isinstance(json.loads(chat.message.content), dict),
           f"{chat.done_reason}: {chat.message.content!r}")
    parts = list(client.generate(model=MODEL, prompt=prompt[0]["content"], format="json", stream=True, options=options))
    text = "".join(p.response for p in parts)
    expect(parts[-1].done_reason == "stop" and isinstance(json.loads(text), dict), f"{parts[-1].done_reason}: {text!r}")


@check
def structured_output():
    """A pydantic model as the schema through both official clients: the openai client's parse() and ollama's
    format=model_json_schema() get answers that validate against the model."""
    from typing import Literal, Optional

    from pydantic import BaseModel

    class Pet(BaseModel):
        kind: Literal["cat", "dog"]
        age: Optional[int]

    class Person(BaseModel):
        name: str
        pets: list[Pet]

    prompt = [{"role": "user", "content": "Describe a person who has two pets."}]
    # sampled with fixed seeds: a greedy 135M model may repeat itself until max_tokens
    done = 0
    for seed in (1, 2, 3):
        try:
            parsed = oai().chat.completions.parse(model=MODEL, messages=prompt, max_tokens=300, temperature=0.8,
                                                  seed=seed, response_format=Person)
        except openai.LengthFinishReasonError:
            continue  # cut by max_tokens: the client refuses to parse it
        choice = parsed.choices[0]
        expect(choice.finish_reason == "stop", f"{choice.finish_reason}")
        done += 1
        expect(isinstance(choice.message.parsed, Person), f"{choice.message}")
    expect(done >= 1, "no answer ended within 300 tokens")
    client = ollama.Client(host=ARGS.base)
    done = 0
    for seed in (1, 2, 3):
        chat = client.chat(model=MODEL, messages=prompt, format=Person.model_json_schema(), stream=False,
                           options={"temperature": 0.8, "seed": seed, "num_predict": 300})
        if chat.done_reason == "stop":
            done += 1
            Person.model_validate_json(chat.message.content)
    expect(done >= 1, "no answer ended within 300 tokens")
    bad = requests.post(url("/api/chat"), json={"model": MODEL, "messages": prompt, "format": {
        "type": "object", "properties": {"when": {"type": "string", "pattern": "^[0-9]+$"}}}}, timeout=60)
    expect_error(bad, 400, "invalid_request")


@check
def discriminated_union():
    """pydantic's discriminated union (a oneOf of two objects told apart by a constant, with OpenAPI's
    discriminator) through the openai client's parse(): answers validate against the model."""
    from typing import Literal, Union

    from pydantic import BaseModel, Field

    class Cat(BaseModel):
        pet_type: Literal["cat"]
        meows: int

    class Dog(BaseModel):
        pet_type: Literal["dog"]
        barks: float

    class Owner(BaseModel):
        name: str
        pet: Union[Cat, Dog] = Field(discriminator="pet_type")

    prompt = [{"role": "user", "content": "Describe a pet owner and their pet."}]
    done = 0
    kinds = set()
    for seed in (1, 2, 3, 4):
        try:
            parsed = oai().chat.completions.parse(model=MODEL, messages=prompt, max_tokens=200, temperature=0.8,
                                                  seed=seed, response_format=Owner)
        except openai.LengthFinishReasonError:
            continue
        expect(isinstance(parsed.choices[0].message.parsed, Owner), f"{parsed.choices[0].message}")
        kinds.add(type(parsed.choices[0].message.parsed.pet).__name__)
        done += 1
    expect(done >= 1, "no answer ended within 200 tokens")
    print(f"    pets written: {sorted(kinds)}")


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Add two numbers",
    "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                   "required": ["a", "b"]}}}


def expect_answer(choice):
    """An OpenAI answer with tools: calls of the listed tools whose arguments are JSON objects with their required
    keys and finish reason tool_calls, or text."""
    if choice.message.tool_calls:
        expect(choice.finish_reason == "tool_calls" and choice.message.content is None, f"{choice}")
        for call in choice.message.tool_calls:
            wanted = {"get_weather": {"city"}, "add": {"a", "b"}}[call.function.name]
            expect(wanted <= set(json.loads(call.function.arguments)), f"{call}")
    else:
        expect(choice.finish_reason in ("stop", "length") and isinstance(choice.message.content, str), f"{choice}")


@check
def tool_calling():
    """Tools through both official clients: calls come back as tool_calls whose arguments are JSON of the tool's
    parameters, streamed ones too, and a conversation with a call and its result goes on."""
    client = oai()
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    result = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER, ADD],
                                            tool_choice="required", temperature=0, max_tokens=100)
    choice = result.choices[0]
    expect(choice.message.tool_calls, f"{choice}")
    expect_answer(choice)
    call = choice.message.tool_calls[0]
    expect(call.id.startswith("call_") and call.type == "function", f"{call}")
    # the call and its result go back; the model answers or calls again
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "18 degrees, sunny"}]
    again = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER, ADD], temperature=0,
                                           max_tokens=100)
    expect_answer(again.choices[0])
    # streamed, with a named tool: the deltas add up to one call
    name, text = None, ""
    for chunk in client.chat.completions.create(model=MODEL, messages=messages[:1], tools=[WEATHER, ADD],
                                                tool_choice={"type": "function", "function": {"name": "get_weather"}},
                                                temperature=0, max_tokens=100, stream=True):
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            name = delta.function.name or name
            text += delta.function.arguments or ""
    expect(name == "get_weather" and "city" in json.loads(text), f"{name}: {text!r}")

    def get_weather(city: str) -> str:
        """The current weather in a city.

        Args:
          city: The city's name
        """
        return "18 degrees"

    ollama_client = ollama.Client(host=ARGS.base)
    options = {"temperature": 0, "num_predict": 100}
    chat = ollama_client.chat(model=MODEL, messages=messages[:1], tools=[get_weather], stream=False, options=options)
    calls = chat.message.tool_calls or []
    expect(calls or (chat.message.content and chat.done_reason in ("stop", "length")), f"{chat}")
    for call in calls:
        expect(call.function.name == "get_weather" and isinstance(call.function.arguments.get("city"), str),
               f"{call}")
        expect(chat.done_reason == "stop" and chat.message.content == "", f"{chat}")
    print(f"    ollama: {'calls ' + str([c.function.arguments for c in calls]) if calls else 'text'}")
    follow = ollama_client.chat(model=MODEL, tools=[get_weather], stream=False, options=options, messages=[
        messages[0], {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "18 degrees", "tool_name": "get_weather"}])
    expect(follow.done, f"{follow}")
    for call in follow.message.tool_calls or []:
        expect(call.function.name == "get_weather" and isinstance(call.function.arguments.get("city"), str), f"{call}")
    expect(follow.message.tool_calls or follow.message.content, f"{follow}")
    bad = requests.post(url("/v1/chat/completions"), json={"model": MODEL, "messages": messages[:1], "tools": [WEATHER],
                                                            "tool_choice": {"type": "function", "function": {"name": "nope"}}},
                        timeout=60)
    expect_error(bad, 400, "invalid_request")


# ---------------------------------------------------------------- concurrency


def stream_text(prompt, max_tokens):
    body = {"model": MODEL, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    with requests.post(url("/api/generate"), json=body, stream=True, timeout=300) as response:
        events = sse_events(response)
    return "".join(json.loads(e)["choices"][0]["text"] for e in events if e != "[DONE]")


@check
def concurrent_greedy_streams():
    prompts = ["Once upon a time, in a small village,", "The three primary colors are"]
    alone = [stream_text(p, 24) for p in prompts]
    for i in range(2):
        expect(alone[i], f"prompt {i} gave no text alone; pick prompts the model continues")
    together = [None, None]

    def worker(i):
        together[i] = stream_text(prompts[i], 24)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        expect(together[i] == alone[i], f"prompt {i}: concurrent {together[i]!r} vs alone {alone[i]!r}")


@check
def raw_http_keepalive_and_chunked():
    host, port = ARGS.base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        body = json.dumps({"model": MODEL, "prompt": "Hi", "max_tokens": 2}).encode()
        half = len(body) // 2
        chunked = (f"{half:x}\r\n".encode() + body[:half] + b"\r\n" + f"{len(body) - half:x}\r\n".encode()
                   + body[half:] + b"\r\n0\r\n\r\n")
        s.sendall(b"GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /api/generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        data = b""
        deadline = time.time() + 120
        while time.time() < deadline and not (data.count(b"HTTP/1.1 200") == 2 and data.rstrip().endswith(b"}")):
            part = s.recv(65536)
            if not part:
                break
            data += part
        expect(data.count(b"HTTP/1.1 200") == 2, f"responses: {data[:400]!r}")
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            part = s.recv(65536)
            if not part:
                break
            reply += part
        expect(b" 431 " in reply.split(b"\r\n")[0], f"oversize header reply {reply[:120]!r}")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--shimmy", required=True)
    parser.add_argument("--model-path", required=True)
    ARGS = parser.parse_args()
    failures = 0
    for fn in CHECKS:
        start = time.time()
        try:
            fn()
            print(f"PASS {fn.__name__} ({time.time() - start:.1f}s)")
        except Exception as error:  # noqa: BLE001 - report every failure and go on
            failures += 1
            print(f"FAIL {fn.__name__}: {error}")
            traceback.print_exc(limit=3)
        sys.stdout.flush()
    print(f"{len(CHECKS) - failures}/{len(CHECKS)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
