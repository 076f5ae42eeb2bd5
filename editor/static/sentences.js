// sentences.js: the words of each schema error, what is allowed, never a raw regular
// expression: the same sentences as runtime/schema_errors.py, so the form and
// `portless validate` say the same (tests/editor/test_error_sentences.py runs both over
// one table of cases). A schema says it better itself with x-error (the sentence for a
// value failing that schema's own keywords) and a title on each branch of a choice.

export const ERROR_KEYWORD = 'x-error';
/** The x-error of a node id in runtime/flow.schema.json (a test keeps the two equal). */
export const ID_SENTENCE = 'must start with a letter or digit and hold only letters, digits and _ . : -';
export const TYPE_WORDS = { string: 'text', number: 'a number', integer: 'a whole number',
  boolean: 'true or false', null: 'null', object: 'an object', array: 'a list' };

const listed = (value) => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const plural = (n) => (n === 1 ? '' : 's');

/** A JSON value as JSON.stringify writes it (numbers as JavaScript prints them). */
export const show = (value) => JSON.stringify(value);
export const number = (value) => (typeof value === 'number' ? String(value) : show(value));

/** "a", "a or b", "a, b or c". */
export function either(parts) {
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

export const oneOf = (values) => (values.length === 1 ? show(values[0]) : `one of ${either(values.map(show))}`);

const LIMITS = { minimum: 'must be at least', maximum: 'must be at most',
  exclusiveMinimum: 'must be more than', exclusiveMaximum: 'must be less than', multipleOf: 'must be a multiple of' };
const LENGTHS = { minLength: ['must be at least', 'character', ' long'], maxLength: ['must be at most', 'character', ' long'],
  minItems: ['must hold at least', 'item', ''], maxItems: ['must hold at most', 'item', ''],
  minProperties: ['must hold at least', 'field', ''], maxProperties: ['must hold at most', 'field', ''] };

/** The sentence for a value failing one keyword (whose value is limit) of a schema;
 * the schema's own x-error first. */
export function sentence(keyword, limit, schema) {
  if (typeof schema[ERROR_KEYWORD] === 'string') return schema[ERROR_KEYWORD];
  if (keyword === 'type') return `must be ${either(listed(limit).map((t) => TYPE_WORDS[t] || t))}`;
  if (keyword === 'const') return `must be ${show(limit)}`;
  if (keyword === 'enum') return `must be ${oneOf(limit)}`;
  if (keyword === 'pattern') {
    return `is not in the form this field takes${schema.description ? `: ${schema.description}` : ''}`;
  }
  if (keyword in LIMITS) return `${LIMITS[keyword]} ${number(limit)}`;
  if (keyword === 'minLength' && limit === 1) return 'must not be empty';
  if (keyword in LENGTHS) {
    const [lead, noun, tail] = LENGTHS[keyword];
    return `${lead} ${limit} ${noun}${plural(limit)}${tail}`;
  }
  return `does not fit this field (${keyword}: ${show(limit)})`;
}

/** What a branch of a choice allows, in words: its title, else from its keywords. */
export function words(schema) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema === true ? 'anything' : 'nothing';
  if (typeof schema.title === 'string') return schema.title;
  if ('const' in schema) return show(schema.const);
  if (Array.isArray(schema.enum)) return oneOf(schema.enum);
  const kinds = listed(schema.type);
  if (!kinds.length) return 'a value of another form';
  let said = kinds.map((t) => TYPE_WORDS[t] || t);
  if (kinds.length === 1 && kinds[0] === 'string' && 'pattern' in schema) said = ['text in the form this field takes'];
  const low = schema.minimum;
  const high = schema.maximum;
  if (kinds.every((t) => t === 'number' || t === 'integer') && (low !== undefined || high !== undefined)) {
    const range = low !== undefined && high !== undefined ? ` from ${number(low)} to ${number(high)}`
      : low !== undefined ? ` of at least ${number(low)}` : ` of at most ${number(high)}`;
    said = [said[0] + range];
  }
  return either(said);
}

/** The sentence for a value that fits no branch of a oneOf/anyOf. */
export const choiceSentence = (schema, branches) => (typeof schema[ERROR_KEYWORD] === 'string'
  ? schema[ERROR_KEYWORD] : `must be ${either(branches.map(words))}`);

export const unknownField = (key, known) => {
  const close = closestName(key, known);
  return `unknown field '${key}'${close ? `; did you mean '${close}'?` : ''}`;
};

/** "an io-in", "a debug", "an mqtt-broker": the indefinite article by the first sound,
 * as runtime/flow.py's with_article (MQTT is said letter by letter). */
export const withArticle = (noun) => `${/^([aeiou]|mqtt)/i.test(noun) ? 'an' : 'a'} ${noun}`;

export const SIMILARITY_CUTOFF = 0.75;

/** The one known name close enough to be a likely typo, as runtime/registry.py's
 * closest_name (difflib.get_close_matches, n=1): "change" does not suggest "scale". */
export function closestName(name, known) {
  let best = null;
  let bestScore = -1;
  for (const candidate of known) {
    const score = similarity(String(name), candidate);
    if (score < SIMILARITY_CUTOFF) continue;
    if (score > bestScore || (score === bestScore && candidate > best)) [best, bestScore] = [candidate, score];
  }
  return best;
}

/** difflib.SequenceMatcher(None, a, b).ratio() for short strings (no junk heuristics):
 * twice the matched characters (longest common blocks, recursively) over both lengths. */
export function similarity(a, b) {
  if (!a.length && !b.length) return 1;
  const matched = (alo, ahi, blo, bhi) => {
    let [bestI, bestJ, size] = [alo, blo, 0];
    let previous = new Map();
    for (let i = alo; i < ahi; i += 1) {
      const current = new Map();
      for (let j = blo; j < bhi; j += 1) {
        if (a[i] !== b[j]) continue;
        const k = (previous.get(j - 1) || 0) + 1;
        current.set(j, k);
        if (k > size) [bestI, bestJ, size] = [i - k + 1, j - k + 1, k];
      }
      previous = current;
    }
    if (!size) return 0;
    return size + matched(alo, bestI, blo, bestJ) + matched(bestI + size, ahi, bestJ + size, bhi);
  };
  return (2 * matched(0, a.length, 0, b.length)) / (a.length + b.length);
}
