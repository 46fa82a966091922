// Probe: what the Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`) does with an endpoint,
// one call of each kind an app makes. Same contract as openai_probe.cjs (docs/clients.md).
'use strict';

const c = require('./common.cjs');

const CLIENT = 'vercel-ai';
const ai = c.load(CLIENT, 'ai');
const { createOpenAICompatible } = c.load(CLIENT, '@ai-sdk/openai-compatible');

// The provider name is also the key of its provider options.
const NAME = 'probe';

const weatherTool = () => ai.tool({ description: 'The weather in a city', inputSchema: ai.jsonSchema(c.WEATHER_PARAMETERS) });

function toolCallProblems(calls, finish) {
  if (!calls || !calls.length) return [`${(calls || []).length} tool calls, expected 1`];
  const call = calls[0];
  return [
    calls.length === 1 ? null : `${calls.length} tool calls, expected 1`,
    typeof call.toolCallId === 'string' && call.toolCallId ? null : `toolCallId is ${c.short(call.toolCallId)}`,
    call.toolName === 'get_weather' ? null : `toolName is ${c.short(call.toolName)}`,
    c.checkWeatherObject(call.input),
    finish === undefined || finish === 'tool-calls' ? null : `finishReason is ${c.short(finish)}, not "tool-calls"`,
  ];
}

function usageProblem(usage, what = 'usage') {
  if (!usage || typeof usage.totalTokens !== 'number') return `${what}.totalTokens is ${c.short(usage && usage.totalTokens)}`;
  if (usage.totalTokens !== usage.inputTokens + usage.outputTokens) {
    return `${what}: total ${usage.totalTokens} != input ${usage.inputTokens} + output ${usage.outputTokens}`;
  }
  return null;
}

/** A stream's outcome: the text and everything awaited from it, plus the errors it reported. */
async function drain(result) {
  const errors = [];
  let text = '';
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') text += part.text;
    if (part.type === 'error') errors.push(part.error);
  }
  if (errors.length) throw errors[0];
  return text;
}

function statusProblems(e, status, mention) {
  return [
    e.statusCode === status ? null : `statusCode ${e.statusCode}, not ${status}`,
    mention === null || String(e.message).includes(mention) ? null : `message "${String(e.message).slice(0, 60)}" does not carry the server's message`,
  ];
}

