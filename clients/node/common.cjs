// What every Node probe shares: reading the job from the environment, running each call,
// turning what happened into a status and a symptom, and printing one JSON line per result.
//
// The API key comes from LLM_PARITY_PROBE_KEY and is only handed to the client library; it is
// masked in every symptom. Packages are loaded with require(), which honours NODE_PATH, so the
// same script uses the project's pinned modules in CI and the user's own installation in
// `llm-parity clients`.
'use strict';

class Wrong extends Error {}
class NotApplicable extends Error {}

// The key, masked in every text before it is cut (a cut key would no longer match).
let KEY = '';

function job() {
  const env = process.env;
  KEY = env.LLM_PARITY_PROBE_KEY || '';
  return {
    targets: JSON.parse(env.LLM_PARITY_PROBE_TARGETS),
    models: JSON.parse(env.LLM_PARITY_PROBE_MODELS || '{}'),
    key: env.LLM_PARITY_PROBE_KEY || '',
    selected: (env.LLM_PARITY_PROBE_CALLS || '').split(',').filter(Boolean),
  };
}

function emit(obj) {
  const sorted = {};
  for (const k of Object.keys(obj).sort()) sorted[k] = obj[k];
  process.stdout.write(JSON.stringify(sorted) + '\n');
}

function normalise(text, key) {
  let t = String(text);
  for (const secret of [key, KEY]) {
    if (secret) t = t.split(secret).join('***');
  }
  t = t.replace(/(127\.0\.0\.1|localhost|\[::1\]):\d+/g, '$1:PORT').replace(/\s+/g, ' ').trim();
  return t.slice(0, 240);
}

