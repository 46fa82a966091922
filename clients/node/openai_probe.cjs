// Probe: what openai-node does with an endpoint, one call of each kind an app makes.
//
// Each call checks the result the way an application reads it and reports `works`, `raises`
// (the error class and message) or `wrong` (what was lost or changed). Run by
// `llm-parity clients` and by llm-parity's CI (see docs/clients.md).
'use strict';

const c = require('./common.cjs');

const CLIENT = 'openai-node';
const { OpenAI, toFile } = c.load(CLIENT, 'openai');
const { zodResponseFormat } = c.load(CLIENT, 'openai/helpers/zod');
const { z } = c.load(CLIENT, 'zod');

const messages = (text) => [{ role: 'user', content: text }];

async function uploadBatchInput(ctx) {
  const content = c.batchJsonl(ctx.models.chat);
  const file = await ctx.client.files.create({
    file: await toFile(content, 'probe.jsonl', { type: 'application/jsonl' }), purpose: 'batch',
  });
  return { content, file };
}

/**
 * Runs `steps`; the uploaded file is deleted even when one throws, so a user's account keeps
 * nothing of a probe (a failed clean-up is left to the step's own error).
 */
async function deleting(ctx, fileId, steps) {
  try {
    return await steps();
  } catch (e) {
    await ctx.client.files.delete(fileId).catch(() => {});
    throw e;
  }
}

function usageProblem(usage, what = 'usage') {
  if (!usage) return `${what} is ${c.short(usage)}`;
  if (usage.total_tokens !== usage.prompt_tokens + usage.completion_tokens) {
    return `${what}: total ${usage.total_tokens} != prompt ${usage.prompt_tokens} + completion ${usage.completion_tokens}`;
  }
  return null;
}

function toolCallProblems(calls, finish) {
  if (!calls || !calls.length) return [`${(calls || []).length} tool calls, expected 1`];
  const call = calls[0];
  return [
    calls.length === 1 ? null : `${calls.length} tool calls, expected 1`,
    typeof call.id === 'string' && call.id ? null : `tool call id is ${c.short(call.id)}`,
    call.function && call.function.name === 'get_weather' ? null : `tool name is ${c.short(call.function && call.function.name)}`,
    c.checkWeatherArgs(call.function && call.function.arguments),
    finish === undefined || finish === 'tool_calls' ? null : `finish_reason is ${c.short(finish)}, not "tool_calls"`,
  ];
}

function errorProblems(e, cls, status, code, mention) {
  return [
    e instanceof cls ? null : `raised ${e.constructor.name}, not ${cls.name}`,
    e.status === status ? null : `status ${e.status}`,
    e.code === code ? null : `e.code is ${c.short(e.code)}, not "${code}"`,
    mention === null || String(e.message).includes(mention) ? null : `message "${String(e.message).slice(0, 60)}" does not carry the server's message`,
  ];
}