const calls = [
  ['chat', async (ctx) => {
    const r = await ai.generateText({ model: ctx.chat(), prompt: c.CHAT_PROMPT, maxRetries: 0 });
    c.expect([
      c.checkText(r.text),
      r.finishReason === 'stop' ? null : `finishReason is ${c.short(r.finishReason)}, not "stop"`,
      usageProblem(r.usage),
    ]);
  }],
  ['stream', async (ctx) => {
    const result = ai.streamText({ model: ctx.chat(), prompt: c.CHAT_PROMPT, maxRetries: 0 });
    const text = await drain(result);
    const finish = await result.finishReason;
    const usage = await result.usage;
    const response = await result.response;
    c.expect([
      c.checkText(text, 'streamed text'),
      finish === 'stop' ? null : `finishReason is ${c.short(finish)}, not "stop"`,
      usageProblem(usage),
      typeof response.id === 'string' && response.id ? null : `response id is ${c.short(response.id)}`,
    ]);
  }],
  ['tools', async (ctx) => {
    const r = await ai.generateText({
      model: ctx.chat(), prompt: c.WEATHER_PROMPT, tools: { get_weather: weatherTool() }, toolChoice: 'required', maxRetries: 0,
    });
    c.expect(toolCallProblems(r.toolCalls, r.finishReason));
  }],
  ['tools_stream', async (ctx) => {
    const result = ai.streamText({
      model: ctx.chat(), prompt: c.WEATHER_PROMPT, tools: { get_weather: weatherTool() }, toolChoice: 'required', maxRetries: 0,
    });
    await drain(result);
    c.expect(toolCallProblems(await result.toolCalls, await result.finishReason));
  }],
  ['run_tools', async (ctx) => {
    // The agent loop: the SDK runs the tool, sends the result back, returns the answer.
    let called = 0;
    const r = await ai.generateText({
      model: ctx.chat(),
      prompt: c.WEATHER_PROMPT,
      tools: {
        get_weather: ai.tool({
          description: 'The weather in a city',
          inputSchema: ai.jsonSchema(c.WEATHER_PARAMETERS),
          execute: async (args) => { called += 1; return { city: args.city, sky: 'sunny' }; },
        }),
      },
      stopWhen: ai.stepCountIs(3),
      maxRetries: 0,
    });
    c.expect([called >= 1 ? null : 'the tool was never called', c.checkText(r.text, 'final text')]);
  }],
  ['parse', async (ctx) => {
    const r = await ai.generateObject({
      model: ctx.chat(),
      prompt: 'Describe the weather in Paris as JSON.',
      schema: ai.jsonSchema({
        type: 'object',
        properties: { city: { type: 'string' }, sunny: { type: 'boolean' } },
        required: ['city', 'sunny'],
        additionalProperties: false,
      }),
      maxRetries: 0,
    });
    const o = r.object;
    c.expect([o && typeof o.city === 'string' && typeof o.sunny === 'boolean' ? null : `object is ${c.short(o)}`]);
  }],
  ['embeddings', async (ctx) => {
    const r = await ai.embed({ model: ctx.embedding(), value: 'hello world', maxRetries: 0 });
    c.expect([c.checkVector(r.embedding, 'the vector')]);
  }],
  ['embeddings_dimensions', async (ctx) => {
    const r = await ai.embed({
      model: ctx.embedding(), value: 'hello world', maxRetries: 0, providerOptions: { [NAME]: { dimensions: 64 } },
    });
    c.expect([c.checkVector(r.embedding, 'the vector') || (r.embedding.length === 64 ? null : `${r.embedding.length} values, 64 asked`)]);
  }],
  ['reasoning_effort', async (ctx) => {
    const r = await ai.generateText({
      model: ctx.provider(ctx.model('reasoning')), prompt: c.CHAT_PROMPT, maxRetries: 0,
      providerOptions: { [NAME]: { reasoningEffort: 'medium' } },
    });
    c.expect([c.checkText(r.text)]);
  }],
  ['error_bad_model', async (ctx) => {
    try {
      await ai.generateText({ model: ctx.provider(c.BAD_MODEL), prompt: c.CHAT_PROMPT, maxRetries: 0 });
    } catch (e) {
      if (!ai.APICallError.isInstance(e)) throw e;
      c.expect(statusProblems(e, 404, c.BAD_MODEL));
      return;
    }
    throw new c.Wrong('no error for an unknown model');
  }],
  ['error_bad_key', async (ctx) => {
    try {
      await ai.generateText({ model: ctx.badKeyProvider(ctx.models.chat), prompt: c.CHAT_PROMPT, maxRetries: 0 });
    } catch (e) {
      if (!ai.APICallError.isInstance(e)) throw e;
      c.expect(statusProblems(e, 401, null));
      return;
    }
    throw new c.Wrong('no error for a wrong key');
  }],
  ['context_length', async (ctx) => {
    // What an app reads from the SDK's APICallError: the status and the provider's error code.
    try {
      await ai.generateText({ model: ctx.chat(), prompt: c.filler(c.contextWords()), maxOutputTokens: 8, maxRetries: 0 });
    } catch (e) {
      if (!ai.APICallError.isInstance(e)) throw e;
      const code = e.data && e.data.error ? e.data.error.code : undefined;
      c.expect([
        ...statusProblems(e, 400, null),
        code === 'context_length_exceeded' ? null : `data.error.code is ${c.short(code)}, not "context_length_exceeded"`,
      ]);
      return;
    }
    throw new c.Wrong('no error for a prompt longer than the context');
  }],
];

const job = c.job();
const provider = (key, target) => createOpenAICompatible({
  name: NAME, baseURL: target.base_url, apiKey: key || 'none', includeUsage: true, supportsStructuredOutputs: true,
});
const versions = { ai: c.versionOf('ai'), '@ai-sdk/openai-compatible': c.versionOf('@ai-sdk/openai-compatible') };
c.run(CLIENT, versions, calls, job, (target) => {
  const p = provider(job.key, target);
  return {
    models: job.models,
    provider: p,
    badKeyProvider: provider(c.BAD_KEY, target),
    model: (role) => {
      if (!job.models[role]) throw new c.NotApplicable(`no ${role} model configured`);
      return job.models[role];
    },
    chat: () => p(job.models.chat),
    embedding: () => {
      if (!job.models.embedding) throw new c.NotApplicable('no embedding model configured');
      return p.embeddingModel(job.models.embedding);
    },
  };
}).catch((e) => {
  console.error(e);
  process.exit(1);
});