function short(value) {
  let s;
  try {
    s = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch (e) {
    s = String(value);
  }
  s = normalise(s, '');
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

function symptomOf(err, key) {
  const name = (err && err.constructor && err.constructor.name) || typeof err;
  const message = err && err.message !== undefined ? err.message : String(err);
  return normalise(`${name}: ${message}`, key);
}

function expect(problems) {
  const found = problems.filter(Boolean);
  if (found.length) throw new Wrong(found.join('; '));
}

/** Loads a package, or reports the client as not installed and exits 3. */
function load(client, name) {
  try {
    return require(name);
  } catch (e) {
    emit({ type: 'missing', client, error: `cannot load ${name}: ${String(e.message).split('\n')[0]}` });
    process.exit(3);
  }
}

function versionOf(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch (e) {
    // Packages whose exports hide package.json: find it beside the resolved entry point.
    const path = require('path');
    const fs = require('fs');
    let dir = path.dirname(require.resolve(name));
    while (dir !== path.dirname(dir)) {
      const p = path.join(dir, 'package.json');
      if (fs.existsSync(p)) {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8'));
        if (pkg.name === name) return pkg.version;
      }
      dir = path.dirname(dir);
    }
    return 'unknown';
  }
}

// Calls that send more than a short prompt run only when asked for: `context_length` sends a
// prompt of LLM_PARITY_PROBE_CONTEXT_WORDS words (`llm-parity clients --context-words N`).
const OPT_IN_CALLS = { context_length: 'LLM_PARITY_PROBE_CONTEXT_WORDS' };

// The words of llm-parity's `{{filler:N}}` template: about one token each on mainstream tokenizers.
const FILLER_WORDS = 'the of and to in is that for it as with was on be at by'.split(' ');

/** How many filler words the context_length call sends (0: the call is not run). */
function contextWords() {
  return Number(process.env.LLM_PARITY_PROBE_CONTEXT_WORDS || 0);
}

function filler(n) {
  const words = new Array(n);
  for (let i = 0; i < n; i++) words[i] = FILLER_WORDS[i % FILLER_WORDS.length];
  return words.join(' ');
}

async function run(client, versions, calls, job, makeContext) {
  emit({ type: 'client', client, versions });
  for (const target of job.targets) {
    const ctx = makeContext(target);
    for (const [name, fn] of calls) {
      if (job.selected.length && !job.selected.includes(name)) continue;
      if (OPT_IN_CALLS[name] && !process.env[OPT_IN_CALLS[name]]) continue;
      let status = 'works';
      let symptom = '';
      try {
        await fn(ctx);
      } catch (e) {
        if (e instanceof Wrong) {
          status = 'wrong';
          symptom = normalise(e.message, job.key);
        } else if (e instanceof NotApplicable) {
          status = 'n/a';
          symptom = normalise(e.message, job.key);
        } else {
          status = 'raises';
          symptom = symptomOf(e, job.key);
          if (process.env.LLM_PARITY_PROBE_DEBUG) console.error(e);
        }
      }
      emit({ type: 'call', target: target.name, call: name, status, symptom });
    }
  }
}

function checkText(text, what = 'content') {
  if (typeof text !== 'string') return `${what} is ${short(text)}, not a string`;
  if (!text.trim()) return `${what} is empty`;
  return null;
}

/** Tool-call arguments as an app reads them: a JSON string holding `city`. */
function checkWeatherArgs(raw, what = 'arguments') {
  if (typeof raw !== 'string') return `${what} is ${typeof raw} ${short(raw)}, not a JSON string`;
  let args;
  try {
    args = JSON.parse(raw);
  } catch (e) {
    return `${what} are not JSON (${e.message})`;
  }
  if (!args || typeof args !== 'object' || typeof args.city !== 'string') return `${what} ${short(args)} have no string \`city\``;
  return null;
}

/** Parsed tool arguments (Vercel, LangChain hand over objects). */
function checkWeatherObject(args, what = 'input') {
  if (!args || typeof args !== 'object' || typeof args.city !== 'string') return `${what} ${short(args)} has no string \`city\``;
  return null;
}

function checkVector(vec, what) {
  const arr = vec && typeof vec.length === 'number' ? Array.from(vec) : null;
  if (!arr || !arr.length) return `${what} is ${short(vec)}, not a list of numbers`;
  if (!arr.every((x) => typeof x === 'number' && Number.isFinite(x))) return `${what} holds non-finite values`;
  return null;
}

function sameVector(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  return x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= 1e-5);
}

const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};
const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: WEATHER_PARAMETERS },
};
const WEATHER_PROMPT = 'What is the weather in Paris? Use the tool.';
// The tool's result a round trip sends back.
const WEATHER_RESULT = '{"city": "Paris", "temperature_c": 18, "conditions": "sunny"}';
const CHAT_PROMPT = 'Say hello in one short sentence.';
const BAD_MODEL = 'no-such-model-llm-parity';
const BAD_KEY = 'wrong-key-llm-parity-probe';
// A batch's statuses (any of them is a valid answer to a retrieve right after the create).
const BATCH_STATUSES = [
  'validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled',
];
// The statuses a batch can be cancelled in.
const CANCELLABLE = ['validating', 'in_progress', 'finalizing'];

/** A batch input file of one chat request, as uploaded for a batch. */
function batchJsonl(model) {
  const line = {
    custom_id: 'probe-1', method: 'POST', url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: CHAT_PROMPT }] },
  };
  return Buffer.from(JSON.stringify(line) + '\n');
}

/** Half a second of 16 kHz mono 16-bit silence in a WAV container, to transcribe. */
function toneWav() {
  const data = 2 * 8000;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0); b.writeUInt32LE(36 + data, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24); b.writeUInt32LE(32000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(data, 40);
  return b;
}

module.exports = {
  Wrong, NotApplicable, job, emit, run, expect, load, versionOf, short, checkText,
  checkWeatherArgs, checkWeatherObject, checkVector, sameVector, WEATHER_PARAMETERS, WEATHER_TOOL,
  WEATHER_PROMPT, CHAT_PROMPT, BAD_MODEL, BAD_KEY, BATCH_STATUSES, CANCELLABLE, batchJsonl, toneWav,
  contextWords, filler, WEATHER_RESULT,
};