const calls = [
  ['chat', async (ctx) => {
    const r = await ctx.client.chat.completions.create({ model: ctx.models.chat, messages: messages(c.CHAT_PROMPT) });
    const choice = r.choices[0];
    c.expect([
      c.checkText(choice.message.content),
      choice.finish_reason === 'stop' ? null : `finish_reason is ${c.short(choice.finish_reason)}, not "stop"`,
      typeof r.id === 'string' && r.id ? null : `id is ${c.short(r.id)}`,
      usageProblem(r.usage),
    ]);
  }],
  ['stream', async (ctx) => {
    let text = '';
    const ids = [];
    const finishes = [];
    let usage = null;
    const stream = await ctx.client.chat.completions.create({
      model: ctx.models.chat, messages: messages(c.CHAT_PROMPT), stream: true, stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      ids.push(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        text += choice.delta.content || '';
        if (choice.finish_reason) finishes.push(choice.finish_reason);
      }
    }
    const distinct = [...new Set(ids.map((i) => c.short(i)))].sort();
    c.expect([
      c.checkText(text, 'streamed content'),
      ids.length && ids.every((i) => typeof i === 'string' && i && i === ids[0]) ? null : `chunk ids are ${distinct.join(', ')}`,
      usage ? null : 'no usage in the stream although include_usage was asked',
      finishes.length === 1 && finishes[0] === 'stop' ? null : `finish reasons ${c.short(finishes)}`,
    ]);
  }],
  ['stream_helper', async (ctx) => {
    const runner = ctx.client.chat.completions.stream({
      model: ctx.models.chat, messages: messages(c.CHAT_PROMPT), stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0];
    c.expect([
      c.checkText(choice.message.content, 'final content'),
      choice.message.role === 'assistant' ? null : `final message role is ${c.short(choice.message.role)}`,
      choice.finish_reason === 'stop' ? null : `final finish_reason is ${c.short(choice.finish_reason)}`,
      usageProblem(final.usage, 'final usage'),
    ]);
  }],
  ['tools', async (ctx) => {
    const r = await ctx.client.chat.completions.create({
      model: ctx.models.chat, messages: messages(c.WEATHER_PROMPT), tools: [c.WEATHER_TOOL], tool_choice: 'required',
    });
    c.expect(toolCallProblems(r.choices[0].message.tool_calls, r.choices[0].finish_reason));
  }],
  ['tools_stream', async (ctx) => {
    const runner = ctx.client.chat.completions.stream({
      model: ctx.models.chat, messages: messages(c.WEATHER_PROMPT), tools: [c.WEATHER_TOOL], tool_choice: 'required',
    });
    const final = await runner.finalChatCompletion();
    c.expect(toolCallProblems(final.choices[0].message.tool_calls));
  }],
  ['run_tools', async (ctx) => {
    // The agent loop: the SDK calls the function, sends the result back, returns the answer.
    let called = 0;
    const runner = ctx.client.chat.completions.runTools({
      model: ctx.models.chat,
      messages: messages(c.WEATHER_PROMPT),
      stream: true,
      tools: [{
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city',
          parameters: c.WEATHER_PARAMETERS,
          parse: JSON.parse,
          function: (args) => { called += 1; return { city: args.city, sky: 'sunny' }; },
        },
      }],
      tool_choice: 'auto',
    });
    const content = await runner.finalContent();
    c.expect([
      called >= 1 ? null : 'the tool was never called',
      c.checkText(content, 'final content'),
    ]);
  }],
  ['tools_round_trip', async (ctx) => {
    // The tool loop as the SDK's documentation writes it: the answer's message object goes back
    // into the history as it came, then the tool's result.
    const history = messages(c.WEATHER_PROMPT);
    const r = await ctx.client.chat.completions.create({
      model: ctx.models.chat, messages: history, tools: [c.WEATHER_TOOL], tool_choice: 'required',
    });
    const m = r.choices[0].message;
    if (!m.tool_calls || !m.tool_calls.length) throw new c.Wrong('no tool call to answer');
    history.push(m, { role: 'tool', tool_call_id: m.tool_calls[0].id, content: c.WEATHER_RESULT });
    const final = await ctx.client.chat.completions.create({ model: ctx.models.chat, messages: history, tools: [c.WEATHER_TOOL] });
    c.expect([c.checkText(final.choices[0].message.content)]);
  }],
  ['parse', async (ctx) => {
    const Answer = z.object({ city: z.string(), sunny: z.boolean() });
    const r = await ctx.client.chat.completions.parse({
      model: ctx.models.chat, messages: messages('Describe the weather in Paris as JSON.'),
      response_format: zodResponseFormat(Answer, 'answer'),
    });
    const parsed = r.choices[0].message.parsed;
    c.expect([parsed && typeof parsed.city === 'string' && typeof parsed.sunny === 'boolean' ? null : `parsed is ${c.short(parsed)}`]);
  }],
  ['embeddings', async (ctx) => {
    const model = ctx.model('embedding');
    const byDefault = (await ctx.client.embeddings.create({ model, input: 'hello world' })).data[0].embedding;
    const floats = (await ctx.client.embeddings.create({ model, input: 'hello world', encoding_format: 'float' })).data[0].embedding;
    const problem = c.checkVector(byDefault, 'the vector (SDK default encoding)');
    c.expect([problem || (c.sameVector(byDefault, floats) ? null
      : `the SDK-default vector (${byDefault.length} values) differs from the float one (${floats.length} values)`)]);
  }],
  ['embeddings_dimensions', async (ctx) => {
    const v = (await ctx.client.embeddings.create({ model: ctx.model('embedding'), input: 'hello world', dimensions: 64 })).data[0].embedding;
    c.expect([c.checkVector(v, 'the vector') || (v.length === 64 ? null : `${v.length} values, 64 asked`)]);
  }],
  ['models', async (ctx) => {
    const ids = [];
    for await (const m of ctx.client.models.list()) ids.push(m.id);
    c.expect([ids.includes(ctx.models.chat) ? null : `"${ctx.models.chat}" not among the listed ids ${c.short(ids.sort().slice(0, 3))}`]);
  }],
  ['n_choices', async (ctx) => {
    const r = await ctx.client.chat.completions.create({ model: ctx.models.chat, messages: messages(c.CHAT_PROMPT), n: 2 });
    c.expect([r.choices.length === 2 ? null : `${r.choices.length} choices, 2 asked`]);
  }],
  ['reasoning_effort', async (ctx) => {
    const r = await ctx.client.chat.completions.create({
      model: ctx.model('reasoning'), messages: messages(c.CHAT_PROMPT), reasoning_effort: 'medium',
    });
    c.expect([c.checkText(r.choices[0].message.content)]);
  }],
  ['responses', async (ctx) => {
    const r = await ctx.client.responses.create({ model: ctx.models.chat, input: c.CHAT_PROMPT });
    c.expect([c.checkText(r.output_text)]);
  }],
  ['files', async (ctx) => {
    const { content, file } = await uploadBatchInput(ctx);
    const [listed, meta, got] = await deleting(ctx, file.id, async () => [
      (await ctx.client.files.list({ purpose: 'batch' })).data.map((f) => f.id),
      await ctx.client.files.retrieve(file.id),
      Buffer.from(await (await ctx.client.files.content(file.id)).arrayBuffer()),
    ]);
    const deleted = await ctx.client.files.delete(file.id);
    c.expect([
      typeof file.id === 'string' && file.id ? null : `file id is ${c.short(file.id)}`,
      file.bytes === content.length ? null : `bytes is ${c.short(file.bytes)}, not ${content.length}`,
      listed.includes(file.id) ? null : 'the uploaded file is not on the first page of the list',
      meta.id === file.id && meta.bytes === content.length ? null : `retrieved ${c.short(meta.id)} of ${c.short(meta.bytes)} bytes`,
      got.equals(content) ? null : `downloaded ${got.length} bytes that differ from the ${content.length} uploaded`,
      deleted.deleted === true && deleted.id === file.id ? null : `delete answered deleted=${c.short(deleted.deleted)}`,
    ]);
  }],
  ['batch', async (ctx) => {
    const { file } = await uploadBatchInput(ctx);
    const [created, b, cancelled] = await deleting(ctx, file.id, async () => {
      const created = await ctx.client.batches.create({
        input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h',
      });
      const b = await ctx.client.batches.retrieve(created.id);
      // Cancelled at once, so no batch runs on a user's account; a finished one has nothing to cancel.
      const cancelled = c.CANCELLABLE.includes(b.status) ? await ctx.client.batches.cancel(b.id) : null;
      return [created, b, cancelled];
    });
    await ctx.client.files.delete(file.id);
    c.expect([
      b.id === created.id ? null : `retrieved id ${c.short(b.id)}, not ${c.short(created.id)}`,
      b.input_file_id === file.id ? null : `input_file_id is ${c.short(b.input_file_id)}, not the uploaded file`,
      c.BATCH_STATUSES.includes(b.status) ? null : `status is ${c.short(b.status)}`,
      cancelled === null || ['cancelling', 'cancelled'].includes(cancelled.status)
        ? null : `cancel answered status ${c.short(cancelled.status)}`,
    ]);
  }],
  ['speech', async (ctx) => {
    const r = await ctx.client.audio.speech.create({
      model: ctx.model('speech'), voice: 'alloy', input: c.CHAT_PROMPT, response_format: 'wav',
    });
    const audio = Buffer.from(await r.arrayBuffer());
    c.expect([
      audio.subarray(0, 4).toString('latin1') === 'RIFF' && audio.subarray(8, 12).toString('latin1') === 'WAVE'
        ? null : `the audio starts ${c.short(audio.subarray(0, 12).toString('latin1'))}, not a WAV header`,
    ]);
  }],
  ['transcription', async (ctx) => {
    const t = await ctx.client.audio.transcriptions.create({
      model: ctx.model('transcription'), file: await toFile(c.toneWav(), 'tone.wav', { type: 'audio/wav' }),
    });
    c.expect([c.checkText(t.text, 'transcript')]);
  }],
  ['error_bad_model', async (ctx) => {
    try {
      await ctx.client.chat.completions.create({ model: c.BAD_MODEL, messages: messages(c.CHAT_PROMPT) });
    } catch (e) {
      if (!(e instanceof ctx.OpenAI.APIError)) throw e;
      c.expect(errorProblems(e, ctx.OpenAI.NotFoundError, 404, 'model_not_found', c.BAD_MODEL));
      return;
    }
    throw new c.Wrong('no error for an unknown model');
  }],
  ['error_bad_key', async (ctx) => {
    try {
      await ctx.badKeyClient.chat.completions.create({ model: ctx.models.chat, messages: messages(c.CHAT_PROMPT) });
    } catch (e) {
      if (!(e instanceof ctx.OpenAI.APIError)) throw e;
      c.expect(errorProblems(e, ctx.OpenAI.AuthenticationError, 401, 'invalid_api_key', null));
      return;
    }
    throw new c.Wrong('no error for a wrong key');
  }],
  ['context_length', async (ctx) => {
    try {
      await ctx.client.chat.completions.create({
        model: ctx.models.chat, messages: messages(c.filler(c.contextWords())), max_tokens: 8,
      });
    } catch (e) {
      if (!(e instanceof ctx.OpenAI.APIError)) throw e;
      c.expect(errorProblems(e, ctx.OpenAI.BadRequestError, 400, 'context_length_exceeded', null));
      return;
    }
    throw new c.Wrong('no error for a prompt longer than the context');
  }],
];

const job = c.job();
const options = (key, target) => ({ apiKey: key || 'none', baseURL: target.base_url, maxRetries: 0, timeout: 30000 });
c.run(CLIENT, { openai: c.versionOf('openai'), zod: c.versionOf('zod') }, calls, job, (target) => ({
  OpenAI,
  models: job.models,
  model: (role) => {
    if (!job.models[role]) throw new c.NotApplicable(`no ${role} model configured`);
    return job.models[role];
  },
  client: new OpenAI(options(job.key, target)),
  badKeyClient: new OpenAI(options(c.BAD_KEY, target)),
})).catch((e) => {
  console.error(e);
  process.exit(1);
});
